"""Editing the database behind the store's back is caught, at the right entry.

Edits, deletions, swaps and forged inserts break the chain; deleting its *last* entries (or
all of them) is caught by the call's signed head; an edited idempotency record is never
served; and a lost key is neither replaced nor able to make a journal look valid.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.journal.conftest import Backend
from tests.journal.helpers import FakeClock
from tools.journal import JournalEntry, JournalKeyError, JournalStore, Signer, load_signing_key, open_store
from tools.journal import verify_chain, verify_store
from tools.journal.records import GENESIS_HASH
from tools.journal.rows import entry_to_row, make_draft
from tools.journal.signing import KEY_FILE_NAME
from tools.journal.store import HEADS_TABLE, IDEMPOTENCY_TABLE
from tools.journal.verify import (
    CALL_DELETED,
    DUPLICATE_SEQUENCE,
    HEAD_MISMATCH,
    HEAD_MISSING,
    PREV_HASH_MISMATCH,
    SEQUENCE_GAP,
    SIGNATURE_MISMATCH,
    TRUNCATED,
)

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


# ---- truncation: the end of a chain is anchored by the call's head, kept outside it ------------


async def check_store(store: JournalStore, bad_seq: int | None, reason: str) -> str:
    """verify_store (chain and head) names ``reason`` at ``bad_seq`` for CALL, and passes the others."""
    report = (await verify_store(store, CALL))[0]
    assert (report.ok, report.bad_seq, report.reason) == (False, bad_seq, reason), report
    others = [r for r in await verify_store(store) if r.call_id != CALL]
    assert others and all(r.ok for r in others)
    return report.detail or ""


@pytest.mark.parametrize("keep", [4, 3, 1], ids=["from-the-last", "from-the-capture-onward", "all-but-the-first"])
async def test_deleting_the_last_entries_is_caught(
    store: JournalStore, chain: list[JournalEntry], backend: Backend, keep: int
) -> None:
    assert (await verify_store(store, CALL))[0].ok  # what remains is a valid, shorter chain...
    for seq in range(keep + 1, 6):
        await backend.raw.delete(CALL, seq)
    assert verify_chain(await store.entries(CALL), store.signer).ok  # ...as far as the chain alone can tell
    detail = await check_store(store, keep + 1, TRUNCATED)
    assert f"entries {keep + 1}..5 were deleted" in detail


async def test_a_deleted_call_is_told_from_a_call_that_never_existed(
    store: JournalStore, chain: list[JournalEntry], backend: Backend
) -> None:
    for seq in range(1, 6):
        await backend.raw.delete(CALL, seq)
    assert await store.entries(CALL) == []
    detail = await check_store(store, 1, CALL_DELETED)
    assert "5 entries" in detail
    assert CALL in [r.call_id for r in await verify_store(store) if not r.ok]  # a full check finds it too
    typo = (await verify_store(store, "call-tampr"))[0]
    assert (typo.ok, typo.checked, typo.reason) == (True, 0, None)  # unknown: nothing to verify, nothing wrong


async def test_a_deleted_head_is_caught(store: JournalStore, chain: list[JournalEntry], backend: Backend) -> None:
    p = backend.raw.param
    await backend.raw.execute(f"DELETE FROM {HEADS_TABLE} WHERE call_id = {p(1)}", CALL)
    await check_store(store, None, HEAD_MISSING)


async def test_a_head_moved_back_over_a_truncation_is_caught(
    store: JournalStore, chain: list[JournalEntry], backend: Backend
) -> None:
    """Deleting the tail and pointing the head at the new end needs the key to sign the head."""
    p = backend.raw.param
    await backend.raw.delete(CALL, 5)
    await backend.raw.execute(f"UPDATE {HEADS_TABLE} SET seq = 4, last_signature = {p(1)} WHERE call_id = {p(2)}",
                              chain[3].signature, CALL)
    await check_store(store, None, HEAD_MISMATCH)


async def test_a_sealed_call_says_so_and_later_lines_keep_the_head_current(
    store: JournalStore, chain: list[JournalEntry]
) -> None:
    assert not (await verify_store(store, CALL))[0].sealed
    seal = await store.seal(CALL, reason="call ended")
    assert seal.kind == "journal_sealed" and seal.seq == 6
    report = (await verify_store(store, CALL))[0]
    assert report.ok and report.sealed and report.checked == 6
    await store.append(CALL, "call_succeeded", tool="charge_card", idempotency_key="k2")  # e.g. from resume
    assert (await verify_store(store, CALL))[0].ok


# ---- the idempotency table: finished outcomes are signed, edits are never served ------------


async def test_an_edited_stored_outcome_is_tampered_never_served(store: JournalStore, backend: Backend) -> None:
    p = backend.raw.param
    await store.claim(CALL, "k", "charge_card", "h" * 64, "owner", 60)
    assert await store.finish(CALL, "k", "owner", "succeeded", {"charge_id": "CH-1001", "amount_cents": 128400},
                              ttl_s=3600)
    assert (await store.claim(CALL, "k", "charge_card", "h" * 64, "other", 60)).status == "done"

    forged_result = '{"amount_cents":1,"charge_id":"CH-6666"}'
    await backend.raw.execute(f"UPDATE {IDEMPOTENCY_TABLE} SET result = {p(1)} WHERE key = {p(2)}", forged_result, "k")
    served = await store.claim(CALL, "k", "charge_card", "h" * 64, "other", 60)
    assert (served.status, served.result) == ("tampered", None)
    taken = await store.reclaim_stale(CALL, "k", "resumer", lease_s=60)
    assert taken is not None and (taken.status, taken.result) == ("tampered", None)


@pytest.mark.parametrize("edit", [
    "UPDATE {table} SET status = 'succeeded' WHERE key = 'k'",  # a failure turned into a success
    "UPDATE {table} SET args_hash = 'x' WHERE key = 'k'",  # served to other arguments
    "UPDATE {table} SET signature = NULL WHERE key = 'k'",  # the signature removed
])
async def test_any_edit_of_a_finished_record_is_tampered(store: JournalStore, backend: Backend, edit: str) -> None:
    await store.claim(CALL, "k", "charge_card", "h" * 64, "owner", 60)
    assert await store.finish(CALL, "k", "owner", "failed", {"error": "card_declined", "message": "declined"},
                              ttl_s=3600)
    await backend.raw.execute(edit.format(table=IDEMPOTENCY_TABLE))
    args = "x" if "args_hash" in edit else "h" * 64
    assert (await store.claim(CALL, "k", "charge_card", args, "other", 60)).status == "tampered"


async def test_a_forged_finished_record_is_tampered(store: JournalStore, backend: Backend) -> None:
    p = backend.raw.param
    await backend.raw.execute(
        f"INSERT INTO {IDEMPOTENCY_TABLE} (scope, key, tool, args_hash, status, result, owner, created_at, expires_at)"
        f" VALUES ({', '.join(p(i) for i in range(1, 10))})",
        CALL, "k", "charge_card", "h" * 64, "succeeded", '{"charge_id":"CH-6666"}', "attacker", 0.0, 4e9)
    assert (await store.claim(CALL, "k", "charge_card", "h" * 64, "other", 60)).status == "tampered"


# ---- key loss: another key never makes a journal look valid, and no key is ever invented -------


async def test_with_another_key_every_call_fails_at_its_first_entry(
    store: JournalStore, chain: list[JournalEntry], backend: Backend, clock: FakeClock
) -> None:
    other = Signer(b"a freshly generated key, not ours!")
    async with await open_store(backend.url, other, clock=clock) as elsewhere:
        reports = await verify_store(elsewhere)
    assert reports and all((r.ok, r.bad_seq, r.reason) == (False, 1, SIGNATURE_MISMATCH) for r in reports), reports


def test_a_lost_key_file_is_not_found_and_not_replaced(tmp_path: Path) -> None:
    made = load_signing_key("dev", tmp_path, None)
    (tmp_path / KEY_FILE_NAME).unlink()
    with pytest.raises(JournalKeyError, match="not found"):
        load_signing_key("dev", tmp_path, None, create=False)
    assert not (tmp_path / KEY_FILE_NAME).exists()
    assert load_signing_key("dev", tmp_path, None) != made  # only a writer makes a (new) key
