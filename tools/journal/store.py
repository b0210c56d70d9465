"""The journal store: one interface, SQLite (default) or PostgreSQL behind it.

Why one abstract class with the validation and signing in it: the executor, resume and
replay code must not care where the journal lives, and both backends must produce
byte-identical, identically signed entries. Backends only decide *how* to assign
``seq``/``prev_hash`` atomically and how to store rows.
"""

from __future__ import annotations

import asyncio
import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Final, Self

from loguru import logger

from tools.journal.anchors import AnchorDir
from tools.journal.idempotency import Claim, FinalStatus, IdempotencyRecord
from tools.journal.records import EntryKind, JournalEntry, JournalHead, canonical_json, record_fields
from tools.journal.rows import Draft, make_draft
from tools.journal.signing import Signer
from tools.redact import scrub

Clock = Callable[[], float]

ENTRIES_TABLE: Final[str] = "journal_entries"
IDEMPOTENCY_TABLE: Final[str] = "journal_idempotency"
HEADS_TABLE: Final[str] = "journal_heads"
#: ``unfinished()``: the last ``call_started`` of a (call, key) with no terminal entry after it.
UNFINISHED_SQL: Final[str] = f"""
    SELECT s.call_id, s.idempotency_key FROM {ENTRIES_TABLE} AS s
    WHERE s.kind = 'call_started' AND s.idempotency_key IS NOT NULL
      AND NOT EXISTS (
        SELECT 1 FROM {ENTRIES_TABLE} AS t
        WHERE t.kind IN ('call_succeeded', 'call_failed')
          AND t.call_id = s.call_id AND t.idempotency_key = s.idempotency_key AND t.seq > s.seq)
    GROUP BY s.call_id, s.idempotency_key
    ORDER BY s.call_id, MIN(s.seq)"""
#: ``interrupted_calls()``: calls with a ``call_requested`` nothing about that tool call followed.
INTERRUPTED_SQL: Final[str] = f"""
    SELECT DISTINCT r.call_id FROM {ENTRIES_TABLE} AS r
    WHERE r.kind = 'call_requested'
      AND NOT EXISTS (
        SELECT 1 FROM {ENTRIES_TABLE} AS t
        WHERE t.call_id = r.call_id AND t.seq > r.seq AND t.kind NOT IN ('event', 'call_requested')
          AND COALESCE(t.tool, '') = COALESCE(r.tool, '')
          AND COALESCE(t.tool_call_id, '') = COALESCE(r.tool_call_id, ''))
    ORDER BY r.call_id"""
#: How often an append retries after losing a (call_id, seq) race to another writer.
MAX_APPEND_ATTEMPTS: Final[int] = 200


class JournalError(RuntimeError):
    """The journal could not record something (e.g. it lost too many write races)."""


