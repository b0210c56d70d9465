"""Duplicate tool calls in one conversation have one effect; other conversations are separate.

The model repeats itself: the same charge proposed twice in a row, two identical calls
racing in one turn, or the same booking again three turns later with a fresh
``tool_call_id``. Each must be served the first call's result (``replayed=True``) with no
second charge or booking, and the journal must say so (``call_replayed``). The idempotency
key is scoped to the conversation, so another caller making the very same request is a
new call; and the same key with different arguments is a typed conflict, never a silent
overwrite or a second effect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.executor.helpers import (
    CHARGE,
    booking_args,
    effects_of,
    expected_effects,
    free_slots,
    kinds,
    of_kind,
    total_effects,
)
from tests.support.processes import dead_local_owner
from tools.executor import ToolExecutor
from tools.journal.records import args_hash
from tools.journal.store import JournalStore
from tools.journal.verify import verify_chain
from tools.registry import TOOLS, ToolOutcome
from tools.sandbox import Sandbox

TOOLS_WITH_EFFECTS = ("charge_card", "book_tour")


def args_for(sb: Sandbox, tool: str, index: int = 0) -> dict[str, Any]:
    if tool == "charge_card":
        return dict(CHARGE)
    listing_id, slot = free_slots(sb)[index]
    return booking_args(listing_id, slot)


def effect_id(tool: str, outcome: ToolOutcome) -> str:
    assert outcome.ok and outcome.result is not None, outcome
    return str(outcome.result["charge_id" if tool == "charge_card" else "booking_id"])


def one_effect(sb: Sandbox, tool: str) -> int:
    """The headline counter: charges for a payment, caller bookings for a tour."""
    return sb.payments.count_charges() if tool == "charge_card" else sb.calendar.count_bookings()


async def key_of(sb: Sandbox, tool: str, args: dict[str, Any]) -> str:
    prepared = await TOOLS[tool].plan.prepare(sb, TOOLS[tool].validate(args))
    key = TOOLS[tool].idempotency_key(prepared)
    assert key is not None
    return key


@pytest.mark.parametrize("tool", TOOLS_WITH_EFFECTS)
async def test_sequential_duplicate_is_served_the_stored_result(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], tool: str
) -> None:
    ex = make_executor()
    args = args_for(sb, tool)
    first = await ex.run("conv-seq", tool, args, turn=1, tool_call_id="tc-1")
    second = await ex.run("conv-seq", tool, args, turn=1, tool_call_id="tc-2")

    assert first.ok and not first.replayed
    assert second.ok and second.replayed
    assert effect_id(tool, second) == effect_id(tool, first)
    assert second.result == first.result
    assert one_effect(sb, tool) == 1
    assert effects_of(sb, "conv-seq") == expected_effects(tool, done=True)
    entries = await store.entries("conv-seq")
    assert kinds(entries).count("call_succeeded") == 1
    replayed = of_kind(entries, "call_replayed")
    assert [e.tool_call_id for e in replayed] == ["tc-2"]
    assert replayed[0].idempotency_key == await key_of(sb, tool, args)
    assert verify_chain(entries, store.signer).ok


@pytest.mark.parametrize("tool", TOOLS_WITH_EFFECTS)
async def test_parallel_duplicates_in_one_process_run_once(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], tool: str
) -> None:
    ex = make_executor()
    args = args_for(sb, tool)
    outcomes = await asyncio.gather(
        *(ex.run("conv-par", tool, args, turn=1, tool_call_id=f"tc-{n}") for n in range(4))
    )

    assert all(o.ok for o in outcomes), outcomes
    assert [o.replayed for o in outcomes].count(False) == 1
    assert len({effect_id(tool, o) for o in outcomes}) == 1
    assert one_effect(sb, tool) == 1
    assert effects_of(sb, "conv-par") == expected_effects(tool, done=True)
    entries = await store.entries("conv-par")
    assert kinds(entries).count("call_started") == 1
    assert kinds(entries).count("call_succeeded") == 1
    assert kinds(entries).count("call_replayed") == 3
    assert verify_chain(entries, store.signer).ok


@pytest.mark.parametrize("tool", TOOLS_WITH_EFFECTS)
async def test_parallel_duplicates_in_two_processes_run_once(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], tool: str
) -> None:
    """Two executors (two owners, as two worker processes would be) share only the databases:
    the loser of the claim sees ``in_progress``, waits, and is served the winner's result."""
    first_ex, second_ex = make_executor(owner="proc-a"), make_executor(owner="proc-b")
    args = args_for(sb, tool)
    outcomes = await asyncio.gather(
        first_ex.run("conv-2p", tool, args, turn=1, tool_call_id="tc-a"),
        second_ex.run("conv-2p", tool, args, turn=1, tool_call_id="tc-b"),
    )

    assert all(o.ok for o in outcomes), outcomes
    assert sorted(o.replayed for o in outcomes) == [False, True]
    assert effect_id(tool, outcomes[0]) == effect_id(tool, outcomes[1])
    assert one_effect(sb, tool) == 1
    entries = await store.entries("conv-2p")
    assert kinds(entries).count("call_succeeded") == 1
    assert kinds(entries).count("call_replayed") == 1


