"""Transient failures are retried step by step without repeating an effect; permanent ones are not.

The dangerous fault is ``crash_after_effect``: the backend committed the charge and then
the connection dropped, so the step "failed" although the money moved. Only because each
step retries with its own key does the retry return that charge instead of taking a second
one. Every attempt must be visible in the journal (``step_started`` / ``step_failed``), so
an auditor can see what happened; when the retries run out the claim is released, so the
conversation can try again later and still end with one effect; a permanent error (declined
card) is stored, so a repeat gets the same answer without asking the processor again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.executor.helpers import (
    CHARGE,
    DECLINED_CARD,
    INVALID_CARD,
    STEP_OPS,
    STEPS,
    booking_args,
    effects_of,
    expected_effects,
    fast_retry,
    free_slots,
    kinds,
    of_kind,
)
from tools.executor import ToolExecutor
from tools.journal.store import IDEMPOTENCY_TABLE, JournalStore
from tools.journal.verify import verify_chain
from tools.sandbox import FAULT_CODES, Sandbox

TRANSIENT_KINDS = ("error_5xx", "timeout", "crash_after_effect")
EVERY_STEP = [(tool, step) for tool in STEPS for step in STEPS[tool]]


class RetryLog:
    """An ``on_retry`` callback that remembers its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str]] = []

    async def __call__(self, tool: str, attempt: int, code: str) -> None:
        self.calls.append((tool, attempt, code))


def args_for(sb: Sandbox, tool: str) -> dict[str, Any]:
    if tool == "charge_card":
        return dict(CHARGE)
    listing_id, slot = free_slots(sb)[0]
    return booking_args(listing_id, slot)


@pytest.mark.parametrize("kind", TRANSIENT_KINDS)
@pytest.mark.parametrize(("tool", "step"), EVERY_STEP)
async def test_transient_faults_are_retried_to_one_effect_and_every_attempt_is_journaled(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], tool: str, step: str, kind: str
) -> None:
    retries = RetryLog()
    ex = make_executor(retry=fast_retry(attempts=4), on_retry=retries)
    backend, op = STEP_OPS[step]
    sb.faults.arm(backend, op, kind, times=2, delay_s=0.01)  # type: ignore[arg-type]

    outcome = await ex.run("conv-r", tool, args_for(sb, tool), turn=1, tool_call_id="tc-1")

    assert outcome.ok, outcome
    assert effects_of(sb, "conv-r") == expected_effects(tool, done=True)
    assert sb.faults.armed() == []  # both faults fired: the step really failed twice
    assert outcome.attempts == len(STEPS[tool]) + 2
    entries = await store.entries("conv-r")
    started = of_kind(entries, "step_started")
    assert len(started) == outcome.attempts
    assert [e.attempt for e in started if e.step == step] == [1, 2, 3]
    failed = of_kind(entries, "step_failed")
    assert [(e.step, e.attempt) for e in failed] == [(step, 1), (step, 2)]
    assert all((e.payload or {}).get("error") == FAULT_CODES[kind] for e in failed)
    assert all((e.payload or {}).get("transient") is True and (e.payload or {}).get("will_retry") is True
               for e in failed)
    assert retries.calls == [(tool, 1, FAULT_CODES[kind]), (tool, 2, FAULT_CODES[kind])]
    assert kinds(entries).count("call_succeeded") == 1
    assert verify_chain(entries, store.signer).ok


async def test_a_step_slower_than_the_policy_timeout_is_retried(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor]
) -> None:
    """The executor's own deadline (``RetryPolicy.timeout``), not the backend's error, fails the attempt."""
    ex = make_executor(retry=fast_retry(attempts=3, timeout=0.05))
    sb.faults.arm("payments", "capture", "timeout", times=1, delay_s=0.3)

    outcome = await ex.run("conv-slow", "charge_card", CHARGE, turn=1)

    assert outcome.ok and outcome.attempts == 4
    assert sb.payments.count_charges() == 1
    failed = of_kind(await store.entries("conv-slow"), "step_failed")
    assert [(e.step, (e.payload or {}).get("error")) for e in failed] == [("capture", "timeout")]


@pytest.mark.parametrize("kind", TRANSIENT_KINDS)
async def test_exhausted_retries_fail_transiently_release_the_claim_and_a_later_call_charges_once(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], kind: str, tmp_path: Path
) -> None:
    retries = RetryLog()
    ex = make_executor(retry=fast_retry(attempts=3), on_retry=retries)
    sb.faults.arm("payments", "capture", kind, times=10, delay_s=0.01)  # type: ignore[arg-type]

    failed = await ex.run("conv-x", "charge_card", CHARGE, turn=1, tool_call_id="tc-1")

    assert not failed.ok and failed.transient and failed.error_code == FAULT_CODES[kind]
    assert failed.attempts == 1 + 3  # authorize once, capture three times
    assert len(retries.calls) == 2  # a retry after attempts 1 and 2, none after the last
    # crash_after_effect committed the charge on the first attempt although every attempt "failed"
    assert sb.payments.count_charges() == (1 if kind == "crash_after_effect" else 0)
    entries = await store.entries("conv-x")
    assert [(e.step, (e.payload or {}).get("will_retry")) for e in of_kind(entries, "step_failed")] == [
        ("capture", True), ("capture", True), ("capture", False)]
    assert [(e.payload or {}).get("transient") for e in of_kind(entries, "call_failed")] == [True]
    assert "conv-x" not in [cid for cid, _ in await store.unfinished()]
    with closing(sqlite3.connect(tmp_path / "journal.db")) as raw:  # the journal fixture's file
        records = raw.execute(f"SELECT status FROM {IDEMPOTENCY_TABLE} WHERE scope = 'conv-x'").fetchall()
    assert records == []  # released: no failure stored for a transient error, no lock left behind

    sb.faults.disarm()
    later = await ex.run("conv-x", "charge_card", CHARGE, turn=2, tool_call_id="tc-2")

    assert later.ok and not later.replayed  # the claim was released, not stored as a failure
    assert effects_of(sb, "conv-x") == expected_effects("charge_card", done=True)
    assert sb.payments.count_charges() == 1
    once_more = await ex.run("conv-x", "charge_card", CHARGE, turn=3, tool_call_id="tc-3")
    assert once_more.replayed and once_more.result == later.result
    assert verify_chain(await store.entries("conv-x"), store.signer).ok


