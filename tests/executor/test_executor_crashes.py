"""Kill the process at every boundary of a tool call; resume; still exactly one effect.

This is the test the exactly-once design exists for. A worker process runs ``charge_card``
or ``book_tour`` and is killed with SIGKILL (no ``finally``, no flush, no goodbye) at a
precise point: before a step's journal line, after it, before the backend effect, inside
the backend op after its commit, after the effect but before ``step_succeeded``, between the
idempotency record and ``call_succeeded``, after everything. Then ``ToolExecutor.resume``
continues the call — sometimes itself killed at a later point and resumed again — and the
world must hold exactly one charge or booking for that conversation, the journal must no
longer list the call as unfinished, its chain must verify, and asking for the same call
again must return the same result without a new effect.

The children are forked (``multiprocessing`` "fork" context), so they start in
milliseconds and share nothing with the parent but the two database files: the sandbox
(the outside world) and the journal. Crash points come from ``ToolExecutor.crash_hook``
(labels at each boundary of ``_execute``) and the sandbox fault ``kill`` (inside a backend
op, after its effect committed). The parent forks only while it has no threads running
(its journal store is opened and closed around each check), so a child never inherits a
lock held by a thread that does not exist in it.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import random
import signal
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from tests.executor.helpers import (
    CHARGE,
    DECLINED_CARD,
    STEP_OPS,
    STEP_TABLE,
    STEPS,
    booking_args,
    effects_of,
    expected_effects,
    fast_retry,
    free_slots,
    kinds,
    open_journal,
    taken_slot,
    total_effects,
)
from tests.support.dates import SCENARIO_TODAY
from tools.executor import ToolExecutor
from tools.journal.store import ENTRIES_TABLE
from tools.journal.verify import verify_chain
from tools.registry import ToolOutcome
from tools.sandbox import Sandbox

FORK = multiprocessing.get_context("fork")
#: Crash points after which ``resume`` has nothing to run: the call never started (or never
#: got past ``prepare``), or its outcome is already stored and resume only writes the journal line.
NO_RESUME_WORK = frozenset({"kill:tokenize", "before_start", "after_finish_claim", "after_finish", "after_fail_claim"})
#: How often each crash point is visited: with 0, 1 and 2 further crashes inside resume.
REPETITIONS = 3
MIN_CRASHES = 200


def success_path(tool: str) -> tuple[str, ...]:
    """The crash labels a successful call passes, in order (``kill:<step>`` = inside the step's backend op)."""
    labels = ["before_start"]
    for step in STEPS[tool]:
        labels += [f"before_step:{step}", f"before_effect:{step}", f"kill:{step}", f"after_step:{step}",
                   f"after_step_journal:{step}"]
    return (*labels, "before_finish", "after_finish_claim", "after_finish")


def failure_path(tool: str) -> tuple[str, ...]:
    """The labels of a call whose first step fails permanently (declined card, slot taken)."""
    first = STEPS[tool][0]
    return ("before_start", f"before_step:{first}", f"before_effect:{first}", f"after_step_failed:{first}",
            "before_fail", "after_fail_claim")


@dataclass(frozen=True)
class Scenario:
    """One kind of call and every point its first run is killed at."""

    name: str
    tool: str
    succeeds: bool
    points: tuple[str, ...]
    path: tuple[str, ...]
    """Labels a clean run (a resume) passes: where a resume can be killed."""
    error_code: str | None = None
    arm: tuple[str, str, str] | None = None
    """A fault armed in the first run only (a retried step, to crash between its attempts)."""


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("charge", "charge_card", True, ("kill:tokenize", *success_path("charge_card")), success_path("charge_card")),
    Scenario("booking", "book_tour", True, success_path("book_tour"), success_path("book_tour")),
    Scenario("charge-retrying", "charge_card", True, ("after_step_failed:capture",), success_path("charge_card"),
             arm=("payments", "capture", "crash_after_effect")),
    Scenario("booking-retrying", "book_tour", True, ("after_step_failed:confirm_event",), success_path("book_tour"),
             arm=("calendar", "confirm", "crash_after_effect")),
    Scenario("declined", "charge_card", False, failure_path("charge_card"), failure_path("charge_card"),
             error_code="card_declined"),
    Scenario("slot-taken", "book_tour", False, failure_path("book_tour"), failure_path("book_tour"),
             error_code="conflict"),
)


def steps_done(tool: str, point: str) -> set[str]:
    """Steps whose ``step_succeeded`` is journaled when the process died at ``point``."""
    kind, _, step = point.partition(":")
    steps = STEPS[tool]
    if point in ("before_finish", "after_finish_claim", "after_finish"):
        return set(steps)
    if step not in steps:  # before_start, kill:tokenize, before_fail, after_fail_claim
        return set()
    index = steps.index(step)
    return set(steps[: index + 1] if kind == "after_step_journal" else steps[:index])


def resume_path(scenario: Scenario, point: str) -> tuple[str, ...]:
    """The labels a resume passes after a death at ``point``: from the first step not done."""
    if point in NO_RESUME_WORK:
        return ()
    done = steps_done(scenario.tool, point)
    todo = [s for s in STEPS[scenario.tool] if s not in done]
    entry = f"before_step:{todo[0]}" if todo else "before_finish"
    return scenario.path[scenario.path.index(entry):]


