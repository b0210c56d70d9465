"""Appending and reading the journal, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio

import pytest

from tests.journal.conftest import Backend
from tests.journal.helpers import FakeClock
from tools.journal import GENESIS_HASH, EntryKind, JournalStore, Signer, open_store, verify_chain, verify_store


async def test_append_read_and_chain(store: JournalStore, signer: Signer, clock: FakeClock) -> None:
    first = await store.append(
        "call-1",
        EntryKind.call_started,
        tool="charge_card",
        tool_call_id="tc-1",
        idempotency_key="k1",
        turn=3,
        payload={"args": {"policy": "POL-4821", "card": "•••• 4242"}, "pair": (1, 2)},
        args_hash="a" * 64,
    )
    clock.advance(1.5)
    second = await store.append(
        "call-1", "step_started", tool="charge_card", idempotency_key="k1", step="tokenize", attempt=1
    )
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.signature
    assert first.at == clock.now - 1.5 and second.at == clock.now
    assert first.payload == {"args": {"policy": "POL-4821", "card": "•••• 4242"}, "pair": [1, 2]}
    assert first.kind is EntryKind.call_started and signer.verify(first) and signer.verify(second)

    stored = await store.entries("call-1")
    assert stored == [first, second]
    assert verify_chain(stored, signer).ok
    assert await store.entries("nobody") == []


async def test_calls_have_independent_chains(store: JournalStore, signer: Signer) -> None:
    for call in ("b", "a", "b", "c", "a"):
        await store.append(call, "event", payload={"call": call})
    assert await store.call_ids() == ["a", "b", "c"]
    assert [e.seq for e in await store.entries("a")] == [1, 2]
    reports = await verify_store(store)
    assert [(r.call_id, r.ok, r.checked) for r in reports] == [("a", True, 2), ("b", True, 2), ("c", True, 1)]


async def test_append_validates_before_writing(store: JournalStore) -> None:
    with pytest.raises(ValueError):
        await store.append("call-1", "no_such_kind")
    with pytest.raises(ValueError):
        await store.append("call-1", "call_started", tool="charge_card")  # no idempotency key
    with pytest.raises(ValueError):
        await store.append("", "event")
    with pytest.raises(TypeError):
        await store.append("call-1", "event", payload={"x": object()})
    assert await store.call_ids() == []


async def test_fifty_concurrent_appends_stay_contiguous_and_chained(store: JournalStore, signer: Signer) -> None:
    async def one(i: int) -> None:
        await store.append("busy", "event", payload={"i": i})
        await store.append(f"side-{i % 5}", "event", payload={"i": i})

    await asyncio.gather(*(one(i) for i in range(50)))
    busy = await store.entries("busy")
    assert [e.seq for e in busy] == list(range(1, 51))
    assert sorted(e.payload["i"] for e in busy if e.payload) == list(range(50))
    assert verify_chain(busy, signer).ok
    assert all(report.ok for report in await verify_store(store))


async def test_unfinished_lists_started_but_not_closed_tool_calls(store: JournalStore) -> None:
    async def start(call: str, key: str) -> None:
        await store.append(call, "call_started", tool="book_tour", idempotency_key=key)

    await start("A", "k1")
    await start("A", "k2")
    await store.append("A", "step_succeeded", tool="book_tour", idempotency_key="k2", step="hold")
    await store.append("A", "call_succeeded", tool="book_tour", idempotency_key="k1")
    await start("B", "k3")
    await store.append("B", "call_failed", tool="book_tour", idempotency_key="k3", payload={"error": "x"})
    await start("B", "k4")
    assert await store.unfinished() == [("A", "k2"), ("B", "k4")]
    # Started again after it had finished (e.g. a retry after expiry): unfinished again.
    await start("A", "k1")
    assert await store.unfinished() == [("A", "k2"), ("A", "k1"), ("B", "k4")]


async def test_reopened_store_continues_the_chain(backend: Backend, signer: Signer, clock: FakeClock) -> None:
    async with await open_store(backend.url, signer, clock=clock) as first:
        await first.append("call-1", "event")
        await first.append("call-1", "event")
    async with await open_store(backend.url, signer, clock=clock) as second:
        third = await second.append("call-1", "event")
        assert third.seq == 3
        assert verify_chain(await second.entries("call-1"), signer).ok


async def test_two_stores_on_one_database_interleave_safely(backend: Backend, signer: Signer) -> None:
    """Two independent stores (own connections, own tail memory) appending to one call."""
    async with await open_store(backend.url, signer) as one, await open_store(backend.url, signer) as two:
        for i in range(10):
            await (one if i % 3 else two).append("shared", "event", payload={"i": i})
        await asyncio.gather(*(s.append("shared", "event") for s in (one, two) for _ in range(10)))
        entries = await one.entries("shared")
    assert [e.seq for e in entries] == list(range(1, 31))
    assert verify_chain(entries, signer).ok


async def test_open_store_rejects_unknown_urls(signer: Signer) -> None:
    with pytest.raises(ValueError, match="sqlite:///"):
        await open_store("mysql://x/y", signer)
    with pytest.raises(ValueError):
        await open_store("sqlite:///", signer)
