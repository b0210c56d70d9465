"""Check a call's journal: every entry signed, numbered 1..n without gaps, chained, and
ending where the call's signed head (kept outside the chain) says it ends.

Why report only the *first* bad entry: once one link is broken nothing after it can be
trusted to mean what it says, and the first break is where an investigation starts.
Why the head: dropping entries from the *end* of a call leaves a valid, shorter chain; the
head, rewritten with every append, shows it. A call whose entries were all deleted keeps
its head ("deleted"), which tells it from a call id that never existed ("unknown").
Why the anchor (``tools.journal.anchors``): the head lives in the same database, so deleting
a call's entries *and* its head, or putting back an older head, leaves nothing here to compare
with; a signed file per call kept outside the database shows the call existed and, once
sealed, where its chain ended. Someone who can write both the database and the anchor
directory can still delete, or roll back, both together: keep them on separate storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pydantic import BaseModel

from tools.journal.anchors import Anchor, anchor_authentic
from tools.journal.records import GENESIS_HASH, EntryKind, JournalEntry, JournalHead
from tools.journal.signing import Signer
from tools.journal.store import JournalStore

SIGNATURE_MISMATCH: Final[str] = "signature mismatch (edited or forged)"
SEQUENCE_GAP: Final[str] = "sequence gap (deleted entry)"
PREV_HASH_MISMATCH: Final[str] = "prev_hash does not match (reordered or inserted)"
DUPLICATE_SEQUENCE: Final[str] = "duplicate sequence"
TRUNCATED: Final[str] = "truncated (last entries deleted)"
CALL_DELETED: Final[str] = "every entry deleted"
HEAD_MISSING: Final[str] = "head missing (deleted, or the call predates journal heads)"
HEAD_MISMATCH: Final[str] = "head signature mismatch (edited or forged)"
BEYOND_HEAD: Final[str] = "entries beyond the head (head rolled back)"
CALL_DELETED_ANCHORED: Final[str] = "deleted (anchored outside the journal)"
ANCHOR_MISMATCH: Final[str] = "anchor signature mismatch (edited or forged)"


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
    sealed: bool = False
    """The chain holds an end-of-call seal (``journal_sealed``): the conversation ended normally."""


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


def verify_call(entries: list[JournalEntry], head: JournalHead | None, signer: Signer,
                call_id: str | None = None, anchor: Anchor | None = None) -> VerifyReport:
    """Verify one call's chain, that it ends where its head says, and that it reaches its anchor."""
    report = verify_chain(entries, signer)
    call_id = report.call_id or call_id or (head.call_id if head is not None else None)
    report = report.model_copy(update={"call_id": call_id})
    if not report.ok:
        return report

    def bad(bad_seq: int | None, reason: str, detail: str) -> VerifyReport:
        return report.model_copy(update={"ok": False, "bad_seq": bad_seq, "reason": reason, "detail": detail})

    if anchor is not None and not anchor_authentic(signer, anchor, call_id or anchor.call_id):
        return bad(None, ANCHOR_MISMATCH, "the call's anchor outside the journal was not signed with this key "
                   "as stored (or is unreadable)")
    if head is None and not entries:
        if anchor is not None:
            return bad(1, CALL_DELETED_ANCHORED, f"the call's anchor says it reached entry {anchor.seq}"
                       f"{' and was sealed' if anchor.sealed else ''}; its entries and head are gone")
        return report  # no entries, no head, no anchor: the journal never held this call
    if head is None:
        return bad(None, HEAD_MISSING, f"{len(entries)} entries but no head to check their end against")
    if not signer.verify_head(head):
        return bad(None, HEAD_MISMATCH, "the call's head was not signed with this key as stored")
    if not entries:
        return bad(1, CALL_DELETED, f"the head says the call has {head.seq} entries; none are left")
    last = entries[-1]
    if head.seq > last.seq:
        return bad(last.seq + 1, TRUNCATED, f"the head says the chain ends at entry {head.seq}; it ends at "
                   f"{last.seq}: entries {last.seq + 1}..{head.seq} were deleted")
    if head.seq < last.seq:
        return bad(head.seq + 1, BEYOND_HEAD, f"the head says the chain ends at entry {head.seq}; it goes on to "
                   f"{last.seq}")
    if head.last_signature != last.signature:
        return bad(last.seq, TRUNCATED, f"entry {last.seq} is not the one the head names: the end was replaced")
    if anchor is not None:
        what = "was sealed at" if anchor.sealed else "reached"
        if last.seq < anchor.seq:
            return bad(last.seq + 1, TRUNCATED, f"the anchor outside the journal says the call {what} entry "
                       f"{anchor.seq}; chain and head end at {last.seq} (an older head was put back)")
        if entries[anchor.seq - 1].signature != anchor.last_signature:
            return bad(anchor.seq, TRUNCATED, f"entry {anchor.seq} is not the one the anchor outside the journal "
                       "names: the chain was replaced")
    return report.model_copy(update={"sealed": any(e.kind == EntryKind.journal_sealed for e in entries)})


async def verify_store(store: JournalStore, call_id: str | None = None) -> list[VerifyReport]:
    """Verify one call, or every call the store knows (by entries, head or anchor), with its own signer."""
    anchors = store.anchors
    call_ids = [call_id] if call_id is not None else sorted(
        set(await store.call_ids()) | set(await store.head_call_ids()) | set(anchors.call_ids() if anchors else []))
    return [verify_call(await store.entries(one), await store.head(one), store.signer, one,
                        anchors.load(one) if anchors else None) for one in call_ids]
