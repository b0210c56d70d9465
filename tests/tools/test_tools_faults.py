"""Fault injection: timeouts, 5xx-like errors and crashes after the effect."""

from __future__ import annotations

import time
from datetime import date

import pytest

from tools.registry import run_tool
from tools.sandbox import Sandbox

CHARGE = {"policy_number": "POL-4821", "amount_cents": 128_400, "card_number": "4242424242424242"}


def booking(tomorrow: date) -> dict[str, str]:
    return {"listing_id": "L-101", "slot_start": f"{tomorrow}T12:00:00", "name": "Maria", "phone": "5105550142"}


async def test_timeout_is_transient_delayed_and_writes_nothing(sb: Sandbox, tomorrow: date) -> None:
    sb.faults.arm("calendar", "book", "timeout", delay_s=0.2)
    started = time.perf_counter()
    outcome = await run_tool(sb, "book_tour", booking(tomorrow))
    assert time.perf_counter() - started >= 0.2
    assert (outcome.ok, outcome.error_code, outcome.transient) == (False, "timeout", True)
    assert sb.calendar.count_bookings() == 0
    retry = await run_tool(sb, "book_tour", booking(tomorrow))  # armed once only
    assert retry.ok and sb.calendar.count_bookings() == 1


async def test_error_5xx_is_transient_and_writes_nothing(sb: Sandbox) -> None:
    sb.faults.arm("payments", "charge", "error_5xx")
    outcome = await run_tool(sb, "charge_card", CHARGE)
    assert (outcome.error_code, outcome.transient) == ("backend_unavailable", True)
    assert sb.payments.count_charges() == 0


async def test_crash_after_effect_commits_then_fails(sb: Sandbox) -> None:
    sb.faults.arm("payments", "charge", "crash_after_effect")
    outcome = await run_tool(sb, "charge_card", CHARGE, idempotency_key="pay-1")
    assert (outcome.ok, outcome.error_code, outcome.transient) == (False, "connection_lost", True)
    assert sb.payments.count_charges() == 1  # the money moved even though the call failed
    retry = await run_tool(sb, "charge_card", CHARGE, idempotency_key="pay-1")
    assert retry.ok and sb.payments.count_charges() == 1  # same key: no second charge
    naive = await run_tool(sb, "charge_card", CHARGE)
    assert naive.ok and sb.payments.count_charges() == 2  # what a key-less retry would do


async def test_crash_after_effect_on_booking(sb: Sandbox, tomorrow: date) -> None:
    sb.faults.arm("calendar", "book", "crash_after_effect")
    outcome = await run_tool(sb, "book_tour", booking(tomorrow), idempotency_key="b-1")
    assert outcome.transient and sb.calendar.count_bookings() == 1
    retry = await run_tool(sb, "book_tour", booking(tomorrow), idempotency_key="b-1")
    assert retry.ok and retry.result is not None and retry.result["booking_id"] == "BK-1001"
    key_less = await run_tool(sb, "book_tour", booking(tomorrow))
    assert key_less.error_code == "conflict"


async def test_times_and_events(sb: Sandbox) -> None:
    sb.faults.arm("listings", "search", "error_5xx", times=2)
    args = {"area": "Oakland", "max_price": 900000}
    results = [await run_tool(sb, "find_listings", args) for _ in range(3)]
    assert [r.ok for r in results] == [False, False, True]
    assert [(e.backend, e.op, e.kind) for e in sb.faults.fired] == [("listings", "search", "error_5xx")] * 2
    assert sb.faults.armed() == []


async def test_fault_on_read_only_path(sb: Sandbox) -> None:
    sb.faults.arm("policies", "renewal_quote", "timeout", delay_s=0)
    outcome = await run_tool(sb, "get_renewal_quote", {"policy_number": "POL-4821"})
    assert (outcome.error_code, outcome.transient) == ("timeout", True)


async def test_disarm(sb: Sandbox) -> None:
    sb.faults.arm("payments", "charge", "error_5xx", times=5)
    sb.faults.arm("cases", "create", "error_5xx")
    sb.faults.disarm("payments")
    assert [(f.backend, f.op) for f in sb.faults.armed()] == [("cases", "create")]
    outcome = await run_tool(sb, "charge_card", CHARGE)
    assert outcome.ok
    sb.faults.disarm()
    assert sb.faults.armed() == []


def test_arm_rejects_typos(sb: Sandbox) -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        sb.faults.arm("payment", "charge", "timeout")
    with pytest.raises(ValueError, match="unknown op"):
        sb.faults.arm("payments", "refund", "timeout")
    with pytest.raises(ValueError, match="unknown fault kind"):
        sb.faults.arm("payments", "charge", "explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        sb.faults.arm("payments", "charge", "timeout", times=0)
    assert set(sb.faults.known_ops()) == {"listings", "calendar", "crm", "policies", "payments", "cases"}


def test_test_reads_are_never_faulted(sb: Sandbox) -> None:
    sb.faults.arm("payments", "charge", "error_5xx")
    sb.faults.arm("calendar", "book", "error_5xx")
    assert sb.payments.count_charges() == 0 and sb.calendar.count_bookings() == 0
    assert len(sb.faults.armed()) == 2
