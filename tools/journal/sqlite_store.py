"""SQLite journal store: the default, one file, safe across tasks and processes.

Why this shape: sqlite3 calls block, so they run on one dedicated thread that owns the
connection (:mod:`tools.journal.sqlite_worker`), never on the event loop. Writes run in
``BEGIN IMMEDIATE`` transactions, which take SQLite's write lock up front: an append
reads the call's last entry and inserts the next one while no other process can write,
so several processes on one file queue (``busy_timeout``) instead of forking a chain;
the ``(call_id, seq)`` primary key is the backstop. The worker remembers each call's
last (seq, signature) so an append is a single INSERT; ``PRAGMA data_version`` at the
start of every write transaction tells whether another connection committed since, and
if so the memory is dropped and tails are read again. WAL with ``synchronous=NORMAL``
makes a commit an append to the WAL without an fsync: committed entries survive a
crash of the process; only an OS crash or power loss can lose the last moments.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Final, TypeVar

from tools.journal.idempotency import Claim, IdempotencyRecord, decide_claim, decide_reclaim
from tools.journal.owners import owner_is_dead
from tools.journal.records import GENESIS_HASH, JournalEntry, JournalHead
from tools.journal.rows import ENTRY_COLUMNS, Draft, entry_from_row, head_from_row
from tools.journal.signing import Signer
from tools.journal.sqlite_checkpoint import Checkpointer
from tools.journal.sqlite_worker import SQLiteWorker
from tools.journal.store import (
    ENTRIES_TABLE,
    HEADS_TABLE,
    IDEMPOTENCY_TABLE,
    MAX_APPEND_ATTEMPTS,
    INTERRUPTED_SQL,
    UNFINISHED_SQL,
    Clock,
    JournalError,
    JournalStore,
)

T = TypeVar("T")

SCHEMA: Final[tuple[str, ...]] = (
    f"""CREATE TABLE IF NOT EXISTS {ENTRIES_TABLE} (
        call_id TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 1),
        kind TEXT NOT NULL,
        tool TEXT,
        tool_call_id TEXT,
        idempotency_key TEXT,
        step TEXT,
        attempt INTEGER,
        turn INTEGER,
        payload TEXT,
        args_hash TEXT,
        at REAL NOT NULL,
        prev_hash TEXT NOT NULL,
        signature TEXT NOT NULL,
        PRIMARY KEY (call_id, seq)
    )""",
    # Serves unfinished(): started calls, and their terminal entries by (call, key).
    f"""CREATE INDEX IF NOT EXISTS {ENTRIES_TABLE}_by_kind
        ON {ENTRIES_TABLE} (kind, call_id, idempotency_key, seq)""",
    f"""CREATE TABLE IF NOT EXISTS {IDEMPOTENCY_TABLE} (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        tool TEXT NOT NULL,
        args_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('in_progress', 'succeeded', 'failed')),
        result TEXT,
        owner TEXT,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        signature TEXT,
        PRIMARY KEY (scope, key)
    )""",
    # One row per call: where its chain ends, signed (see records.JournalHead).
    f"""CREATE TABLE IF NOT EXISTS {HEADS_TABLE} (
        call_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        last_signature TEXT NOT NULL,
        signature TEXT NOT NULL
    )""",
)
#: Columns added to tables of older journals: (table, column, declaration).
ADDED_COLUMNS: Final[tuple[tuple[str, str, str], ...]] = ((IDEMPOTENCY_TABLE, "signature", "TEXT"),)

_COLUMNS = ", ".join(ENTRY_COLUMNS)
_INSERT_ENTRY = f"INSERT INTO {ENTRIES_TABLE} ({_COLUMNS}) VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})"
_LAST_ENTRY = f"SELECT seq, signature FROM {ENTRIES_TABLE} WHERE call_id = ? ORDER BY seq DESC LIMIT 1"
_ENTRIES = f"SELECT {_COLUMNS} FROM {ENTRIES_TABLE} WHERE call_id = ? ORDER BY seq"
_CALL_IDS = f"SELECT DISTINCT call_id FROM {ENTRIES_TABLE} ORDER BY call_id"
_RECORD = f"""SELECT scope, key, tool, args_hash, status, result, owner, created_at, expires_at, signature
    FROM {IDEMPOTENCY_TABLE} WHERE scope = ? AND key = ?"""
# The head moves forward only: a late writer of an older seq never rolls it back.
_PUT_HEAD = f"""INSERT INTO {HEADS_TABLE} (call_id, seq, last_signature, signature) VALUES (?, ?, ?, ?)
    ON CONFLICT (call_id) DO UPDATE SET
        seq = excluded.seq, last_signature = excluded.last_signature, signature = excluded.signature
    WHERE excluded.seq > {HEADS_TABLE}.seq"""
_HEAD = f"SELECT call_id, seq, last_signature, signature FROM {HEADS_TABLE} WHERE call_id = ?"
_HEAD_CALL_IDS = f"SELECT call_id FROM {HEADS_TABLE} ORDER BY call_id"
_HELD = f"""SELECT tool, args_hash FROM {IDEMPOTENCY_TABLE}
    WHERE scope = ? AND key = ? AND owner = ? AND status = 'in_progress'"""
# Insert a fresh claim, or replace an expired record (expired records behave as absent).
_CLAIM = f"""INSERT INTO {IDEMPOTENCY_TABLE}
        (scope, key, tool, args_hash, status, result, owner, created_at, expires_at)
    VALUES (?, ?, ?, ?, 'in_progress', NULL, ?, ?, ?)
    ON CONFLICT (scope, key) DO UPDATE SET
        tool = excluded.tool, args_hash = excluded.args_hash, status = 'in_progress', result = NULL,
        owner = excluded.owner, created_at = excluded.created_at, expires_at = excluded.expires_at
    WHERE expires_at <= excluded.created_at
    RETURNING 1"""
_FINISH = f"""UPDATE {IDEMPOTENCY_TABLE} SET status = ?, result = ?, signature = ?,
        expires_at = COALESCE(?, expires_at)
    WHERE scope = ? AND key = ? AND owner = ? AND status = 'in_progress'"""
_RELEASE = f"DELETE FROM {IDEMPOTENCY_TABLE} WHERE scope = ? AND key = ? AND owner = ? AND status = 'in_progress'"
_TAKE_OVER = f"""UPDATE {IDEMPOTENCY_TABLE} SET owner = ?, expires_at = ?
    WHERE scope = ? AND key = ?"""
_RENEW = f"""UPDATE {IDEMPOTENCY_TABLE} SET expires_at = ?
    WHERE scope = ? AND key = ? AND owner = ? AND status = 'in_progress'"""


def connect(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """One autocommit connection in WAL mode with the tables created."""
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # Checkpoints run on the Checkpointer's thread, not inside our commits (see there).
        conn.execute(f"PRAGMA wal_autocheckpoint = {0 if str(path) != ':memory:' else 1000}")
        conn.execute("BEGIN IMMEDIATE")
        for sql in SCHEMA:
            conn.execute(sql)
        for table, column, declaration in ADDED_COLUMNS:
            if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


def _record(conn: sqlite3.Connection, scope: str, key: str) -> IdempotencyRecord | None:
    row = conn.execute(_RECORD, (scope, key)).fetchone()
    if row is None:
        return None
    try:
        result = None if row[5] is None else json.loads(row[5])
    except ValueError:  # edited into something that is not JSON: its signature will not match
        result = {"__corrupt_result__": str(row[5])}
    return IdempotencyRecord(row[0], row[1], row[2], row[3], row[4], result, row[6], row[7], row[8], row[9])


class _Tails:
    """Last (seq, signature) per call, as this connection last saw it; worker thread only."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self.by_call: dict[str, tuple[int, str]] = {}
        self._data_version: int | None = None

    def after_begin(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:  # another connection committed: our tails may be stale
            self.by_call.clear()
            self._data_version = version

    def after_rollback(self) -> None:
        self.by_call.clear()

    def get(self, conn: sqlite3.Connection, call_id: str) -> tuple[int, str]:
        tail = self.by_call.get(call_id)
        if tail is None:
            last = conn.execute(_LAST_ENTRY, (call_id,)).fetchone()
            tail = (0, GENESIS_HASH) if last is None else (last[0], last[1])
        return tail

    def put(self, call_id: str, tail: tuple[int, str]) -> None:
        if len(self.by_call) >= self.limit and call_id not in self.by_call:
            self.by_call.clear()
        self.by_call[call_id] = tail


class SQLiteJournalStore(JournalStore):
    """A journal in one SQLite file (see the module docstring for the concurrency model)."""

    def __init__(
        self, path: Path, signer: Signer, clock: Clock, conn: sqlite3.Connection, busy_timeout_s: float = 30.0
    ) -> None:
        super().__init__(signer, clock)
        self.path = path
        self._tails = _Tails()
        self._worker = SQLiteWorker(conn, self._tails)
        self._checkpointer = None if str(path) == ":memory:" else Checkpointer(path, busy_timeout_s)
        self._closed = False

    @classmethod
    async def open(
        cls, path: Path, signer: Signer, *, clock: Clock = time.time, busy_timeout_s: float = 30.0
    ) -> SQLiteJournalStore:
        """Connect (off the event loop: it may wait for another process) and create the tables."""
        conn = await asyncio.to_thread(connect, path, busy_timeout_s)
        return cls(path, signer, clock, conn, busy_timeout_s)

    async def _write(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise JournalError("the journal store is closed")
        return await self._worker.submit(job, write=True)

    async def _read(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise JournalError("the journal store is closed")
        return await self._worker.submit(job, write=False)

    # ---- journal -----------------------------------------------------------------------

    async def _append(self, draft: Draft) -> JournalEntry:
        seq, prev_hash, signature = await self._write(partial(self._place, draft))
        return draft.entry(seq, prev_hash, signature)

    def _place(self, draft: Draft, conn: sqlite3.Connection) -> tuple[int, str, str]:
        """Runs inside the write transaction, so no other connection can append meanwhile."""
        call_id = draft.call_id
        for _ in range(MAX_APPEND_ATTEMPTS):
            last_seq, prev_hash = self._tails.get(conn, call_id)
            seq = last_seq + 1
            signature = draft.sign(self.signer, seq, prev_hash)
            try:
                conn.execute(_INSERT_ENTRY, draft.row(seq, prev_hash, signature))
            except sqlite3.IntegrityError:
                # Only this statement is undone. Our memory of the tail was stale: read it.
                self._tails.by_call.pop(call_id, None)
                continue
            # Same transaction; an upsert on a primary key, so it cannot fail on a constraint.
            conn.execute(_PUT_HEAD, (call_id, seq, signature, self.signer.sign_head(call_id, seq, signature)))
            self._tails.put(call_id, (seq, signature))
            return seq, prev_hash, signature
        raise JournalError(f"could not append to call {call_id!r}: lost {MAX_APPEND_ATTEMPTS} races")

    async def entries(self, call_id: str) -> list[JournalEntry]:
        rows = await self._read(lambda conn: conn.execute(_ENTRIES, (call_id,)).fetchall())
        return [entry_from_row(row) for row in rows]

    async def call_ids(self) -> list[str]:
        rows = await self._read(lambda conn: conn.execute(_CALL_IDS).fetchall())
        return [row[0] for row in rows]

    async def head(self, call_id: str) -> JournalHead | None:
        row = await self._read(lambda conn: conn.execute(_HEAD, (call_id,)).fetchone())
        return None if row is None else head_from_row(row)

    async def head_call_ids(self) -> list[str]:
        rows = await self._read(lambda conn: conn.execute(_HEAD_CALL_IDS).fetchall())
        return [row[0] for row in rows]

    async def unfinished(self) -> list[tuple[str, str]]:
        rows = await self._read(lambda conn: conn.execute(UNFINISHED_SQL).fetchall())
        return [(row[0], row[1]) for row in rows]

    async def interrupted_calls(self) -> list[str]:
        rows = await self._read(lambda conn: conn.execute(INTERRUPTED_SQL).fetchall())
        return [row[0] for row in rows]

    # ---- idempotency ---------------------------------------------------------------------

    async def claim(self, scope: str, key: str, tool: str, args_hash: str, owner: str, lease_s: float) -> Claim:
        def work(conn: sqlite3.Connection) -> Claim:
            now = self.clock()
            if conn.execute(_CLAIM, (scope, key, tool, args_hash, owner, now, now + lease_s)).fetchone():
                return Claim("claimed", owner=owner)
            # A live record exists (we hold the write lock, so it cannot change meanwhile).
            record = _record(conn, scope, key)
            return decide_claim(record, args_hash, owner, now, self.authentic(record))

        return await self._write(work)

    async def _finish(
        self, scope: str, key: str, owner: str, status: str, result_json: str | None, expires: float | None
    ) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            held = conn.execute(_HELD, (scope, key, owner)).fetchone()
            if held is None:
                return False
            signature = self.record_signature(scope, key, held[0], held[1], status, result_json)
            params = (status, result_json, signature, expires, scope, key, owner)
            return bool(conn.execute(_FINISH, params).rowcount == 1)

        return await self._write(work)

    async def renew(self, scope: str, key: str, owner: str, lease_s: float) -> bool:
        return await self._write(
            lambda conn: conn.execute(_RENEW, (self.clock() + lease_s, scope, key, owner)).rowcount == 1
        )

    async def release(self, scope: str, key: str, owner: str) -> bool:
        return await self._write(lambda conn: conn.execute(_RELEASE, (scope, key, owner)).rowcount == 1)

    async def reclaim_stale(self, scope: str, key: str, new_owner: str, *, lease_s: float) -> Claim | None:
        def work(conn: sqlite3.Connection) -> Claim | None:
            now = self.clock()
            record = _record(conn, scope, key)
            dead = record is not None and owner_is_dead(record.owner)
            decision = decide_reclaim(record, now, dead, self.authentic(record))
            if decision is None or decision.status != "claimed":
                return decision
            conn.execute(_TAKE_OVER, (new_owner, now + lease_s, scope, key))
            return Claim("claimed", owner=new_owner)

        return await self._write(work)

    # ---- lifecycle -------------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
        await asyncio.to_thread(self._worker.stop)