async def test_a_declined_card_is_not_retried_and_a_repeat_gets_the_stored_failure(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor]
) -> None:
    retries = RetryLog()
    ex = make_executor(on_retry=retries)
    args = {**CHARGE, "card_number": DECLINED_CARD}

    first = await ex.run("conv-d", "charge_card", args, turn=1, tool_call_id="tc-1")

    assert not first.ok and first.error_code == "card_declined" and not first.transient
    assert first.attempts == 1 and retries.calls == []
    assert effects_of(sb, "conv-d") == expected_effects("charge_card", done=False)
    entries = await store.entries("conv-d")
    assert kinds(entries) == ["call_requested", "call_started", "step_started", "step_failed", "call_failed"]
    assert (entries[3].payload or {}).get("will_retry") is False

    # A processor that would now accept the card proves the repeat never asked it again.
    sb.faults.arm("payments", "authorize", "error_5xx", times=1)
    repeat = await ex.run("conv-d", "charge_card", args, turn=2, tool_call_id="tc-2")

    assert not repeat.ok and repeat.replayed and repeat.error_code == "card_declined"
    assert repeat.error_message == first.error_message
    assert len(sb.faults.armed()) == 1  # authorize was not called
    assert kinds(await store.entries("conv-d"))[len(entries):] == ["call_requested", "call_replayed"]
    assert sb.payments.count_authorizations() == 0


async def test_an_invalid_card_fails_once_before_any_step_and_fails_the_same_way_again(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor]
) -> None:
    retries = RetryLog()
    ex = make_executor(on_retry=retries)
    args = {**CHARGE, "card_number": INVALID_CARD}

    first = await ex.run("conv-i", "charge_card", args, turn=1)
    again = await ex.run("conv-i", "charge_card", args, turn=2)

    for outcome in (first, again):
        assert not outcome.ok and outcome.error_code == "invalid_card" and not outcome.transient
        assert outcome.attempts == 1
        assert "6468" in (outcome.error_message or "") and "4539" not in (outcome.error_message or "")
    assert retries.calls == []
    assert sb.payments.count_vault() == 0 and sb.payments.count_authorizations() == 0
    assert of_kind(await store.entries("conv-i"), "step_started") == []


async def test_the_per_call_on_retry_replaces_the_executor_default(
    sb: Sandbox, make_executor: Callable[..., ToolExecutor]
) -> None:
    default, per_call = RetryLog(), RetryLog()
    ex = make_executor(on_retry=default)
    sb.faults.arm("calendar", "hold", "error_5xx", times=1)
    listing_id, slot = free_slots(sb)[0]

    outcome = await ex.run("conv-cb", "book_tour", booking_args(listing_id, slot), on_retry=per_call)

    assert outcome.ok
    assert per_call.calls == [("book_tour", 1, FAULT_CODES["error_5xx"])]
    assert default.calls == []


async def test_a_bug_in_a_step_is_an_internal_error_that_is_not_retried_and_does_not_lock_the_key(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception (here a RuntimeError from the calendar) used to escape ``run``,
    leaving ``call_started`` unfinished and the claim ``in_progress`` until it expired."""
    retries = RetryLog()
    ex = make_executor(on_retry=retries, wait_s=1.0)
    calls: list[str] = []

    def broken_confirm(hold_id: str, name: str, phone: str, idempotency_key: str) -> str:
        calls.append(hold_id)
        raise RuntimeError("calendar client bug")

    monkeypatch.setattr(sb.calendar, "confirm", broken_confirm)
    listing_id, slot = free_slots(sb)[0]
    args = booking_args(listing_id, slot)

    outcome = await ex.run("conv-bug", "book_tour", args, turn=1, tool_call_id="tc-1")

    assert not outcome.ok and outcome.error_code == "internal_error" and not outcome.transient
    assert "RuntimeError" in (outcome.error_message or "")
    assert len(calls) == 1 and retries.calls == []
    entries = await store.entries("conv-bug")
    assert kinds(entries)[-2:] == ["step_failed", "call_failed"]
    assert "conv-bug" not in [cid for cid, _ in await store.unfinished()]
    repeat = await ex.run("conv-bug", "book_tour", args, turn=2, tool_call_id="tc-2")
    assert repeat.replayed and repeat.error_code == "internal_error"  # from the record, without waiting
    assert len(calls) == 1


async def test_a_bug_in_a_read_only_tool_is_an_outcome_not_an_exception(
    store: JournalStore, make_executor: Callable[..., ToolExecutor]
) -> None:
    """Found by the fuzzer: a price past SQLite's 64-bit integers raised OverflowError out of ``run``."""
    outcome = await make_executor().run("conv-big", "find_listings", {"area": "Oakland", "max_price": 2**63})

    assert not outcome.ok and outcome.error_code == "internal_error"
    entries = await store.entries("conv-big")
    assert kinds(entries) == ["call_started", "step_started", "step_failed", "call_failed"]
    assert "conv-big" not in [cid for cid, _ in await store.unfinished()]
