"""The journal store: one interface, SQLite (default) or PostgreSQL behind it.

Why one abstract class with the validation and signing in it: the executor, resume and
replay code must not care where the journal lives, and both backends must produce
byte-identical, identically signed entries. Backends only decide *how* to assign
``seq``/``prev_hash`` atomically and how to store rows.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlsplit

from loguru import logger
from pydantic import ValidationError

from tools.journal.idempotency import Claim, FinalStatus
from tools.journal.records import EntryKind, JournalEntry, canonical_json
from tools.journal.signing import ChainTemplate, Signer, chain_template

Clock = Callable[[], float]

#: Column order shared by both backends' ``journal_entries`` tables.
ENTRY_COLUMNS: Final[tuple[str, ...]] = (
    "call_id",
    "seq",
    "kind",
    "tool",
    "tool_call_id",
    "idempotency_key",
    "step",
    "attempt",
    "turn",
    "payload",
    "args_hash",
    "at",
    "prev_hash",
    "signature",
)
ENTRIES_TABLE: Final[str] = "journal_entries"
IDEMPOTENCY_TABLE: Final[str] = "journal_idempotency"
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
#: How often an append retries after losing a (call_id, seq) race to another writer.
MAX_APPEND_ATTEMPTS: Final[int] = 200
#: The payload stands in for a stored payload that is not JSON (so verification, not parsing, reports it).
CORRUPT_PAYLOAD_KEY: Final[str] = "__corrupt_payload__"


class JournalError(RuntimeError):
    """The journal could not record something (e.g. it lost too many write races)."""


@dataclass(frozen=True, slots=True)
class Draft:
    """A validated entry waiting for its place in the chain (``seq``, ``prev_hash``).

    Everything that does not depend on the place — JSON, the signing template, the
    stored payload text — is computed before the write transaction, which then only
    joins bytes, signs and inserts.
    """

    fields: dict[str, Any]  # every entry field except seq, prev_hash and signature (JSON values)
    template: ChainTemplate
    payload_text: str | None

    @property
    def call_id(self) -> str:
        return str(self.fields["call_id"])

    def sign(self, signer: Signer, seq: int, prev_hash: str) -> str:
        """The signature the entry gets at ``seq`` after ``prev_hash``."""
        return signer.sign_canonical(self.template.render(prev_hash, seq))

    def row(self, seq: int, prev_hash: str, signature: str) -> tuple[Any, ...]:
        """Column values in ``ENTRY_COLUMNS`` order."""
        f = self.fields
        return (
            f["call_id"],
            seq,
            f["kind"],
            f["tool"],
            f["tool_call_id"],
            f["idempotency_key"],
            f["step"],
            f["attempt"],
            f["turn"],
            self.payload_text,
            f["args_hash"],
            f["at"],
            prev_hash,
            signature,
        )

    def entry(self, seq: int, prev_hash: str, signature: str) -> JournalEntry:
        """The entry as stored at ``seq``."""
        return JournalEntry.model_validate({**self.fields, "seq": seq, "prev_hash": prev_hash, "signature": signature})


class JournalStore(ABC):
    """Append-only signed journal per call, plus idempotency records (docs/journal.md).

    All methods are safe to call concurrently from many asyncio tasks; every write is
    its own committed transaction (nothing is batched), so an entry ``append`` returned
    is durable to the backend's commit guarantee.
    """

    def __init__(self, signer: Signer, clock: Clock = time.time) -> None:
        self.signer = signer
        self.clock = clock

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
        return await self._append(draft)

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
    async def unfinished(self) -> list[tuple[str, str]]:
        """``(call_id, idempotency_key)`` of tool calls started but neither succeeded nor failed.

        This is what ``resume`` walks after a crash.
        """

    # ---- idempotency ---------------------------------------------------------------------

    @abstractmethod
    async def claim(self, scope: str, key: str, tool: str, args_hash: str, owner: str, ttl_s: float) -> Claim:
        """Atomically claim ``(scope, key)`` for ``owner`` for ``ttl_s`` seconds (see ``Claim``)."""

    @abstractmethod
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
        """Store the outcome of a claimed key; ``False`` if ``owner`` no longer holds it.

        The record keeps the claim's expiry unless ``ttl_s`` sets a new one from now.
        """

    @abstractmethod
    async def release(self, scope: str, key: str, owner: str) -> bool:
        """Drop ``owner``'s in-progress claim so a later attempt may run; ``False`` if not held."""

    @abstractmethod
    async def reclaim_stale(
        self,
        scope: str,
        key: str,
        new_owner: str,
        *,
        stale_owner: str | None = None,
        ttl_s: float | None = None,
    ) -> Claim | None:
        """Take over an in-progress record left by a dead owner (resume after a crash).

        ``claimed``: ``new_owner`` now holds it. ``done``: it had finished; serve the
        result. ``in_progress``: ``stale_owner`` was given and someone else holds it.
        ``None``: no live record; use ``claim``. ``ttl_s`` restarts the expiry from now.
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

    def seal(self, draft: Draft, seq: int, prev_hash: str) -> JournalEntry:
        """The signed entry for ``draft`` placed at ``seq`` after ``prev_hash``."""
        return draft.entry(seq, prev_hash, draft.sign(self.signer, seq, prev_hash))

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


def make_draft(
    call_id: str,
    kind: EntryKind | str,
    *,
    tool: str | None,
    tool_call_id: str | None,
    idempotency_key: str | None,
    step: str | None,
    attempt: int | None,
    turn: int | None,
    payload: Mapping[str, Any] | None,
    args_hash: str | None,
    at: float,
) -> Draft:
    """Check an append's arguments before touching the database.

    ``call_started`` must name its tool and idempotency key: that is what ``unfinished``
    (and so resume) finds it by. ``at`` is a float so it round-trips through REAL /
    double precision columns to the same JSON (an int would come back as ``5.0``).
    """
    if not isinstance(call_id, str) or not call_id:
        raise ValueError("call_id must be a non-empty string")
    entry_kind = EntryKind(kind)
    if entry_kind is EntryKind.call_started and (not tool or not idempotency_key):
        raise ValueError("a call_started entry needs tool and idempotency_key")
    for name, number in (("attempt", attempt), ("turn", turn)):
        if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
            raise ValueError(f"{name} must be an int or None")
    for name, text in (
        ("tool", tool),
        ("tool_call_id", tool_call_id),
        ("idempotency_key", idempotency_key),
        ("step", step),
        ("args_hash", args_hash),
    ):
        if text is not None and not isinstance(text, str):
            raise ValueError(f"{name} must be a str or None")
    if payload is None:
        payload_text, stored_payload = None, None
    else:
        payload_text = canonical_json(dict(payload)).decode("utf-8")
        stored_payload = json.loads(payload_text)
    fields: dict[str, Any] = {
        "call_id": call_id,
        "kind": entry_kind.value,
        "tool": tool,
        "tool_call_id": tool_call_id,
        "idempotency_key": idempotency_key,
        "step": step,
        "attempt": attempt,
        "turn": turn,
        "payload": stored_payload,
        "args_hash": args_hash,
        "at": float(at),
    }
    return Draft(fields, chain_template(fields), payload_text)


def entry_to_row(entry: JournalEntry) -> tuple[Any, ...]:
    """Column values in ``ENTRY_COLUMNS`` order; the payload is stored as canonical JSON text."""
    payload = None if entry.payload is None else canonical_json(entry.payload).decode("utf-8")
    return (
        entry.call_id,
        entry.seq,
        str(entry.kind),
        entry.tool,
        entry.tool_call_id,
        entry.idempotency_key,
        entry.step,
        entry.attempt,
        entry.turn,
        payload,
        entry.args_hash,
        entry.at,
        entry.prev_hash,
        entry.signature,
    )


def entry_from_row(row: Sequence[Any]) -> JournalEntry:
    """Rebuild an entry exactly as stored, even a tampered one.

    A row that no longer parses or validates is still returned (unvalidated), so that
    ``verify_chain`` reports it as a bad signature instead of the read crashing.
    """
    fields = dict(zip(ENTRY_COLUMNS, row, strict=True))
    text = fields["payload"]
    if text is not None:
        try:
            fields["payload"] = json.loads(text)
        except (ValueError, TypeError):
            fields["payload"] = {CORRUPT_PAYLOAD_KEY: str(text)}
    try:
        return JournalEntry.model_validate(fields)
    except ValidationError as exc:
        logger.warning("journal row {}#{} does not validate: {}", fields["call_id"], fields["seq"], exc.errors()[0])
        return JournalEntry.model_construct(**fields)


async def open_store(url: str, signer: Signer, *, clock: Clock = time.time) -> JournalStore:
    """Open (and create the tables of) the store named by ``url``.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (the default kind) or
    ``postgresql://user@host:port/db``. The PostgreSQL driver is only imported when used.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        from tools.journal.sqlite_store import SQLiteJournalStore

        return await SQLiteJournalStore.open(sqlite_path(url), signer, clock=clock)
    if scheme in ("postgresql", "postgres"):
        from tools.journal.postgres_store import PostgresJournalStore

        return await PostgresJournalStore.open(url, signer, clock=clock)
    raise ValueError(f"unsupported journal URL {url!r}: use sqlite:///path/to.db or postgresql://user@host:port/db")


def sqlite_path(url: str) -> Path:
    """``sqlite:///a/b.db`` → ``a/b.db`` (relative); ``sqlite:////a/b.db`` → ``/a/b.db``."""
    prefix = "sqlite:///"
    if not url.lower().startswith(prefix) or len(url) == len(prefix):
        raise ValueError(f"bad SQLite journal URL {url!r}: expected sqlite:///path/to.db")
    return Path(url[len(prefix) :])


def default_journal_url(data_dir: Path) -> str:
    """Where the journal lives unless configured: ``<MB_DATA_DIR>/journal.db``."""
    return f"sqlite:///{data_dir / 'journal.db'}"