def last_entry_after(scenario: Scenario, point: str) -> tuple[str, str | None] | None:
    """(kind, step) of the journal's last entry for a call killed at ``point``."""
    kind, _, step = point.partition(":")
    steps = STEPS[scenario.tool]
    if point in ("kill:tokenize", "before_start"):  # only the request, journaled before prepare
        return ("call_requested", None)
    if kind == "before_step":
        index = steps.index(step)
        return ("step_succeeded", steps[index - 1]) if index else ("call_started", None)
    if kind in ("before_effect", "kill", "after_step"):
        return ("step_started", step)
    if kind == "after_step_journal":
        return ("step_succeeded", step)
    if point in ("before_finish", "after_finish_claim"):
        return ("step_succeeded", steps[-1])
    if point == "after_finish":
        return ("call_succeeded", None)
    if kind == "after_step_failed":
        return ("step_failed", step)
    assert point in ("before_fail", "after_fail_claim"), point
    return ("step_failed", steps[0])


# ------------------------------------------------------------------------------ the child


@dataclass(frozen=True)
class ChildJob:
    sandbox_path: Path
    journal_path: Path
    call_id: str
    tool: str
    args: dict[str, Any]
    crash_at: str
    resume: bool
    arm: tuple[str, str, str] | None = None


def _die_at(target: str, label: str) -> None:
    if label == target:
        os.kill(os.getpid(), signal.SIGKILL)


def child_main(job: ChildJob) -> None:
    """Runs in the forked child: its own sandbox and journal connections, then dies at ``crash_at``."""
    logger.remove()  # quiet, and no handler lock inherited from the parent
    asyncio.run(_child(job))
    # Reaching this line means the crash point was never passed: the parent fails the test.


async def _child(job: ChildJob) -> None:
    sb = Sandbox.open(job.sandbox_path, SCENARIO_TODAY)
    store = await open_journal(job.journal_path)
    if job.crash_at.startswith("kill:"):
        backend, op = STEP_OPS[job.crash_at.removeprefix("kill:")]
        sb.faults.arm(backend, op, "kill")
    if job.arm is not None:
        backend, op, kind = job.arm
        sb.faults.arm(backend, op, kind, delay_s=0)  # type: ignore[arg-type]
    executor = ToolExecutor(sandbox=sb, store=store, retry=fast_retry(), seed=11,
                            crash_hook=functools.partial(_die_at, job.crash_at))
    if job.resume:
        await executor.resume(job.call_id)
    else:
        await executor.run(job.call_id, job.tool, job.args, turn=1, tool_call_id=f"{job.call_id}-tc1")


def run_child_to_its_death(job: ChildJob) -> None:
    child = FORK.Process(target=child_main, args=(job,), daemon=True)
    child.start()
    child.join(timeout=30)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"child hung: {job}")
    assert child.exitcode == -signal.SIGKILL, (
        f"child was not killed at {job.crash_at!r} ({'resume' if job.resume else 'run'} of {job.call_id}): "
        f"exit code {child.exitcode}")


# ------------------------------------------------------------------------------ the parent


def last_journal_entry(journal_path: Path, call_id: str) -> tuple[str, str | None] | None:
    """Read with plain sqlite3: no store, so no worker thread exists when the next child forks."""
    conn = sqlite3.connect(journal_path)
    try:
        row = conn.execute(f"SELECT kind, step FROM {ENTRIES_TABLE} WHERE call_id = ? ORDER BY seq DESC LIMIT 1",
                           (call_id,)).fetchone()
    finally:
        conn.close()
    return None if row is None else (str(row[0]), row[1])


def same_answer(a: ToolOutcome, b: ToolOutcome) -> bool:
    return (a.ok, a.error_code, a.result) == (b.ok, b.error_code, b.result)


async def recover_and_check(sb: Sandbox, journal_path: Path, scenario: Scenario, call_id: str,
                            args: dict[str, Any], totals_before: dict[str, int]) -> None:
    """Resume in the parent, then check the world, the journal and two repeats of the call."""
    store = await open_journal(journal_path)
    try:
        executor = ToolExecutor(sandbox=sb, store=store, retry=fast_retry(), seed=5, wait_s=0.3)
        resumed = await executor.resume(call_id)
        assert len(resumed) <= 1
        assert call_id not in [cid for cid, _ in await store.unfinished()]
        if resumed:
            assert resumed[0].ok == scenario.succeeds and resumed[0].error_code == scenario.error_code, resumed

        first = await executor.run(call_id, scenario.tool, args, turn=2, tool_call_id=f"{call_id}-tc2")
        after_first = effects_of(sb, call_id)
        again = await executor.run(call_id, scenario.tool, args, turn=3, tool_call_id=f"{call_id}-tc3")

        assert first.ok == scenario.succeeds and first.error_code == scenario.error_code, first
        if resumed:  # resume finished the call: the repeat is served its result
            assert first.replayed and same_answer(first, resumed[0]), (first, resumed[0])
        assert again.replayed and same_answer(again, first), (again, first)
        expected = expected_effects(scenario.tool, done=scenario.succeeds)
        assert after_first == expected
        assert effects_of(sb, call_id) == expected  # the repeat added nothing
        totals = total_effects(sb)
        assert {t: totals[t] - totals_before[t] for t in totals} == expected  # nothing outside this call either

        entries = await store.entries(call_id)
        report = verify_chain(entries, store.signer)
        assert report.ok, report
        assert call_id not in [cid for cid, _ in await store.unfinished()]
        terminal = Counter(k for k in kinds(entries) if k in ("call_succeeded", "call_failed"))
        assert terminal == Counter({"call_succeeded" if scenario.succeeds else "call_failed": 1}), terminal
        replays = 2 if first.replayed else 1
        answers = [k for k in kinds(entries) if k != "call_requested"]  # each repeat is requested, then served
        assert answers[-replays:] == ["call_replayed"] * replays
    finally:
        await store.close()


