"""Editing the database behind the store's back is caught, at the right entry."""

from __future__ import annotations

import pytest

from tests.journal.conftest import Backend
from tools.journal import JournalEntry, JournalStore, Signer, verify_chain, verify_store
from tools.journal.records import GENESIS_HASH
from tools.journal.rows import entry_to_row, make_draft
from tools.journal.verify import DUPLICATE_SEQUENCE, PREV_HASH_MISMATCH, SEQUENCE_GAP, SIGNATURE_MISMATCH

CALL = "call-tamper"


@pytest.fixture
async def chain(store: JournalStore) -> list[JournalEntry]:
    """Five entries of one tool call, plus an untouched neighbouring call."""
    entries = [
        await store.append(
            CALL, "call_started", tool="charge_card", idempotency_key="k", payload={"amount_cents": 128400}
        ),
        await store.append(CALL, "step_started", tool="charge_card", idempotency_key="k", step="authorize"),
        await store.append(
            CALL,
            "step_succeeded",
            tool="charge_card",
            idempotency_key="k",
            step="authorize",
            payload={"authorization": "auth_77", "amount_cents": 128400},
        ),
        await store.append(CALL, "step_started", tool="charge_card", idempotency_key="k", step="capture"),
        await store.append(CALL, "call_succeeded", tool="charge_card", idempotency_key="k", payload={"charge": "ch_9"}),
    ]
    await store.append("call-other", "event", payload={"untouched": True})
    return entries


def forged(signer: Signer, seq: int, prev_hash: str) -> JournalEntry:
    draft = make_draft(
        CALL,
        "call_succeeded",
        tool="charge_card",
        tool_call_id=None,
        idempotency_key="k",
        step=None,
        attempt=None,
        turn=None,
        payload={"charge": "ch_forged"},
        args_hash=None,
        at=1.0,
    )
    return draft.entry(seq, prev_hash, draft.sign(signer, seq, prev_hash))


async def check(store: JournalStore, bad_seq: int, reason: str) -> str:
    report = verify_chain(await store.entries(CALL), store.signer)
    assert (report.ok, report.bad_seq, report.reason) == (False, bad_seq, reason), report
    assert report.checked == bad_seq - 1 or reason == SEQUENCE_GAP
    others = [r for r in await verify_store(store) if r.call_id != CALL]
    assert others and all(r.ok for r in others)
    return report.detail or ""


async def test_untouched_chain_verifies(store: JournalStore, chain: list[JournalEntry]) -> None:
    report = verify_chain(await store.entries(CALL), store.signer)
    assert report.ok and report.checked == 5 and report.bad_seq is None


async def test_edited_payload_byte(store: JournalStore, chain: list[JournalEntry], backend: Backend) -> None:
    text = await backend.raw.payload(CALL, 3)
    assert "128400" in text
    await backend.raw.set_payload(CALL, 3, text.replace("128400", "128401"))
    await check(store, 3, SIGNATURE_MISMATCH)


async def test_unparseable_payload_is_reported_not_raised(
    store: JournalStore, chain: list[JournalEntry], backend: Backend
) -> None:
    await backend.raw.set_payload(CALL, 2, "{not json")
    await check(store, 2, SIGNATURE_MISMATCH)


async def test_deleted_entry(store: JournalStore, chain: list[JournalEntry], backend: Backend) -> None:
    await backend.raw.delete(CALL, 3)
    detail = await check(store, 4, SEQUENCE_GAP)
    assert "seq 3 missing" in detail


async def test_deleted_first_entry(store: JournalStore, chain: list[JournalEntry], backend: Backend) -> None:
    await backend.raw.delete(CALL, 1)
    assert "seq 1 missing" in await check(store, 2, SEQUENCE_GAP)


async def test_swapped_entries(store: JournalStore, chain: list[JournalEntry], backend: Backend) -> None:
    await backend.raw.swap_contents(CALL, 2, 4)
    await check(store, 2, SIGNATURE_MISMATCH)


async def test_forged_entry_appended_with_another_key(
    store: JournalStore, chain: list[JournalEntry], backend: Backend
) -> None:
    fake = forged(Signer(b"attacker-key-000000000000000000!"), 6, chain[-1].signature)
    await backend.raw.insert(entry_to_row(fake))
    await check(store, 6, SIGNATURE_MISMATCH)


async def test_forged_entry_inserted_in_the_middle(
    store: JournalStore, chain: list[JournalEntry], backend: Backend
) -> None:
    await backend.raw.shift_up(CALL, 3)
    fake = forged(Signer(b"attacker-key-000000000000000000!"), 3, chain[1].signature)
    await backend.raw.insert(entry_to_row(fake))
    await check(store, 3, SIGNATURE_MISMATCH)


async def test_append_after_tampering_does_not_hide_it(
    store: JournalStore, chain: list[JournalEntry], backend: Backend
) -> None:
    """New entries after an edit do not re-legitimise it: the first break is still reported."""
    await backend.raw.set_payload(CALL, 2, '{"edited":true}')
    entry = await store.append(CALL, "event")
    assert entry.seq == 6 and entry.prev_hash == chain[4].signature
    await check(store, 2, SIGNATURE_MISMATCH)


def test_entry_from_another_chain_position_is_caught(signer: Signer) -> None:
    """Validly signed entries that do not link up (only possible with the key) are still caught."""
    one = forged(signer, 1, GENESIS_HASH)
    two = forged(signer, 2, one.signature)
    unlinked = forged(signer, 2, "f" * 64)
    report = verify_chain([one, unlinked], signer)
    assert (report.bad_seq, report.reason) == (2, PREV_HASH_MISMATCH)
    report = verify_chain([one, two, two], signer)
    assert (report.bad_seq, report.reason) == (2, DUPLICATE_SEQUENCE)
    report = verify_chain([two, one], signer)
    assert (report.bad_seq, report.reason) == (2, SEQUENCE_GAP)
    three = forged(signer, 3, two.signature)
    report = verify_chain([one, three, two], signer)
    assert (report.ok, report.bad_seq) == (False, 3)
    assert verify_chain([one, two, three], signer).ok
    assert verify_chain([], signer).ok


async def test_wrong_key_fails_at_the_first_entry(store: JournalStore, chain: list[JournalEntry]) -> None:
    report = verify_chain(await store.entries(CALL), Signer(b"some other key material 00000000"))
    assert (report.bad_seq, report.reason) == (1, SIGNATURE_MISMATCH)
