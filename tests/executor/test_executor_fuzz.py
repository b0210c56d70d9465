"""Whatever the model passes as arguments, ``ToolExecutor.run`` answers with a ToolOutcome.

Tool arguments come from an LLM: wrong types, huge numbers, nested junk, card numbers in
the wrong field. The executor sits between that and the backends, so it must turn every
problem into an outcome (an exception would tear down the call), and it must never
journal ``call_succeeded`` for a call whose outcome was a failure — resume, replay and
audits trust that line.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.executor.helpers import CHARGE, booking_args, fast_retry, free_slots, of_kind, open_journal
from tests.support.dates import SCENARIO_TODAY
from tools.executor import ToolExecutor
from tools.journal.store import JournalStore
from tools.journal.verify import verify_chain
from tools.redact import redact_args
from tools.registry import TOOLS, ToolOutcome
from tools.sandbox import Sandbox

TOMORROW = SCENARIO_TODAY + timedelta(days=1)

#: Valid arguments for every tool: starting points that mutations turn into near-misses,
#: which get further into prepare and the steps than random dicts ever would.
VALID: dict[str, dict[str, Any]] = {
    "save_caller_details": {"name": "Maria Gonzalez", "phone": "510-555-0142", "budget": "900k"},
    "find_listings": {"area": "Oakland", "max_price": 900_000},
    "check_availability": {"listing_id": "L-101", "date": TOMORROW.isoformat()},
    "book_tour": booking_args("L-101", datetime.combine(TOMORROW, time(12))),
    "update_opportunity": {"phone": "5105550142", "name": "Maria Gonzalez", "stage": "qualified", "note": "2br"},
    "verify_identity": {"policy_number": "POL-4821", "date_of_birth": "1984-03-12"},
    "get_renewal_quote": {"policy_number": "POL-4821"},
    "charge_card": dict(CHARGE),
    "create_case": {"reason": "caller_request", "summary": "Wants a call back about the renewal"},
}
assert set(VALID) == set(TOOLS), "a new tool needs valid fuzz seed arguments"

#: Values that have broken parsers and databases before: huge and negative numbers, floats
#: that are not numbers, card-shaped text, dates at the edges, control characters.
EDGE_VALUES = st.sampled_from([
    0, -1, 2**31, 2**63, 2**64 + 1, -(2**63) - 1, 10**30, 1e308, float("inf"), float("-inf"), float("nan"), -0.0,
    True, False, None, "", " ", "\x00", "\u202e", "9" * 400, "4539 1488 0343 6467", "4000000000000002",
    "0000-00-00", "9999-12-31", "0001-01-01", "2026-11-27T25:00:00", "2026-11-27T10:00:00+14:00",
    "9999-12-31T16:00:00", "99999999999999999999", "1e30", "900k", "$-5", "L-999", "POL-0000", "tour_booked",
    "caller_request", [], {}, [None], {"": None},
])
SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=40) | EDGE_VALUES)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                          max_size=4), max_leaves=12)


@st.composite
def near_miss(draw: st.DrawFn, tool: str) -> dict[str, Any]:
    """Valid arguments of ``tool`` with one or two fields replaced or dropped, sometimes an extra one.

    Small mutations keep most fields valid, so the call gets past validation into prepare and
    the backends, where the surprising failures are (numbers too big for SQLite, dates at the
    end of the calendar).
    """
    args = dict(VALID[tool])
    fields = sorted(args)
    for name in draw(st.lists(st.sampled_from(fields), min_size=1, max_size=2, unique=True)):
        action = draw(st.sampled_from(("edge", "edge", "json", "drop")))
        if action == "drop":
            args.pop(name, None)
        else:
            args[name] = draw(EDGE_VALUES if action == "edge" else JSON)
    if draw(st.integers(0, 4)) == 0:
        args[draw(st.text(max_size=10))] = draw(JSON)
    return args


def arguments(tool: str) -> st.SearchStrategy[Any]:
    """Mostly near misses; also anything JSON can be, including non-objects."""
    return st.one_of(near_miss(tool), near_miss(tool), near_miss(tool), JSON,
                     st.dictionaries(st.text(max_size=12), JSON, max_size=6))


#: Known tools three times out of four; otherwise any name at all.
TOOL_NAMES = st.one_of(*[st.sampled_from(sorted(TOOLS))] * 3, st.text(max_size=20))
CASES = TOOL_NAMES.flatmap(lambda name: st.tuples(st.just(name), arguments(name) if name in TOOLS else JSON))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[asyncio.AbstractEventLoop, ToolExecutor]]:
    """One loop, sandbox, journal and executor for all examples (each example is its own conversation)."""
    root: Path = tmp_path_factory.mktemp("fuzz")
    loop = asyncio.new_event_loop()
    sb = Sandbox.open(root / "sandbox.db", SCENARIO_TODAY)
    store: JournalStore = loop.run_until_complete(open_journal(root / "journal.db"))
    executor = ToolExecutor(sandbox=sb, store=store, retry=fast_retry(attempts=2), seed=3, wait_s=2.0)
    try:
        yield loop, executor
    finally:
        loop.run_until_complete(store.close())
        sb.close()
        loop.close()


_conversations = itertools.count()


def masked(tool: str, result: dict[str, Any]) -> dict[str, Any]:
    return redact_args(TOOLS[tool], result)


async def run_and_check(executor: ToolExecutor, tool: Any, args: Any) -> ToolOutcome:
    call_id = f"fuzz-{next(_conversations)}"
    outcome = await executor.run(call_id, tool, args, turn=1, tool_call_id="tc-fuzz")
    assert isinstance(outcome, ToolOutcome)
    assert outcome.name == tool
    assert outcome.ok == (outcome.error_code is None)
    entries = await executor.store.entries(call_id)
    succeeded = of_kind(entries, "call_succeeded")
    if outcome.ok:
        assert outcome.result is not None
        # the journal holds the result with anything card-shaped masked, even inside a number
        assert len(succeeded) == 1 and (succeeded[0].payload or {}).get("result") == masked(tool, outcome.result)
    else:
        assert succeeded == [], f"{tool} failed with {outcome.error_code} but the journal says call_succeeded"
    assert call_id not in [cid for cid, _ in await executor.store.unfinished()]
    assert verify_chain(entries, executor.store.signer).ok
    started = of_kind(entries, "call_started")
    if isinstance(tool, str) and tool in TOOLS and TOOLS[tool].effect and started and not outcome.transient:
        # The effect call ran (it was started) and ended for good: a repeat must be answered
        # from its idempotency record at once, not wait on a claim left in progress.
        repeat = await executor.run(call_id, tool, args, turn=2, tool_call_id="tc-fuzz-2")
        assert repeat.replayed, repeat
        assert (repeat.ok, repeat.error_code) == (outcome.ok, outcome.error_code)
        assert repeat.result == (None if outcome.result is None else masked(tool, outcome.result))
    return outcome


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=CASES)
# Found by this test; kept as fixed examples. A price past SQLite's 64-bit integers raised
# OverflowError out of run(); so did the day after 9999-12-31.
@example(case=("find_listings", {"area": "Oakland", "max_price": 2**63}))
@example(case=("find_listings", {"area": "Oakland", "max_price": float("inf")}))  # OverflowError in validation
@example(case=("check_availability", {"listing_id": "L-101", "date": "9999-12-31"}))
# A card-shaped number in a step's output made the journal payload invalid JSON after the effect.
@example(case=("save_caller_details", {"phone": "510-555-0142", "budget": "4000000000000002"}))
@example(case=("update_opportunity", {**VALID["update_opportunity"], "note": 4539148803436467}))
def test_any_arguments_give_an_outcome_and_failures_never_journal_success(
    world: tuple[asyncio.AbstractEventLoop, ToolExecutor], case: tuple[Any, Any]
) -> None:
    loop, executor = world
    tool, args = case
    loop.run_until_complete(run_and_check(executor, tool, args))


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_the_valid_seed_arguments_succeed(world: tuple[asyncio.AbstractEventLoop, ToolExecutor], tool: str) -> None:
    """Guards the fuzzer itself: if the starting points were already invalid, the near-miss
    strategy would never get past validation and the test above would prove little."""
    loop, executor = world
    args = VALID[tool]
    if tool == "book_tour":  # every run books; take a slot still free in this shared sandbox
        listing_id, slot = free_slots(executor.sandbox)[0]
        args = booking_args(listing_id, slot)
    outcome = loop.run_until_complete(run_and_check(executor, tool, args))
    assert outcome.ok, outcome
