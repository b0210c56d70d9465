"""Each action's happy path and failures, against a real SQLite sandbox file."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

import pytest
from pydantic import SecretStr

from tools import actions
from tools.errors import Conflict, NotFound, PermanentToolError
from tools.models import (
    BookTourArgs,
    ChargeCardArgs,
    CheckAvailabilityArgs,
    CreateCaseArgs,
    FindListingsArgs,
    GetRenewalQuoteArgs,
    SaveCallerDetailsArgs,
    UpdateOpportunityArgs,
    VerifyIdentityArgs,
)
from tools.registry import run_tool
from tools.sandbox import Sandbox

VISA = "4242424242424242"


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour))


def book_args(day: date, hour: int, listing_id: str = "L-101") -> BookTourArgs:
    return BookTourArgs(listing_id=listing_id, slot_start=at(day, hour), name="Maria Gonzalez", phone="5105550142")


# --- save_caller_details ---------------------------------------------------------------


async def test_save_caller_details_normalizes_speech(sb: Sandbox) -> None:
    args = SaveCallerDetailsArgs.model_validate(
        {
            "name": "  maria gonzalez ",
            "phone": "+1 (510) 555-0142",
            "email": "Maria at Example dot com",
            "budget": "$900k",
            "area": "oakland, ca",
            "bedrooms": "two",
        }
    )
    result = await actions.save_caller_details(sb, args)
    assert result.model_dump() == {
        "name": "Maria Gonzalez",
        "phone": "5105550142",
        "email": "maria@example.com",
        "budget": 900_000,
        "area": "Oakland",
        "bedrooms": 2,
        "saved": ["name", "phone", "email", "budget", "area", "bedrooms"],
    }


async def test_save_caller_details_partial_and_blank_fields(sb: Sandbox) -> None:
    outcome = await run_tool(sb, "save_caller_details", {"phone": "510 555 0142", "email": ""})
    assert outcome.ok
    assert outcome.result is not None
    assert outcome.result["phone"] == "5105550142"
    assert outcome.result["email"] is None
    assert outcome.result["saved"] == ["phone"]


async def test_save_caller_details_rejects_short_phone(sb: Sandbox) -> None:
    outcome = await run_tool(sb, "save_caller_details", {"phone": "555 0142"})
    assert not outcome.ok and outcome.error_code == "invalid_arguments"
    assert "phone" in (outcome.error_message or "")


# --- find_listings ---------------------------------------------------------------------


async def test_find_listings_cheapest_first_max_three(sb: Sandbox) -> None:
    result = await actions.find_listings(sb, FindListingsArgs(area="Oakland", max_price=2_000_000))
    assert [l.listing_id for l in result.listings] == ["L-103", "L-101", "L-102"]
    assert [l.price for l in result.listings] == sorted(l.price for l in result.listings)
    assert result.listings[0].price_text == "$489,000"
    assert result.available_areas == []


async def test_find_listings_filters_price_and_min_bedrooms(sb: Sandbox) -> None:
    result = await actions.find_listings(
        sb, FindListingsArgs.model_validate({"area": "berkeley", "max_price": "900 thousand", "bedrooms": "2br"})
    )
    assert [l.listing_id for l in result.listings] == ["L-201"]
    result = await actions.find_listings(sb, FindListingsArgs(area="San Jose", max_price=2_000_000, bedrooms=3))
    assert [l.listing_id for l in result.listings] == ["L-402"]


async def test_find_listings_no_match_is_empty_with_areas(sb: Sandbox) -> None:
    result = await actions.find_listings(sb, FindListingsArgs(area="Fresno", max_price=900_000))
    assert result.listings == []
    assert result.available_areas == ["Alameda", "Berkeley", "Oakland", "San Jose"]
    result = await actions.find_listings(sb, FindListingsArgs(area="Oakland", max_price=100_000))
    assert result.listings == []


async def test_find_listings_rejects_non_positive_budget(sb: Sandbox) -> None:
    outcome = await run_tool(sb, "find_listings", {"area": "Oakland", "max_price": 0})
    assert outcome.error_code == "invalid_arguments"


# --- check_availability ----------------------------------------------------------------


async def test_check_availability_lists_free_iso_slots(sb: Sandbox, tomorrow: date) -> None:
    result = await actions.check_availability(sb, CheckAvailabilityArgs(listing_id="l101", date=tomorrow))
    # Seed holds for L-101 tomorrow are 10:00 and 15:00.
    assert result.slots == [at(tomorrow, h).isoformat() for h in (11, 12, 13, 14, 16)]
    assert result.address.startswith("412 Grand Ave")


async def test_check_availability_hides_booked_slot(sb: Sandbox, tomorrow: date) -> None:
    await actions.book_tour(sb, book_args(tomorrow, 14))
    result = await actions.check_availability(sb, CheckAvailabilityArgs(listing_id="L-101", date=tomorrow))
    assert at(tomorrow, 14).isoformat() not in result.slots


async def test_check_availability_outside_window_is_empty(sb: Sandbox, today: date) -> None:
    for day in (today, today + timedelta(days=15), today - timedelta(days=3)):
        result = await actions.check_availability(sb, CheckAvailabilityArgs(listing_id="L-101", date=day))
        assert result.slots == []
    last = await actions.check_availability(
        sb, CheckAvailabilityArgs(listing_id="L-101", date=today + timedelta(days=14))
    )
    assert last.slots


async def test_check_availability_unknown_listing(sb: Sandbox, tomorrow: date) -> None:
    with pytest.raises(NotFound):
        await actions.check_availability(sb, CheckAvailabilityArgs(listing_id="L-999", date=tomorrow))
    outcome = await run_tool(sb, "check_availability", {"listing_id": "L-999", "date": tomorrow.isoformat()})
    assert (outcome.ok, outcome.error_code, outcome.transient) == (False, "not_found", False)


# --- book_tour -------------------------------------------------------------------------


async def test_book_tour_happy_path(sb: Sandbox, tomorrow: date) -> None:
    result = await actions.book_tour(sb, book_args(tomorrow, 14))
    assert result.booking_id == "BK-1001"
    assert result.address == "412 Grand Ave, Oakland, CA 94610"
    assert result.slot_start == at(tomorrow, 14)
    assert result.confirmation == (
        "You're booked to tour 412 Grand Ave in Oakland on Tuesday, June 3 at 2 PM. "
        "Your confirmation number is BK-1001."
    )
    assert sb.calendar.count_bookings() == 1
    [booking] = sb.calendar.list_bookings()
    assert (booking.name, booking.phone, booking.source) == ("Maria Gonzalez", "5105550142", "caller")


async def test_double_booking_same_slot_fails(sb: Sandbox, tomorrow: date) -> None:
    await actions.book_tour(sb, book_args(tomorrow, 14))
    with pytest.raises(Conflict):
        await actions.book_tour(
            sb, BookTourArgs(listing_id="L-101", slot_start=at(tomorrow, 14), name="Other Person", phone="4155550100")
        )
    assert sb.calendar.count_bookings() == 1


async def test_concurrent_double_booking_only_one_wins(sb: Sandbox, tomorrow: date) -> None:
    outcomes = await asyncio.gather(
        *(
            run_tool(
                sb,
                "book_tour",
                {"listing_id": "L-101", "slot_start": at(tomorrow, 13).isoformat(), "name": f"P {i}", "phone": "4155550100"},
            )
            for i in range(5)
        )
    )
    assert sorted(o.ok for o in outcomes) == [False] * 4 + [True]
    assert {o.error_code for o in outcomes if not o.ok} == {"conflict"}
    assert sb.calendar.count_bookings() == 1


async def test_book_seed_held_slot_conflicts(sb: Sandbox, tomorrow: date) -> None:
    outcome = await run_tool(
        sb,
        "book_tour",
        {"listing_id": "L-101", "slot_start": f"{tomorrow}T10:00:00", "name": "Maria", "phone": "5105550142"},
    )
    assert outcome.error_code == "conflict" and not outcome.transient
    assert sb.calendar.count_bookings() == 0


async def test_book_tour_unknown_listing_and_slot(sb: Sandbox, today: date, tomorrow: date) -> None:
    with pytest.raises(NotFound):
        await actions.book_tour(sb, book_args(tomorrow, 14, listing_id="L-999"))
    with pytest.raises(NotFound):  # not on the hour
        await actions.book_tour(
            sb, BookTourArgs(listing_id="L-101", slot_start=at(tomorrow, 14).replace(minute=30), name="A", phone="5105550142")
        )
    with pytest.raises(NotFound):  # outside tour hours
        await actions.book_tour(sb, book_args(tomorrow, 18))
    with pytest.raises(NotFound):  # today is not bookable
        await actions.book_tour(sb, book_args(today, 14))
    assert sb.calendar.count_bookings() == 0


async def test_book_tour_ignores_utc_offset(sb: Sandbox, tomorrow: date) -> None:
    outcome = await run_tool(
        sb,
        "book_tour",
        {"listing_id": "L-101", "slot_start": f"{tomorrow}T14:00:00-07:00", "name": "maria", "phone": "5105550142"},
    )
    assert outcome.ok and outcome.result is not None
    assert outcome.result["slot_start"] == f"{tomorrow}T14:00:00"


# --- update_opportunity ----------------------------------------------------------------


async def test_update_opportunity_creates_then_updates(sb: Sandbox) -> None:
    first = await actions.update_opportunity(
        sb, UpdateOpportunityArgs(phone="510-555-0142", name="Maria Gonzalez", stage="new", note="Looking in Oakland")
    )
    second = await actions.update_opportunity(
        sb,
        UpdateOpportunityArgs.model_validate(
            {"phone": "5105550142", "name": "Maria Gonzalez", "stage": "Tour Booked", "listing_id": "L 101", "note": "Tour tomorrow"}
        ),
    )
    assert first.opportunity_id == second.opportunity_id == "OPP-1001"
    assert (second.stage, second.listing_id) == ("tour_booked", "L-101")
    opportunity = sb.crm.get("5105550142")
    assert opportunity is not None
    assert opportunity.notes.count("\n") == 1
    assert "Looking in Oakland" in opportunity.notes and "Tour tomorrow" in opportunity.notes
    assert sb.crm.count_opportunities() == 1 and sb.crm.count_updates() == 2


async def test_update_opportunity_keeps_listing_when_omitted(sb: Sandbox) -> None:
    await actions.update_opportunity(sb, UpdateOpportunityArgs(phone="5105550142", name="M", stage="qualified", listing_id="L-201"))
    result = await actions.update_opportunity(sb, UpdateOpportunityArgs(phone="5105550142", name="M", stage="lost"))
    assert result.listing_id == "L-201"


async def test_update_opportunity_failures(sb: Sandbox) -> None:
    with pytest.raises(NotFound):
        await actions.update_opportunity(sb, UpdateOpportunityArgs(phone="5105550142", name="M", stage="new", listing_id="L-999"))
    assert sb.crm.count_opportunities() == 0
    outcome = await run_tool(sb, "update_opportunity", {"phone": "5105550142", "name": "M", "stage": "won"})
    assert outcome.error_code == "invalid_arguments" and "stage" in (outcome.error_message or "")


# --- verify_identity -------------------------------------------------------------------


async def test_verify_identity_success(sb: Sandbox) -> None:
    result = await actions.verify_identity(
        sb, VerifyIdentityArgs.model_validate({"policy_number": "pol 4821", "date_of_birth": "March 12th, 1984"})
    )
    assert (result.policy_number, result.verified, result.holder_name) == ("POL-4821", True, "Maria Gonzalez")


async def test_verify_identity_wrong_dob_reveals_nothing(sb: Sandbox) -> None:
    result = await actions.verify_identity(sb, VerifyIdentityArgs(policy_number="POL-4821", date_of_birth=date(1984, 3, 13)))
    assert result.verified is False and result.holder_name is None


async def test_verify_identity_unknown_policy(sb: Sandbox) -> None:
    outcome = await run_tool(sb, "verify_identity", {"policy_number": "POL-0000", "date_of_birth": "1984-03-12"})
    assert outcome.error_code == "not_found"
    outcome = await run_tool(sb, "verify_identity", {"policy_number": "hello", "date_of_birth": "1984-03-12"})
    assert outcome.error_code == "invalid_arguments"


# --- get_renewal_quote -----------------------------------------------------------------


async def test_get_renewal_quote(sb: Sandbox) -> None:
    result = await actions.get_renewal_quote(sb, GetRenewalQuoteArgs(policy_number="POL4821"))
    assert result.model_dump() == {
        "quote_id": "Q-4821-20250602",
        "policy_number": "POL-4821",
        "amount_cents": 128_400,
        "currency": "USD",
        "amount_text": "$1,284.00",
    }


async def test_get_renewal_quote_failures(sb: Sandbox) -> None:
    with pytest.raises(Conflict):  # cancelled policy
        await actions.get_renewal_quote(sb, GetRenewalQuoteArgs(policy_number="POL-2048"))
    with pytest.raises(NotFound):
        await actions.get_renewal_quote(sb, GetRenewalQuoteArgs(policy_number="POL-9999"))


# --- charge_card -----------------------------------------------------------------------


async def test_charge_card_happy_path(sb: Sandbox) -> None:
    result = await actions.charge_card(
        sb, ChargeCardArgs.model_validate({"policy_number": "pol 4821", "amount_cents": 128_400, "card_number": "4242-4242-4242-4242"})
    )
    assert result.charge_id == "CH-1001"
    assert (result.amount_cents, result.amount_text, result.card_last4, result.status) == (128_400, "$1,284.00", "4242", "succeeded")
    assert result.card_token.startswith("tok_") and VISA not in result.card_token
    assert VISA not in result.model_dump_json()
    assert sb.payments.count_charges() == 1
    [charge] = sb.payments.list_charges()
    assert (charge.card_token, charge.card_last4) == (result.card_token, "4242")


async def test_charge_card_accepts_dollar_text_amount(sb: Sandbox) -> None:
    outcome = await run_tool(
        sb, "charge_card", {"policy_number": "POL-4821", "amount_cents": "$1,284.00", "card_number": VISA}
    )
    assert outcome.ok and outcome.result is not None and outcome.result["amount_cents"] == 128_400


async def test_charge_card_amount_mismatch_conflicts(sb: Sandbox) -> None:
    with pytest.raises(Conflict) as caught:
        await actions.charge_card(sb, ChargeCardArgs(policy_number="POL-4821", amount_cents=128_399, card_number=SecretStr(VISA)))
    assert "$1,284.00" in caught.value.message
    assert sb.payments.count_charges() == 0


async def test_charge_card_bad_luhn_is_permanent_and_masked(sb: Sandbox, log_lines: list[str]) -> None:
    bad = "4242424242424241"
    outcome = await run_tool(sb, "charge_card", {"policy_number": "POL-4821", "amount_cents": 128_400, "card_number": bad})
    assert (outcome.ok, outcome.error_code, outcome.transient) == (False, "invalid_card", False)
    assert bad not in outcome.model_dump_json()
    assert "4241" in (outcome.error_message or "")
    assert sb.payments.count_charges() == 0
    assert not any(bad in line for line in log_lines)


async def test_charge_card_declined(sb: Sandbox) -> None:
    with pytest.raises(PermanentToolError) as caught:
        await actions.charge_card(
            sb, ChargeCardArgs(policy_number="POL-4821", amount_cents=128_400, card_number=SecretStr("4000 0000 0000 0002"))
        )
    assert caught.value.code == "card_declined"
    assert "4000000000000002" not in str(caught.value)
    assert sb.payments.count_charges() == 0


async def test_charge_card_bad_shape_is_invalid_arguments_without_echo(sb: Sandbox) -> None:
    for card in ("4242 4242 4242", "4242 4242 4242 4242 4242 4242", "4242-4242-4242-424X"):
        outcome = await run_tool(sb, "charge_card", {"policy_number": "POL-4821", "amount_cents": 128_400, "card_number": card})
        assert outcome.error_code == "invalid_arguments"
        assert "card_number" in (outcome.error_message or "")
        assert "4242 4242" not in outcome.model_dump_json() and "42424242" not in outcome.model_dump_json()


async def test_charge_stores_only_token_and_last4(sb: Sandbox, db_path, log_lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The full number must not be anywhere on disk: main file, WAL or shared memory."""
    outcome = await run_tool(
        sb, "charge_card", {"policy_number": "POL-4821", "amount_cents": 128_400, "card_number": "4242 4242 4242 4242"}
    )
    assert outcome.ok
    forms = [VISA.encode(), b"4242 4242 4242 4242", VISA.encode("utf-16-le")]

    def files_bytes() -> list[bytes]:
        return [p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]

    blobs = files_bytes()  # while open: data lives in the WAL
    assert any(b"tok_" in blob for blob in blobs)
    assert not any(form in blob for form in forms for blob in blobs)
    sb.close()  # checkpointed into the main file
    blobs = files_bytes()
    assert b"tok_" in db_path.read_bytes()
    assert not any(form in blob for form in forms for blob in blobs)
    assert not any(VISA in line or "4242 4242 4242 4242" in line for line in log_lines)


