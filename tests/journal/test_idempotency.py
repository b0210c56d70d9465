"""Idempotency records: claim, serve, conflict, release, leases and take-over, expire."""

from __future__ import annotations

import asyncio

import pytest

from tests.journal.helpers import FakeClock
from tests.support.processes import dead_local_owner
from tools.journal import JournalStore
from tools.journal.owners import new_owner

H1, H2 = "1" * 64, "2" * 64


async def test_claim_in_progress_done_conflict(store: JournalStore) -> None:
    first = await store.claim("call-1", "k", "charge_card", H1, "owner-a", 60)
    assert (first.status, first.owner) == ("claimed", "owner-a")

    busy = await store.claim("call-1", "k", "charge_card", H1, "owner-b", 60)
    assert (busy.status, busy.owner, busy.result) == ("in_progress", "owner-a", None)

    assert await store.finish("call-1", "k", "owner-a", "succeeded", {"charge_id": "ch_1", "amount": 128400})
    done = await store.claim("call-1", "k", "charge_card", H1, "owner-b", 60)
    assert done.status == "done" and done.outcome == "succeeded"
    assert done.result == {"charge_id": "ch_1", "amount": 128400}

    clash = await store.claim("call-1", "k", "charge_card", H2, "owner-b", 60)
    assert clash.status == "conflict" and clash.result is None


async def test_keys_are_scoped_to_the_call(store: JournalStore) -> None:
    assert (await store.claim("call-1", "k", "t", H1, "a", 60)).status == "claimed"
    assert (await store.claim("call-2", "k", "t", H2, "b", 60)).status == "claimed"


async def test_conflict_while_in_progress_and_no_reentry(store: JournalStore) -> None:
    await store.claim("c", "k", "t", H1, "a", 60)
    assert (await store.claim("c", "k", "t", H2, "b", 60)).status == "conflict"
    # The same owner (e.g. one token per process) racing a duplicate must wait too.
    again = await store.claim("c", "k", "t", H1, "a", 60)
    assert (again.status, again.owner) == ("in_progress", "a")


async def test_failed_outcome_is_served_too(store: JournalStore) -> None:
    await store.claim("c", "k", "t", H1, "a", 60)
    assert await store.finish("c", "k", "a", "failed", {"error": "card_declined"})
    served = await store.claim("c", "k", "t", H1, "b", 60)
    assert (served.status, served.outcome, served.result) == ("done", "failed", {"error": "card_declined"})


async def test_finish_needs_the_owner_and_an_open_claim(store: JournalStore) -> None:
    assert not await store.finish("c", "k", "a", "succeeded", None)  # never claimed
    await store.claim("c", "k", "t", H1, "a", 60)
    assert not await store.finish("c", "k", "intruder", "succeeded", {"x": 1})
    assert await store.finish("c", "k", "a", "succeeded", None)
    assert not await store.finish("c", "k", "a", "failed", None)  # already finished
    done = await store.claim("c", "k", "t", H1, "b", 60)
    assert (done.status, done.result, done.outcome) == ("done", None, "succeeded")


async def test_release_frees_the_key_for_a_later_attempt(store: JournalStore) -> None:
    await store.claim("c", "k", "t", H1, "a", 60)
    assert not await store.release("c", "k", "b")
    assert await store.release("c", "k", "a")
    assert not await store.release("c", "k", "a")
    assert (await store.claim("c", "k", "t", H2, "b", 60)).status == "claimed"
    await store.finish("c", "k", "b", "succeeded", {"ok": True})
    assert not await store.release("c", "k", "b")  # a finished record is not released
    assert (await store.claim("c", "k", "t", H2, "x", 60)).status == "done"


