"""The executor takes each tool's retry policy, key fields and steps from its spec.

Nothing about a tool is kept in a table of the executor's own: change the spec and the
executor behaves accordingly. The fixtures' fast policies are overrides; these tests run
without them, so the spec's own policy is the one in force.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from tests.executor.helpers import CHARGE, booking_args, free_slots, kinds, of_kind
from tools.executor import ToolExecutor
from tools.journal.store import JournalStore
from tools.registry import TOOLS
from tools.sandbox import FAULT_CODES, Sandbox
from tools.spec import RetryPolicy


def with_retry(monkeypatch: pytest.MonkeyPatch, tool: str, policy: RetryPolicy) -> None:
    monkeypatch.setitem(TOOLS, tool, dataclasses.replace(TOOLS[tool], retry=policy))


async def test_a_tool_whose_spec_allows_one_attempt_is_not_retried(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_retry(monkeypatch, "book_tour", RetryPolicy(attempts=1, base_delay=0.01, jitter=0.0))
    retries: list[tuple[str, int, str]] = []

    async def on_retry(tool: str, attempt: int, code: str) -> None:
        retries.append((tool, attempt, code))

    ex = make_executor(retry={}, on_retry=on_retry)  # no override: the spec's policy rules
    sb.faults.arm("calendar", "hold", "error_5xx", times=1, delay_s=0)
    listing_id, slot = free_slots(sb)[0]

    outcome = await ex.run("conv-once", "book_tour", booking_args(listing_id, slot), turn=1, tool_call_id="tc-1")

    assert not outcome.ok and outcome.transient and outcome.error_code == FAULT_CODES["error_5xx"]
    assert outcome.attempts == 1 and retries == []
    entries = await store.entries("conv-once")
    assert [(e.step, e.attempt) for e in of_kind(entries, "step_started")] == [("hold_slot", 1)]
    assert [(e.payload or {}).get("will_retry") for e in of_kind(entries, "step_failed")] == [False]
    assert kinds(entries)[-1] == "call_failed"
    assert sb.calendar.count_holds() == 0


async def test_the_same_fault_is_retried_when_the_spec_allows_two_attempts(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_retry(monkeypatch, "book_tour", RetryPolicy(attempts=2, base_delay=0.01, jitter=0.0))
    ex = make_executor(retry={})
    sb.faults.arm("calendar", "hold", "error_5xx", times=1, delay_s=0)
    listing_id, slot = free_slots(sb)[0]

    outcome = await ex.run("conv-twice", "book_tour", booking_args(listing_id, slot), turn=1, tool_call_id="tc-1")

    assert outcome.ok and outcome.attempts == 4  # hold twice, then confirm and send once each
    entries = await store.entries("conv-twice")
    assert [(e.step, e.attempt) for e in of_kind(entries, "step_started")][:2] == [("hold_slot", 1), ("hold_slot", 2)]


def test_an_executor_keeps_no_retry_table_of_its_own(sb: Sandbox, store: JournalStore) -> None:
    assert ToolExecutor(sandbox=sb, store=store).retry == {}


async def test_the_journaled_key_is_the_specs_key_of_the_prepared_arguments(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor]
) -> None:
    spec = TOOLS["charge_card"]
    outcome = await make_executor().run("conv-key", "charge_card", dict(CHARGE), turn=1, tool_call_id="tc-1")

    assert outcome.ok
    started = of_kind(await store.entries("conv-key"), "call_started")
    assert len(started) == 1
    prepared = (started[0].payload or {})["args"]
    assert started[0].idempotency_key == spec.idempotency_key(prepared)
    assert started[0].idempotency_key.startswith("charge_card:")
    assert [e.step for e in of_kind(await store.entries("conv-key"), "step_succeeded")] == list(spec.plan.step_names)
