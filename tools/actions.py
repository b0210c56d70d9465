"""The business actions the voice agent can take.

Each action is ``async def name(sb: Sandbox, args: NameArgs) -> NameResult``; actions
with an external effect also take a keyword-only ``idempotency_key`` that is passed to
the backend, so a retried call (same key) returns the original booking/charge/case
instead of making a second one.

Backends are synchronous SQLite code; every call goes through ``asyncio.to_thread`` so a
slow or fault-injected backend never stalls the event loop that is also streaming audio.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from loguru import logger

from tools.errors import Conflict
from tools.models import (
    BookTourArgs,
    BookTourResult,
    ChargeCardArgs,
    ChargeCardResult,
    CheckAvailabilityArgs,
    CheckAvailabilityResult,
    CreateCaseArgs,
    CreateCaseResult,
    FindListingsArgs,
    FindListingsResult,
    GetRenewalQuoteArgs,
    GetRenewalQuoteResult,
    ListingSummary,
    SaveCallerDetailsArgs,
    SaveCallerDetailsResult,
    UpdateOpportunityArgs,
    UpdateOpportunityResult,
    VerifyIdentityArgs,
    VerifyIdentityResult,
    format_cents,
    format_dollars,
)
from tools.sandbox import Sandbox

MAX_LISTINGS = 3


def spoken_time(moment: datetime) -> str:
    """14:00 → "2 PM", 14:30 → "2:30 PM": how a person says a tour time."""
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix}"


def spoken_day(moment: datetime) -> str:
    """"Tuesday, June 3": weekday included because callers anchor on it."""
    return f"{moment:%A}, {moment:%B} {moment.day}"


def street_address(address: str) -> str:
    """"412 Grand Ave, Oakland, CA 94610" → "412 Grand Ave" (the zip code is noise aloud)."""
    return address.split(",", 1)[0].strip()


async def save_caller_details(sb: Sandbox, args: SaveCallerDetailsArgs) -> SaveCallerDetailsResult:
    """Record what the caller told us. No backend write: the details live in the
    conversation state; normalizing them here lets the agent read back exactly what it
    understood ("5 1 0, 5 5 5, ...") before anything is booked with them."""
    fields = args.model_dump()
    return SaveCallerDetailsResult(**fields, saved=[key for key, value in fields.items() if value is not None])


async def find_listings(sb: Sandbox, args: FindListingsArgs) -> FindListingsResult:
    """Up to three listings in the area within budget, cheapest first.

    No match is a normal answer (empty list), not an error; the areas we do cover are
    returned with it so the agent can offer an alternative instead of a dead end.
    """
    found = await asyncio.to_thread(sb.listings.search, args.area, args.max_price, args.bedrooms, MAX_LISTINGS)
    summaries = [
        ListingSummary(
            listing_id=listing.listing_id,
            address=listing.address,
            area=listing.area,
            price=listing.price,
            price_text=format_dollars(listing.price),
            bedrooms=listing.bedrooms,
        )
        for listing in found
    ]
    areas = [] if summaries else await asyncio.to_thread(sb.listings.areas)
    return FindListingsResult(listings=summaries, available_areas=areas)


async def check_availability(sb: Sandbox, args: CheckAvailabilityArgs) -> CheckAvailabilityResult:
    """Free tour start times for a listing on one day (``NotFound`` for an unknown listing)."""
    listing = await asyncio.to_thread(sb.listings.get, args.listing_id)
    free = await asyncio.to_thread(sb.calendar.free_slots, args.listing_id, args.date)
    return CheckAvailabilityResult(
        listing_id=listing.listing_id,
        address=listing.address,
        date=args.date,
        slots=[slot.isoformat(timespec="seconds") for slot in free],
    )


async def book_tour(sb: Sandbox, args: BookTourArgs, *, idempotency_key: str | None = None) -> BookTourResult:
    """Book a tour slot: ``Conflict`` if it is taken, ``NotFound`` for a bad listing/slot."""
    listing = await asyncio.to_thread(sb.listings.get, args.listing_id)
    booking = await asyncio.to_thread(
        sb.calendar.book, args.listing_id, args.slot_start, args.name, args.phone, idempotency_key
    )
    confirmation = (
        f"You're booked to tour {street_address(listing.address)} in {listing.area} on "
        f"{spoken_day(booking.slot_start)} at {spoken_time(booking.slot_start)}. "
        f"Your confirmation number is {booking.booking_id}."
    )
    return BookTourResult(
        booking_id=booking.booking_id,
        listing_id=booking.listing_id,
        address=listing.address,
        slot_start=booking.slot_start,
        confirmation=confirmation,
    )


async def update_opportunity(
    sb: Sandbox, args: UpdateOpportunityArgs, *, idempotency_key: str | None = None
) -> UpdateOpportunityResult:
    """Create or update the caller's CRM opportunity (keyed by phone); notes are appended."""
    opportunity = await asyncio.to_thread(
        sb.crm.upsert, args.phone, args.name, args.stage, args.listing_id, args.note, idempotency_key
    )
    return UpdateOpportunityResult(
        opportunity_id=opportunity.opportunity_id, stage=opportunity.stage, listing_id=opportunity.listing_id
    )