@dataclass
class Tally:
    crashes: int = 0
    in_resume: int = 0
    by_point: Counter[str] = field(default_factory=Counter)


def test_every_crash_hook_label_is_passed_in_order(sb: Sandbox, tmp_path: Path) -> None:
    """The crash test trusts ``success_path``: check it against a real run's labels."""
    labels: list[str] = []

    async def run() -> tuple[ToolOutcome, ToolOutcome]:
        store = await open_journal(tmp_path / "labels.db")
        try:
            executor = ToolExecutor(sandbox=sb, store=store, retry=fast_retry(), crash_hook=labels.append)
            listing_id, slot = free_slots(sb)[0]
            charge = await executor.run("labels-1", "charge_card", CHARGE)
            booking = await executor.run("labels-2", "book_tour", booking_args(listing_id, slot))
            return charge, booking
        finally:
            await store.close()

    charge, booking = asyncio.run(run())

    assert charge.ok and booking.ok
    without_kills = [label for label in (*success_path("charge_card"), *success_path("book_tour"))
                     if not label.startswith("kill:")]
    assert labels == without_kills


def test_sigkill_at_every_boundary_then_resume_is_exactly_once(tmp_path: Path) -> None:
    started = time.monotonic()
    sandbox_path, journal_path = tmp_path / "sandbox.db", tmp_path / "journal.db"
    sb = Sandbox.open(sandbox_path, SCENARIO_TODAY)
    try:
        slots = iter(free_slots(sb))
        taken = taken_slot(sb)
        rng = random.Random(20261126)
        tally = Tally()
        conversation = 0
        for scenario in SCENARIOS:
            for point in scenario.points:
                for repetition in range(REPETITIONS):
                    conversation += 1
                    call_id = f"crash-{conversation:04d}"
                    if scenario.tool == "charge_card":
                        args = dict(CHARGE, card_number=DECLINED_CARD) if not scenario.succeeds else dict(CHARGE)
                    else:
                        listing_id, slot = taken if not scenario.succeeds else next(slots)
                        args = booking_args(listing_id, slot)
                    totals_before = total_effects(sb)

                    # 1. The call dies at the point.
                    run_child_to_its_death(ChildJob(sandbox_path, journal_path, call_id, scenario.tool, args,
                                                    crash_at=point, resume=False, arm=scenario.arm))
                    tally.crashes += 1
                    tally.by_point[point] += 1
                    assert last_journal_entry(journal_path, call_id) == last_entry_after(scenario, point), point
                    kind, _, step = point.partition(":")
                    if step in STEP_TABLE and kind in ("before_effect", "kill", "after_step"):
                        effect_rows = effects_of(sb, call_id)[STEP_TABLE[step]]
                        assert effect_rows == (0 if kind == "before_effect" else 1), (point, effect_rows)

                    # 2. Resumes that die too, each at a point of its own path (0, 1 or 2 of them).
                    current = point
                    for nth in range(repetition):
                        options = list(resume_path(scenario, current))
                        if nth < repetition - 1:  # another resume follows: leave it something to do
                            options = [o for o in options if o not in NO_RESUME_WORK]
                        if not options:
                            break
                        current = rng.choice(options)
                        run_child_to_its_death(ChildJob(sandbox_path, journal_path, call_id, scenario.tool, args,
                                                        crash_at=current, resume=True))
                        tally.crashes += 1
                        tally.in_resume += 1
                        tally.by_point[f"resume:{current}"] += 1

                    # 3. The parent resumes, and everything adds up.
                    asyncio.run(recover_and_check(sb, journal_path, scenario, call_id, args, totals_before))
    finally:
        sb.close()

    elapsed = time.monotonic() - started
    print(f"\n{tally.crashes} crashes injected ({tally.in_resume} inside resume) over {conversation} "
          f"conversations in {elapsed:.1f}s")
    assert tally.crashes >= MIN_CRASHES
    assert tally.in_resume >= 100
    every_point = {p for s in SCENARIOS for p in s.points}
    assert every_point <= set(tally.by_point)
