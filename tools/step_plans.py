"""The step plans of the tools with several effects (``ToolSpec.steps`` in the registry).

``charge_card``: prepare checks the amount against the quote and vaults the card (the card
number becomes a token), then authorize → capture → receipt. ``book_tour``: prepare looks
the listing up, then hold the slot → confirm the event → send the confirmation. Each step
passes its own key to its backend (see :mod:`tools.steps` for the contract); the order,
the retries and the journal are the executor's.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tools.actions import spoken_day, spoken_time, street_address
from tools.errors import Conflict
from tools.models import BookTourArgs, BookTourResult, ChargeCardArgs, ChargeCardResult, format_cents
from tools.sandbox import Sandbox
from tools.steps import Outputs, Step, StepContext, StepPlan, expect_args

# --- charge_card: authorize → capture → receipt -----------------------------------------


async def _prepare_charge(sb: Sandbox, args: BaseModel) -> dict[str, Any]:
    """Check the amount against the renewal quote, then vault the card.

    Same rules as :func:`tools.actions.charge_card`: ``NotFound`` for an unknown policy,
    ``Conflict`` if the policy cannot be renewed or the amount is not the premium,
    ``PermanentToolError(invalid_card)`` for a bad number. The returned arguments carry
    the token and last four digits, never the number.
    """
    expect_args(args, ChargeCardArgs)
    assert isinstance(args, ChargeCardArgs)
    quote = await asyncio.to_thread(sb.policies.renewal_quote, args.policy_number)
    if args.amount_cents != quote.amount_cents:
        raise Conflict(
            f"The amount {format_cents(args.amount_cents)} doesn't match the renewal premium of "
            f"{format_cents(quote.amount_cents)} for {args.policy_number}."
        )
    token, last4 = await asyncio.to_thread(sb.payments.tokenize, args.card_number.get_secret_value())
    return {
        "policy_number": args.policy_number,
        "amount_cents": args.amount_cents,
        "card_token": token,
        "card_last4": last4,
    }


async def _authorize(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    a = ctx.args
    authorization_id = await asyncio.to_thread(
        sb.payments.authorize, a["policy_number"], a["amount_cents"], a["card_token"], ctx.key
    )
    return {"authorization_id": authorization_id}


async def _capture(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    charge_id = await asyncio.to_thread(sb.payments.capture, ctx.outputs["authorize"]["authorization_id"], ctx.key)
    return {"charge_id": charge_id, "status": "succeeded"}


async def _receipt(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    receipt_id = await asyncio.to_thread(sb.payments.send_receipt, ctx.outputs["capture"]["charge_id"], ctx.key)
    return {"receipt_id": receipt_id}


def _finish_charge(args: dict[str, Any], outputs: Outputs) -> dict[str, Any]:
    capture = outputs["capture"]
    return ChargeCardResult(
        charge_id=capture["charge_id"],
        policy_number=args["policy_number"],
        amount_cents=args["amount_cents"],
        amount_text=format_cents(args["amount_cents"]),
        card_last4=args["card_last4"],
        card_token=args["card_token"],
        status=capture["status"],
    ).model_dump(mode="json")


# --- book_tour: hold_slot → confirm_event → send_confirmation ---------------------------


async def _prepare_booking(sb: Sandbox, args: BaseModel) -> dict[str, Any]:
    """Look the listing up (``NotFound`` before any effect) and keep its address for the
    confirmation sentence."""
    expect_args(args, BookTourArgs)
    assert isinstance(args, BookTourArgs)
    listing = await asyncio.to_thread(sb.listings.get, args.listing_id)
    return {
        "listing_id": listing.listing_id,
        "slot_start": args.slot_start.isoformat(timespec="seconds"),
        "name": args.name,
        "phone": args.phone,
        "address": listing.address,
        "area": listing.area,
    }


async def _hold_slot(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    a = ctx.args
    hold_id = await asyncio.to_thread(
        sb.calendar.hold, a["listing_id"], datetime.fromisoformat(a["slot_start"]), a["phone"], ctx.key
    )
    return {"hold_id": hold_id}


async def _confirm_event(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    a = ctx.args
    booking_id = await asyncio.to_thread(
        sb.calendar.confirm, ctx.outputs["hold_slot"]["hold_id"], a["name"], a["phone"], ctx.key
    )
    return {"booking_id": booking_id}


async def _send_confirmation(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    message_id = await asyncio.to_thread(
        sb.calendar.send_confirmation, ctx.outputs["confirm_event"]["booking_id"], ctx.key
    )
    return {"message_id": message_id}


def _finish_booking(args: dict[str, Any], outputs: Outputs) -> dict[str, Any]:
    start = datetime.fromisoformat(args["slot_start"])
    booking_id = outputs["confirm_event"]["booking_id"]
    confirmation = (
        f"You're booked to tour {street_address(args['address'])} in {args['area']} on "
        f"{spoken_day(start)} at {spoken_time(start)}. Your confirmation number is {booking_id}."
    )
    return BookTourResult(
        booking_id=booking_id,
        listing_id=args["listing_id"],
        address=args["address"],
        slot_start=start,
        confirmation=confirmation,
    ).model_dump(mode="json")


CHARGE_CARD_STEPS = StepPlan(
    prepare=_prepare_charge,
    steps=(Step("authorize", _authorize), Step("capture", _capture), Step("receipt", _receipt)),
    finish=_finish_charge,
)

BOOK_TOUR_STEPS = StepPlan(
    prepare=_prepare_booking,
    steps=(
        Step("hold_slot", _hold_slot),
        Step("confirm_event", _confirm_event),
        Step("send_confirmation", _send_confirmation),
    ),
    finish=_finish_booking,
)