async def verify_identity(sb: Sandbox, args: VerifyIdentityArgs) -> VerifyIdentityResult:
    """Check the date of birth against the policy. The holder's name is only revealed on
    success, so a wrong guess learns nothing about whose policy it is."""
    policy = await asyncio.to_thread(sb.policies.verify, args.policy_number, args.date_of_birth)
    if policy is None:
        logger.info("verify_identity: {} not verified", args.policy_number)
        return VerifyIdentityResult(policy_number=args.policy_number, verified=False, holder_name=None)
    return VerifyIdentityResult(policy_number=policy.policy_number, verified=True, holder_name=policy.holder_name)


async def get_renewal_quote(sb: Sandbox, args: GetRenewalQuoteArgs) -> GetRenewalQuoteResult:
    """The renewal premium, with the exact text to read aloud."""
    quote = await asyncio.to_thread(sb.policies.renewal_quote, args.policy_number)
    return GetRenewalQuoteResult(
        quote_id=quote.quote_id,
        policy_number=quote.policy_number,
        amount_cents=quote.amount_cents,
        currency=quote.currency,
        amount_text=format_cents(quote.amount_cents),
    )


async def charge_card(sb: Sandbox, args: ChargeCardArgs, *, idempotency_key: str | None = None) -> ChargeCardResult:
    """Charge the renewal premium to a card.

    The amount must equal the policy's renewal quote (``Conflict`` otherwise): the agent
    may only take the money the caller was quoted, never a number the planner made up.
    The card number leaves this function only as a token and its last four digits.
    """
    quote = await asyncio.to_thread(sb.policies.renewal_quote, args.policy_number)
    if args.amount_cents != quote.amount_cents:
        raise Conflict(
            f"The amount {format_cents(args.amount_cents)} doesn't match the renewal premium of "
            f"{format_cents(quote.amount_cents)} for {args.policy_number}."
        )
    charge = await asyncio.to_thread(
        sb.payments.charge, args.policy_number, args.amount_cents, args.card_number.get_secret_value(), idempotency_key
    )
    return ChargeCardResult(
        charge_id=charge.charge_id,
        policy_number=charge.policy_number,
        amount_cents=charge.amount_cents,
        amount_text=format_cents(charge.amount_cents),
        card_last4=charge.card_last4,
        card_token=charge.card_token,
        status=charge.status,
    )


async def create_case(sb: Sandbox, args: CreateCaseArgs, *, idempotency_key: str | None = None) -> CreateCaseResult:
    """Open a case for a person to follow up: the agent's way out when it cannot finish."""
    case = await asyncio.to_thread(
        sb.cases.create, args.reason, args.summary, args.name, args.phone, args.policy_number, idempotency_key
    )
    return CreateCaseResult(case_id=case.case_id, reason=case.reason)
