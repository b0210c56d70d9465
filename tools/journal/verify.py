"""Check a call's journal: every entry signed, numbered 1..n without gaps, and chained.

Why report only the *first* bad entry: once one link is broken nothing after it can be
trusted to mean what it says, and the first break is where an investigation starts.
Known limit of any hash chain: dropping entries from the *end* of a call leaves a valid,
shorter chain; only an outside record of the last seq (e.g. the trace) can show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pydantic import BaseModel

from tools.journal.records import GENESIS_HASH, JournalEntry
from tools.journal.signing import Signer
from tools.journal.store import JournalStore

SIGNATURE_MISMATCH: Final[str] = "signature mismatch (edited or forged)"
SEQUENCE_GAP: Final[str] = "sequence gap (deleted entry)"
PREV_HASH_MISMATCH: Final[str] = "prev_hash does not match (reordered or inserted)"
DUPLICATE_SEQUENCE: Final[str] = "duplicate sequence"


class VerifyReport(BaseModel):
    """The verdict on one call's chain.

    ``checked`` counts entries that passed before the first failure (all of them when
    ``ok``). ``bad_seq`` is the seq of the first entry that fails, ``reason`` one of the
    constants of this module, ``detail`` a human sentence (e.g. which seq is missing).
    """

    call_id: str | None
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str | None = None
    detail: str | None = None


def verify_chain(entries: Iterable[JournalEntry], signer: Signer) -> VerifyReport:
    """Verify one call's entries in the order given (a store returns them by seq)."""
    call_id: str | None = None
    expected_seq = 1
    prev_signature = GENESIS_HASH
    checked = 0

    def bad(entry: JournalEntry, reason: str, detail: str) -> VerifyReport:
        return VerifyReport(call_id=call_id, ok=False, checked=checked, bad_seq=entry.seq, reason=reason, detail=detail)

    for entry in entries:
        if call_id is None:
            call_id = entry.call_id
        if entry.seq == expected_seq - 1 and checked:
            return bad(entry, DUPLICATE_SEQUENCE, f"seq {entry.seq} appears twice")
        if entry.seq > expected_seq:
            missing = (
                f"seq {expected_seq}" if entry.seq == expected_seq + 1 else f"seqs {expected_seq}..{entry.seq - 1}"
            )
            return bad(entry, SEQUENCE_GAP, f"expected seq {expected_seq}, found {entry.seq}: {missing} missing")
        if entry.seq < expected_seq:
            return bad(entry, PREV_HASH_MISMATCH, f"seq {entry.seq} found after seq {expected_seq - 1}")
        if not signer.verify(entry):
            return bad(entry, SIGNATURE_MISMATCH, f"entry {entry.seq} was not signed with this key as stored")
        if entry.call_id != call_id:
            return bad(entry, PREV_HASH_MISMATCH, f"entry {entry.seq} belongs to call {entry.call_id!r}")
        if entry.prev_hash != prev_signature:
            return bad(entry, PREV_HASH_MISMATCH, f"entry {entry.seq} does not follow entry {entry.seq - 1}")
        prev_signature = entry.signature
        expected_seq += 1
        checked += 1
    return VerifyReport(call_id=call_id, ok=True, checked=checked)


async def verify_store(store: JournalStore, call_id: str | None = None) -> list[VerifyReport]:
    """Verify one call, or every call in the store, with the store's own signer."""
    call_ids = [call_id] if call_id is not None else await store.call_ids()
    reports = []
    for one in call_ids:
        report = verify_chain(await store.entries(one), store.signer)
        reports.append(report if report.call_id is not None else report.model_copy(update={"call_id": one}))
    return reports