@pytest.mark.parametrize("tool", TOOLS_WITH_EFFECTS)
async def test_same_call_in_a_later_turn_is_replayed(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], tool: str
) -> None:
    ex = make_executor()
    args = args_for(sb, tool)
    first = await ex.run("conv-later", tool, args, turn=3, tool_call_id="call_abc")
    # A fresh executor: the later turn may be served by a restarted worker, which only has the journal.
    later = await make_executor(owner="restarted").run("conv-later", tool, args, turn=7, tool_call_id="call_xyz")

    assert later.ok and later.replayed
    assert later.result == first.result
    assert one_effect(sb, tool) == 1
    entries = await store.entries("conv-later")
    replayed = of_kind(entries, "call_replayed")
    assert [(e.tool_call_id, e.turn) for e in replayed] == [("call_xyz", 7)]
    assert kinds(entries).count("call_started") == 1


@pytest.mark.parametrize("tool", TOOLS_WITH_EFFECTS)
async def test_sequential_parallel_and_later_duplicates_together_make_one_effect(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], tool: str
) -> None:
    ex = make_executor()
    args = args_for(sb, tool)
    first = await ex.run("conv-all", tool, args, turn=1, tool_call_id="t1-a")
    again = await ex.run("conv-all", tool, args, turn=1, tool_call_id="t1-b")
    racing = await asyncio.gather(*(ex.run("conv-all", tool, args, turn=2, tool_call_id=f"t2-{n}") for n in range(3)))
    later = await ex.run("conv-all", tool, args, turn=5, tool_call_id="t5")

    duplicates = [again, *racing, later]
    assert all(o.ok and o.replayed for o in duplicates), duplicates
    assert {effect_id(tool, o) for o in duplicates} == {effect_id(tool, first)}
    assert one_effect(sb, tool) == 1
    assert effects_of(sb, "conv-all") == expected_effects(tool, done=True)
    assert kinds(await store.entries("conv-all")).count("call_replayed") == len(duplicates)


async def test_other_conversations_are_charged_independently(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor]
) -> None:
    ex = make_executor()
    a = await ex.run("conv-A", "charge_card", CHARGE, turn=1, tool_call_id="same-id")
    b = await ex.run("conv-B", "charge_card", CHARGE, turn=1, tool_call_id="same-id")

    assert a.ok and b.ok and not a.replayed and not b.replayed
    assert effect_id("charge_card", a) != effect_id("charge_card", b)
    assert sb.payments.count_charges() == 2
    assert effects_of(sb, "conv-A") == effects_of(sb, "conv-B") == expected_effects("charge_card", done=True)
    assert of_kind(await store.entries("conv-B"), "call_replayed") == []


async def test_another_conversation_booking_the_same_slot_is_not_served_the_first_booking(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor]
) -> None:
    """Same listing, slot and phone in another conversation: its own call, which the calendar
    refuses (the slot is taken) — proof it reached the backend instead of the first result."""
    ex = make_executor()
    args = args_for(sb, "book_tour")
    a = await ex.run("conv-A", "book_tour", args, turn=1)
    b = await ex.run("conv-B", "book_tour", args, turn=1)

    assert a.ok and not a.replayed
    assert not b.ok and not b.replayed and b.error_code == "conflict"
    assert sb.calendar.count_bookings() == 1
    assert effects_of(sb, "conv-B") == expected_effects("book_tour", done=False)
    # Conversation B's own retry of the same call gets B's stored failure, not A's booking.
    b_again = await ex.run("conv-B", "book_tour", args, turn=2)
    assert not b_again.ok and b_again.replayed and b_again.error_code == "conflict"
    # And another slot in B is simply a second booking.
    other = await ex.run("conv-B", "book_tour", args_for(sb, "book_tour", index=0), turn=3)
    assert other.ok and not other.replayed and effect_id("book_tour", other) != effect_id("book_tour", a)
    assert sb.calendar.count_bookings() == 2