class JournalStore(ABC):
    """Append-only signed journal per call, plus idempotency records (docs/journal.md).

    All methods are safe to call concurrently from many asyncio tasks and processes.
    A write returns only after its transaction committed, so an entry ``append``
    returned is as durable as the backend's commit (SQLite may commit several
    concurrent writes in one transaction, but never acknowledges one before that).
    """

    def __init__(self, signer: Signer, clock: Clock = time.time) -> None:
        self.signer = signer
        self.clock = clock
        self.anchors: AnchorDir | None = None
        """Where per-call anchors are kept outside this database (``tools.journal.anchors``);
        set by whoever opens the store for calls (``worker.journaling.open_journal``)."""

    # ---- journal -----------------------------------------------------------------------

    async def append(
        self,
        call_id: str,
        kind: EntryKind | str,
        *,
        tool: str | None = None,
        tool_call_id: str | None = None,
        idempotency_key: str | None = None,
        step: str | None = None,
        attempt: int | None = None,
        turn: int | None = None,
        payload: Mapping[str, Any] | None = None,
        args_hash: str | None = None,
    ) -> JournalEntry:
        """Add one signed entry at the end of ``call_id``'s chain and return it.

        ``seq`` and ``prev_hash`` are assigned atomically by the backend, so concurrent
        appends (tasks or processes) never fork the chain or leave a gap.
        """
        draft = self.draft(
            call_id,
            kind,
            tool=tool,
            tool_call_id=tool_call_id,
            idempotency_key=idempotency_key,
            step=step,
            attempt=attempt,
            turn=turn,
            payload=payload,
            args_hash=args_hash,
        )
        entry = await self._append(draft)
        if entry.seq == 1:
            await self._anchor(entry, sealed=False)  # the call exists, also outside the database
        return entry

    @abstractmethod
    async def _append(self, draft: Draft) -> JournalEntry:
        """Place ``draft`` after the call's last entry (atomically) and store it."""

    @abstractmethod
    async def entries(self, call_id: str) -> list[JournalEntry]:
        """Every entry of one call, ordered by ``seq`` (as stored: verify before trusting)."""

    @abstractmethod
    async def call_ids(self) -> list[str]:
        """Every call that has at least one entry, sorted."""

    @abstractmethod
    async def head(self, call_id: str) -> JournalHead | None:
        """The call's head as stored (verify before trusting); ``None`` if it has none."""

    @abstractmethod
    async def head_call_ids(self) -> list[str]:
        """Every call that has a head, sorted (a call whose entries were all deleted keeps its head)."""

    async def seal(self, call_id: str, **payload: Any) -> JournalEntry:
        """Mark the end of a conversation in its own chain: a signed ``journal_sealed`` entry.

        Tool lines may still follow (a call ``resume`` finishes later); verification then
        says so. What catches deleted *last* entries is the head, kept outside the chain.
        """
        entry = await self.append(call_id, EntryKind.journal_sealed, payload=payload or None)
        await self._anchor(entry, sealed=True)
        return entry

    async def _anchor(self, entry: JournalEntry, *, sealed: bool) -> None:
        """Write the call's anchor outside the database; a failure is logged, never raised (the
        entry is already committed, and verification will name the missing anchor's effect)."""
        if self.anchors is None:
            return
        try:
            await asyncio.to_thread(self.anchors.write, entry.call_id, entry.seq, entry.signature,
                                    sealed=sealed, at=float(self.clock()))
        except OSError as exc:
            logger.bind(call_id=entry.call_id).error("journal anchor not written: {}", exc)

    @abstractmethod
    async def unfinished(self) -> list[tuple[str, str]]:
        """``(call_id, idempotency_key)`` of tool calls started but neither succeeded nor failed.

        This is what ``resume`` walks after a crash.
        """

    @abstractmethod
    async def interrupted_calls(self) -> list[str]:
        """Calls holding a ``call_requested`` that nothing followed (died while preparing).

        ``resume`` closes those with ``call_interrupted``; see ``ToolExecutor.close_interrupted``.
        """

    # ---- idempotency ---------------------------------------------------------------------

    @abstractmethod
    async def claim(self, scope: str, key: str, tool: str, args_hash: str, owner: str, lease_s: float) -> Claim:
        """Atomically claim ``(scope, key)`` for ``owner``, leased for ``lease_s`` seconds (see ``Claim``).

        The lease must be renewed (:meth:`renew`) while the tool runs; once it runs out the
        claim behaves as absent and another owner may take the call.
        """

    @abstractmethod
    async def renew(self, scope: str, key: str, owner: str, lease_s: float) -> bool:
        """Extend ``owner``'s in-progress claim to ``lease_s`` from now; ``False`` if it no longer holds it."""

    async def finish(
        self,
        scope: str,
        key: str,
        owner: str,
        status: FinalStatus,
        result: dict[str, Any] | None,
        *,
        ttl_s: float | None = None,
    ) -> bool:
        """Store the signed outcome of a claimed key; ``False`` if ``owner`` no longer holds it.

        The record keeps the claim's expiry unless ``ttl_s`` sets a new one from now. The
        outcome is signed (over scope, key, tool, args hash, status and result) because it is
        served to duplicates: an edited record is answered ``tampered``, never served.
        """
        if status not in ("succeeded", "failed"):
            raise ValueError(f"finish status must be 'succeeded' or 'failed', not {status!r}")
        stored = None if result is None else canonical_json(scrub(result)).decode("utf-8")  # redaction point
        expires = None if ttl_s is None else self.clock() + ttl_s
        return await self._finish(scope, key, owner, status, stored, expires)

    @abstractmethod
    async def _finish(
        self, scope: str, key: str, owner: str, status: str, result_json: str | None, expires: float | None
    ) -> bool:
        """Atomically: if ``owner`` holds the in-progress record, store the outcome and its
        signature (``self.record_signature``); report whether it did."""

    def record_signature(self, scope: str, key: str, tool: str, args_hash: str, status: str,
                         result_json: str | None) -> str:
        result = None if result_json is None else json.loads(result_json)
        return self.signer.sign_record(record_fields(scope, key, tool, args_hash, status, result))

    def authentic(self, record: IdempotencyRecord | None) -> bool:
        """Whether a finished record's signature matches (in-progress records carry no outcome)."""
        if record is None or record.status == "in_progress":
            return True
        return self.signer.verify_record(record.signed_fields(), record.signature)

    @abstractmethod
    async def release(self, scope: str, key: str, owner: str) -> bool:
        """Drop ``owner``'s in-progress claim so a later attempt may run; ``False`` if not held."""

    @abstractmethod
    async def reclaim_stale(self, scope: str, key: str, new_owner: str, *, lease_s: float) -> Claim | None:
        """Take over an in-progress record whose owner is dead (resume after a crash).

        ``claimed``: ``new_owner`` now holds it, leased for ``lease_s``. ``done``: it had
        finished; serve the result. ``in_progress``: its owner is alive (or may be: on
        another host, only the lease running out frees it). ``None``: no live record; use
        ``claim``. See ``decide_reclaim``.
        """

    # ---- lifecycle -------------------------------------------------------------------------

    @abstractmethod
    async def close(self) -> None:
        """Release connections and threads; the store is unusable afterwards."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ---- helpers for backends ------------------------------------------------------------

    def draft(
        self,
        call_id: str,
        kind: EntryKind | str,
        *,
        tool: str | None = None,
        tool_call_id: str | None = None,
        idempotency_key: str | None = None,
        step: str | None = None,
        attempt: int | None = None,
        turn: int | None = None,
        payload: Mapping[str, Any] | None = None,
        args_hash: str | None = None,
    ) -> Draft:
        """Validate an append's arguments; ``at`` is taken now, on the caller's side."""
        return make_draft(
            call_id,
            kind,
            tool=tool,
            tool_call_id=tool_call_id,
            idempotency_key=idempotency_key,
            step=step,
            attempt=attempt,
            turn=turn,
            payload=payload,
            args_hash=args_hash,
            at=float(self.clock()),
        )
