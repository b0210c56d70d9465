"""Two calls for the same slot: whoever holds it first gets it; nobody double-books."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date, datetime, time
from pathlib import Path

import pytest

from tools.errors import Conflict
from tools.registry import TOOLS
from tools.sandbox import Sandbox
from tools.steps import run_plan

from tests.steps.helpers import booking, run_step, validated


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour))


async def test_second_call_for_the_same_slot_fails_at_hold(sb: Sandbox, tomorrow: date) -> None:
    plan = TOOLS["book_tour"].plan
    maria = await plan.prepare(sb, validated("book_tour", booking(tomorrow)))
    james = await plan.prepare(sb, validated("book_tour", booking(tomorrow, phone="4155550199")))

    maria_out = {"hold_slot": await run_step(sb, "book_tour", "hold_slot", maria, {}, "call-maria:t3")}
    with pytest.raises(Conflict) as info:  # interleaved: James's hold comes before Maria confirms
        await run_step(sb, "book_tour", "hold_slot", james, {}, "call-james:t2")
    assert info.value.code == "conflict" and not info.value.transient
    assert info.value.message == "That tour slot is already booked."

    _, _, result = await run_plan(sb, TOOLS["book_tour"].plan, validated("book_tour", booking(tomorrow)),
                                  "call-maria:t3", completed=maria_out, prepared=maria)
    with pytest.raises(Conflict):  # and after she confirmed, too
        await run_step(sb, "book_tour", "hold_slot", james, {}, "call-james:t4")
    assert sb.calendar.count_holds() == 1 and sb.calendar.count_bookings() == 1
    [row] = sb.calendar.list_bookings()
    assert row.phone == "5105550142" and row.booking_id == result["booking_id"]


async def test_concurrent_holds_for_one_slot_one_wins(sb: Sandbox, tomorrow: date) -> None:
    phones = [f"41555501{n:02d}" for n in range(8)]
    results = await asyncio.gather(
        *(asyncio.to_thread(sb.calendar.hold, "L-102", at(tomorrow, 14), p, f"call-{p}:hold_slot") for p in phones),
        return_exceptions=True,
    )
    assert sum(isinstance(r, str) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, str))
    assert sb.calendar.count_holds() == 1


async def test_holds_and_single_call_bookings_exclude_each_other(sb: Sandbox, tomorrow: date) -> None:
    sb.calendar.hold("L-101", at(tomorrow, 12), "5105550142", "h-12")
    with pytest.raises(Conflict):
        sb.calendar.book("L-101", at(tomorrow, 12), "James", "4155550199")
    sb.calendar.book("L-101", at(tomorrow, 13), "James", "4155550199")
    with pytest.raises(Conflict):
        sb.calendar.hold("L-101", at(tomorrow, 13), "5105550142", "h-13")
    free = {s.hour for s in sb.calendar.free_slots("L-101", tomorrow)}
    assert not free & {12, 13}
    assert sb.calendar.count_holds() == 1 and sb.calendar.count_bookings() == 1


def test_schema_refuses_a_caller_booking_over_a_hold(sb: Sandbox, db_path: Path, tomorrow: date) -> None:
    """Even a writer that bypasses the backend cannot book a held slot (trigger)."""
    sb.calendar.hold("L-101", at(tomorrow, 12), "5105550142", "h")
    conn = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="held"):
            conn.execute(
                "INSERT INTO bookings (booking_id, listing_id, slot_start, name, phone, source, created_at)"
                " VALUES ('BK-X', 'L-101', ?, 'x', '4155550199', 'caller', '2025-01-01')",
                (f"{tomorrow}T12:00:00",),
            )
        with pytest.raises(sqlite3.IntegrityError, match="booked"):  # L-101 tomorrow 10:00 is a seed hold
            conn.execute(
                "INSERT INTO holds (hold_id, listing_id, slot_start, phone, status, created_at)"
                " VALUES ('HD-X', 'L-101', ?, '4155550199', 'held', '2025-01-01')",
                (f"{tomorrow}T10:00:00",),
            )
    finally:
        conn.close()