async def test_conflicting_arguments_under_one_key_are_refused_without_an_effect(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor]
) -> None:
    ex = make_executor()
    args = args_for(sb, "book_tour")
    first = await ex.run("conv-x", "book_tour", args, turn=1, tool_call_id="tc-1")
    before = total_effects(sb)
    renamed = {**args, "name": "Someone Else"}  # same listing, slot and phone: same business key
    assert await key_of(sb, "book_tour", renamed) == await key_of(sb, "book_tour", args)

    clash = await ex.run("conv-x", "book_tour", renamed, turn=2, tool_call_id="tc-2")

    assert first.ok
    assert not clash.ok and clash.error_code == "idempotency_conflict" and not clash.transient
    assert total_effects(sb) == before
    booking = sb.calendar.get_booking(effect_id("book_tour", first))
    assert booking is not None and booking.name == "Maria Gonzalez"
    entries = await store.entries("conv-x")
    failed = of_kind(entries, "call_failed")
    assert [(e.tool_call_id, (e.payload or {}).get("error")) for e in failed] == [("tc-2", "idempotency_conflict")]
    # The original arguments are still served the original booking.
    again = await ex.run("conv-x", "book_tour", args, turn=3, tool_call_id="tc-3")
    assert again.ok and again.replayed and again.result == first.result
    assert verify_chain(entries, store.signer).ok


@pytest.mark.parametrize("owner, lease_s", [("dead-worker", 0.05), ("dead-local", 3600.0), ("live-local", 3600.0)],
                         ids=["lease-ran-out", "owner-process-gone", "owner-alive"])
async def test_a_claim_nothing_journaled_is_taken_over_only_when_nobody_owns_it(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor], owner: str, lease_s: float
) -> None:
    """A worker killed between its claim and ``call_started`` used to block the key for 24 h:
    resume cannot see it (nothing journaled). Its claim is taken over once nobody owns it: its
    lease ran out, or its process is gone; a live owner keeps it, however long it takes."""
    args = args_for(sb, "charge_card")
    key = await key_of(sb, "charge_card", args)
    prepared = await TOOLS["charge_card"].plan.prepare(sb, TOOLS["charge_card"].validate(args))
    holder = {"dead-local": dead_local_owner(), "live-local": make_executor().owner}.get(owner, owner)
    dead = await store.claim("conv-orphan", key, "charge_card", args_hash("charge_card", prepared), holder, lease_s)
    assert dead.status == "claimed"
    await asyncio.sleep(0.1)

    outcome = await make_executor(wait_s=0.2).run("conv-orphan", "charge_card", args, turn=1)

    if owner == "live-local":
        assert not outcome.ok and outcome.error_code == "in_progress_elsewhere"
        assert effects_of(sb, "conv-orphan") == expected_effects("charge_card", done=False)
        return
    assert outcome.ok and not outcome.replayed
    assert effects_of(sb, "conv-orphan") == expected_effects("charge_card", done=True)
    assert kinds(await store.entries("conv-orphan")) == [
        "call_requested", "call_started", "step_started", "step_succeeded", "step_started", "step_succeeded",
        "step_started", "step_succeeded", "call_succeeded"]


async def test_a_claim_whose_owner_journaled_its_start_is_still_waited_for_not_taken_over(
    sb: Sandbox, store: JournalStore, make_executor: Callable[..., ToolExecutor]
) -> None:
    """The takeover is only for claims nothing recorded: a call another worker has started
    (and may still be running) is left to it, or to ``resume`` if that worker died."""
    args = args_for(sb, "charge_card")
    key = await key_of(sb, "charge_card", args)
    prepared = await TOOLS["charge_card"].plan.prepare(sb, TOOLS["charge_card"].validate(args))
    await store.claim("conv-busy", key, "charge_card", args_hash("charge_card", prepared), "busy-worker", 3600)
    await store.append("conv-busy", "call_started", tool="charge_card", idempotency_key=key, payload={"args": prepared})

    outcome = await make_executor(wait_s=0.2).run("conv-busy", "charge_card", args, turn=1)

    assert not outcome.ok and outcome.error_code == "in_progress_elsewhere" and outcome.transient
    assert effects_of(sb, "conv-busy") == expected_effects("charge_card", done=False)