async def test_reclaim_stale_takes_over_only_a_claim_nobody_owns(store: JournalStore, clock: FakeClock) -> None:
    """A dead owner's claim is taken at once; a live one's never; one on another host (liveness
    unknown) only once its lease ran out."""
    assert await store.reclaim_stale("c", "k", "resumer", lease_s=60) is None  # nothing to take over
    dead, alive = dead_local_owner(), new_owner()
    await store.claim("c", "k", "t", H1, alive, 60)
    await store.claim("c", "k2", "t", H1, "worker-on-another-host", 60)
    await store.claim("c", "k3", "t", H1, dead, 60)

    refused = await store.reclaim_stale("c", "k", "resumer", lease_s=60)
    assert refused is not None and (refused.status, refused.owner) == ("in_progress", alive)
    remote = await store.reclaim_stale("c", "k2", "resumer", lease_s=60)
    assert remote is not None and (remote.status, remote.owner) == ("in_progress", "worker-on-another-host")

    taken = await store.reclaim_stale("c", "k3", "resumer", lease_s=60)
    assert taken is not None and (taken.status, taken.owner) == ("claimed", "resumer")
    assert not await store.finish("c", "k3", dead, "succeeded", {"late": True})
    assert (await store.claim("c", "k3", "t", H1, "other", 60)).owner == "resumer"
    assert await store.finish("c", "k3", "resumer", "succeeded", {"n": 1})
    done = await store.reclaim_stale("c", "k3", "another", lease_s=60)
    assert done is not None and (done.status, done.result) == ("done", {"n": 1})

    clock.advance(60)  # the remote owner stopped renewing: its lease ran out, the claim is free
    assert await store.reclaim_stale("c", "k2", "resumer", lease_s=60) is None
    assert (await store.claim("c", "k2", "t", H1, "resumer", 60)).status == "claimed"


async def test_a_renewed_lease_keeps_the_claim_owned(store: JournalStore, clock: FakeClock) -> None:
    await store.claim("c", "k", "t", H1, "runner", 10)
    for _ in range(5):  # a long call: the runner renews before each lease runs out
        clock.advance(8)
        assert await store.renew("c", "k", "runner", 10)
        assert (await store.claim("c", "k", "t", H1, "resumer", 10)).status == "in_progress"
    assert not await store.renew("c", "k", "intruder", 10)
    clock.advance(10)  # the runner stopped renewing (hung, or died on another host)
    assert (await store.claim("c", "k", "t", H1, "resumer", 10)).status == "claimed"
    assert not await store.renew("c", "k", "runner", 10)  # it learns it lost the claim
    assert not await store.finish("c", "k", "runner", "succeeded", {"late": True})


async def test_expired_records_behave_as_absent(store: JournalStore, clock: FakeClock) -> None:
    await store.claim("c", "k", "t", H1, "a", 10)
    clock.advance(9.9)
    assert (await store.claim("c", "k", "t", H1, "b", 10)).status == "in_progress"
    clock.advance(0.1)
    assert await store.reclaim_stale("c", "k", "b", lease_s=10) is None
    again = await store.claim("c", "k", "t", H2, "b", 10)  # even other arguments: the old record is gone
    assert (again.status, again.owner) == ("claimed", "b")

    await store.finish("c", "k", "b", "succeeded", {"v": 1}, ttl_s=100)
    clock.advance(99)
    assert (await store.claim("c", "k", "t", H2, "z", 10)).status == "done"
    clock.advance(1)
    assert (await store.claim("c", "k", "t", H1, "z", 10)).status == "claimed"


@pytest.mark.parametrize("same_owner", [False, True])
async def test_concurrent_claims_elect_exactly_one_owner(store: JournalStore, same_owner: bool) -> None:
    owners = ["proc-1" if same_owner else f"o{i}" for i in range(20)]
    claims = await asyncio.gather(*(store.claim("c", "k", "t", H1, owner, 60) for owner in owners))
    winners = [c for c in claims if c.status == "claimed"]
    assert len(winners) == 1
    assert {c.status for c in claims if c is not winners[0]} == {"in_progress"}
    assert {c.owner for c in claims} == {winners[0].owner}