# --- create_case -----------------------------------------------------------------------


async def test_create_case(sb: Sandbox) -> None:
    result = await actions.create_case(
        sb,
        CreateCaseArgs.model_validate(
            {"reason": "caller request", "summary": " Wants to talk to a person ", "name": "maria", "phone": "(510) 555-0142", "policy_number": "pol 4821"}
        ),
    )
    assert (result.case_id, result.reason) == ("CASE-1001", "caller_request")
    [case] = sb.cases.list_cases()
    assert (case.summary, case.caller_name, case.caller_phone, case.policy_number) == (
        "Wants to talk to a person",
        "Maria",
        "5105550142",
        "POL-4821",
    )


async def test_create_case_masks_card_in_summary(sb: Sandbox) -> None:
    await actions.create_case(
        sb, CreateCaseArgs(reason="tool_failure", summary="Payment failed for card 4242 4242 4242 4242, please call back")
    )
    [case] = sb.cases.list_cases()
    assert case.summary == "Payment failed for card •••• 4242, please call back"


async def test_create_case_requires_summary(sb: Sandbox) -> None:
    outcome = await run_tool(sb, "create_case", {"reason": "other", "summary": "   "})
    assert outcome.error_code == "invalid_arguments"
    outcome = await run_tool(sb, "create_case", {"reason": "bored", "summary": "x"})
    assert outcome.error_code == "invalid_arguments"
    assert sb.cases.count_cases() == 0
