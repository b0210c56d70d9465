"""A repeated idempotency key returns the existing row instead of writing twice."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from tools.registry import run_tool
from tools.sandbox import Sandbox

CHARGE = {"policy_number": "POL-4821", "amount_cents": 128_400, "card_number": "4242424242424242"}


def booking(tomorrow: date, hour: int = 12) -> dict[str, str]:
    return {"listing_id": "L-101", "slot_start": f"{tomorrow}T{hour}:00:00", "name": "Maria", "phone": "5105550142"}


async def test_book_tour_same_key_same_booking(sb: Sandbox, tomorrow: date) -> None:
    first = await run_tool(sb, "book_tour", booking(tomorrow), idempotency_key="call1:turn3:book_tour")
    again = await run_tool(sb, "book_tour", booking(tomorrow), idempotency_key="call1:turn3:book_tour")
    assert first.ok and again.ok
    assert first.result == again.result
    assert sb.calendar.count_bookings() == 1


async def test_book_tour_different_keys_still_conflict(sb: Sandbox, tomorrow: date) -> None:
    await run_tool(sb, "book_tour", booking(tomorrow), idempotency_key="a")
    other = await run_tool(sb, "book_tour", booking(tomorrow), idempotency_key="b")
    assert other.error_code == "conflict"
    assert sb.calendar.count_bookings() == 1


async def test_charge_same_key_same_charge(sb: Sandbox) -> None:
    first = await run_tool(sb, "charge_card", CHARGE, idempotency_key="pay-1")
    again = await run_tool(sb, "charge_card", CHARGE, idempotency_key="pay-1")
    assert first.ok and again.ok and first.result == again.result
    assert sb.payments.count_charges() == 1
    third = await run_tool(sb, "charge_card", CHARGE, idempotency_key="pay-2")
    assert third.ok and third.result is not None and first.result is not None
    assert third.result["charge_id"] != first.result["charge_id"]
    assert sb.payments.count_charges() == 2


async def test_charge_without_key_is_not_deduplicated(sb: Sandbox) -> None:
    """The processor itself does not protect against double charges: that is the runtime's job."""
    await run_tool(sb, "charge_card", CHARGE)
    await run_tool(sb, "charge_card", CHARGE)
    assert sb.payments.count_charges() == 2


async def test_case_same_key_same_case(sb: Sandbox) -> None:
    args = {"reason": "caller_request", "summary": "Call me back"}
    first = await run_tool(sb, "create_case", args, idempotency_key="case-1")
    again = await run_tool(sb, "create_case", args, idempotency_key="case-1")
    assert first.result == again.result and sb.cases.count_cases() == 1


async def test_opportunity_same_key_applied_once(sb: Sandbox) -> None:
    args = {"phone": "5105550142", "name": "Maria", "stage": "qualified", "note": "Budget 900k"}
    first = await run_tool(sb, "update_opportunity", args, idempotency_key="opp-1")
    again = await run_tool(sb, "update_opportunity", args, idempotency_key="opp-1")
    assert first.result == again.result
    assert sb.crm.count_updates() == 1
    opportunity = sb.crm.get("5105550142")
    assert opportunity is not None and opportunity.notes.count("Budget 900k") == 1


def test_schema_unique_where_not_null(sb: Sandbox, db_path, tomorrow: date) -> None:  # type: ignore[no-untyped-def]
    """NULL keys may repeat; a non-null key may not, even for a writer bypassing the backend."""
    sb.cases.create("other", "one")
    sb.cases.create("other", "two")
    sb.cases.create("other", "three", idempotency_key="dup")
    conn = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO cases (case_id, reason, summary, idempotency_key, created_at)"
                " VALUES ('CASE-X', 'other', 's', 'dup', '2025-01-01')"
            )
        with pytest.raises(sqlite3.IntegrityError):  # a slot can be booked once, by schema
            conn.execute(
                "INSERT INTO bookings (booking_id, listing_id, slot_start, name, phone, source, created_at)"
                " VALUES ('BK-X', 'L-101', ?, 'x', '5105550142', 'caller', '2025-01-01')",
                (f"{tomorrow}T10:00:00",),
            )
    finally:
        conn.close()
