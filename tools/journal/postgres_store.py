"""PostgreSQL journal store (asyncpg, connection pool), for several workers on one database.

Why optimistic appends: the HMAC needs the previous entry's signature, so an append is
"read the tail, sign, insert". Instead of a lock round trip per entry, the store keeps
the tail of calls it has written and inserts directly; the ``(call_id, seq)`` primary
key rejects the insert if another process appended in between, and the store then
re-reads the tail and retries. Tasks of one process queue on a per-call asyncio lock,
so they never race each other; only processes sharing a call can collide (during a
resume hand-over), and then the unique constraint decides. One INSERT per entry in the
common case, each its own committed transaction.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

import asyncpg

from tools.journal.idempotency import Claim, IdempotencyRecord, decide_claim, decide_reclaim
from tools.journal.owners import owner_is_dead
from tools.journal.records import GENESIS_HASH, JournalEntry, JournalHead
from tools.journal.rows import ENTRY_COLUMNS, Draft, entry_from_row, head_from_row
from tools.journal.signing import Signer
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

#: Serialises schema creation when several processes start at once (CREATE … IF NOT EXISTS races in PG).
_SCHEMA_LOCK: Final[int] = 0x6D62_6A6F_7572  # "mbjour"
#: How many call tails a store remembers (older calls just re-read their tail once).
_TAIL_CACHE_SIZE: Final[int] = 10_000

SCHEMA: Final[tuple[str, ...]] = (
    f"""CREATE TABLE IF NOT EXISTS {ENTRIES_TABLE} (
        call_id text NOT NULL,
        seq bigint NOT NULL CHECK (seq >= 1),
        kind text NOT NULL,
        tool text,
        tool_call_id text,
        idempotency_key text,
        step text,
        attempt bigint,
        turn bigint,
        payload text,
        args_hash text,
        at double precision NOT NULL,
        prev_hash text NOT NULL,
        signature text NOT NULL,
        PRIMARY KEY (call_id, seq)
    )""",
    f"""CREATE INDEX IF NOT EXISTS {ENTRIES_TABLE}_by_kind
        ON {ENTRIES_TABLE} (kind, call_id, idempotency_key, seq)""",
    f"""CREATE TABLE IF NOT EXISTS {IDEMPOTENCY_TABLE} (
        scope text NOT NULL,
        key text NOT NULL,
        tool text NOT NULL,
        args_hash text NOT NULL,
        status text NOT NULL CHECK (status IN ('in_progress', 'succeeded', 'failed')),
        result text,
        owner text,
        created_at double precision NOT NULL,
        expires_at double precision NOT NULL,
        signature text,
        PRIMARY KEY (scope, key)
    )""",
    f"ALTER TABLE {IDEMPOTENCY_TABLE} ADD COLUMN IF NOT EXISTS signature text",  # journals from before signing
    f"""CREATE TABLE IF NOT EXISTS {HEADS_TABLE} (
        call_id text PRIMARY KEY,
        seq bigint NOT NULL,
        last_signature text NOT NULL,
        signature text NOT NULL
    )""",
)

_COLUMNS = ", ".join(ENTRY_COLUMNS)
_N = len(ENTRY_COLUMNS)
# One statement, so atomic: the entry, and the call's head moved forward to it (never back).
_INSERT_ENTRY = f"""WITH placed AS (
        INSERT INTO {ENTRIES_TABLE} ({_COLUMNS}) VALUES ({', '.join(f'${i}' for i in range(1, _N + 1))})
        RETURNING call_id, seq, signature)
    INSERT INTO {HEADS_TABLE} AS h (call_id, seq, last_signature, signature)
        SELECT call_id, seq, signature, ${_N + 1} FROM placed
    ON CONFLICT (call_id) DO UPDATE SET
        seq = EXCLUDED.seq, last_signature = EXCLUDED.last_signature, signature = EXCLUDED.signature
    WHERE EXCLUDED.seq > h.seq"""
_HEAD = f"SELECT call_id, seq, last_signature, signature FROM {HEADS_TABLE} WHERE call_id = $1"
_HEAD_CALL_IDS = f"SELECT call_id FROM {HEADS_TABLE} ORDER BY call_id"
_LAST_ENTRY = f"SELECT seq, signature FROM {ENTRIES_TABLE} WHERE call_id = $1 ORDER BY seq DESC LIMIT 1"
_ENTRIES = f"SELECT {_COLUMNS} FROM {ENTRIES_TABLE} WHERE call_id = $1 ORDER BY seq"
_CALL_IDS = f"SELECT DISTINCT call_id FROM {ENTRIES_TABLE} ORDER BY call_id"
_RECORD = f"""SELECT scope, key, tool, args_hash, status, result, owner, created_at, expires_at, signature
    FROM {IDEMPOTENCY_TABLE} WHERE scope = $1 AND key = $2"""
# Insert a fresh claim, or replace an expired record (expired records behave as absent).
_CLAIM = f"""INSERT INTO {IDEMPOTENCY_TABLE} AS r
        (scope, key, tool, args_hash, status, result, owner, created_at, expires_at)
    VALUES ($1, $2, $3, $4, 'in_progress', NULL, $5, $6, $7)
    ON CONFLICT (scope, key) DO UPDATE SET
        tool = EXCLUDED.tool, args_hash = EXCLUDED.args_hash, status = 'in_progress', result = NULL,
        owner = EXCLUDED.owner, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
    WHERE r.expires_at <= EXCLUDED.created_at
    RETURNING true"""
_HELD = f"""SELECT tool, args_hash FROM {IDEMPOTENCY_TABLE}
    WHERE scope = $1 AND key = $2 AND owner = $3 AND status = 'in_progress' FOR UPDATE"""
_FINISH = f"""UPDATE {IDEMPOTENCY_TABLE} SET status = $1, result = $2, signature = $3,
        expires_at = COALESCE($4, expires_at)
    WHERE scope = $5 AND key = $6 AND owner = $7 AND status = 'in_progress' RETURNING true"""
_RELEASE = f"""DELETE FROM {IDEMPOTENCY_TABLE}
    WHERE scope = $1 AND key = $2 AND owner = $3 AND status = 'in_progress' RETURNING true"""
_TAKE_OVER = f"""UPDATE {IDEMPOTENCY_TABLE} SET owner = $1, expires_at = $2
    WHERE scope = $3 AND key = $4"""
_RENEW = f"""UPDATE {IDEMPOTENCY_TABLE} SET expires_at = $1
    WHERE scope = $2 AND key = $3 AND owner = $4 AND status = 'in_progress' RETURNING true"""


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it (bounded memory)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def _record(row: asyncpg.Record | None) -> IdempotencyRecord | None:
    if row is None:
        return None
    try:
        result = None if row["result"] is None else json.loads(row["result"])
    except ValueError:  # edited into something that is not JSON: its signature will not match
        result = {"__corrupt_result__": str(row["result"])}
    return IdempotencyRecord(
        row["scope"],
        row["key"],
        row["tool"],
        row["args_hash"],
        row["status"],
        result,
        row["owner"],
        row["created_at"],
        row["expires_at"],
        row["signature"],
    )


class PostgresJournalStore(JournalStore):
    """A journal in PostgreSQL (see the module docstring for the concurrency model)."""

    def __init__(self, pool: asyncpg.Pool, signer: Signer, clock: Clock) -> None:
        super().__init__(signer, clock)
        self._pool = pool
        self._locks = KeyedLocks()
        self._tails: OrderedDict[str, tuple[int, str]] = OrderedDict()

    @classmethod
    async def open(
        cls, url: str, signer: Signer, *, clock: Clock = time.time, min_size: int = 1, max_size: int = 10
    ) -> PostgresJournalStore:
        """Create the pool and, under an advisory lock, the tables."""
        pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
                for sql in SCHEMA:
                    await conn.execute(sql)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, signer, clock)

    # ---- journal -----------------------------------------------------------------------

    async def _append(self, draft: Draft) -> JournalEntry:
        async with self._locks.hold(draft.call_id):
            tail = self._tails.get(draft.call_id)
            for attempt in range(MAX_APPEND_ATTEMPTS):
                if tail is None:
                    row = await self._pool.fetchrow(_LAST_ENTRY, draft.call_id)
                    tail = (0, GENESIS_HASH) if row is None else (row["seq"], row["signature"])
                seq, prev_hash = tail[0] + 1, tail[1]
                signature = draft.sign(self.signer, seq, prev_hash)
                head_signature = self.signer.sign_head(draft.call_id, seq, signature)
                try:
                    await self._pool.execute(_INSERT_ENTRY, *draft.row(seq, prev_hash, signature), head_signature)
                except asyncpg.UniqueViolationError:
                    # Another process appended to this call: re-read its tail and try again.
                    tail = None
                    if attempt:
                        await asyncio.sleep(random.uniform(0, min(0.05, 0.001 * attempt)))
                    continue
                self._remember_tail(draft.call_id, (seq, signature))
                return draft.entry(seq, prev_hash, signature)
        raise JournalError(f"could not append to call {draft.call_id!r}: lost {MAX_APPEND_ATTEMPTS} races")

    def _remember_tail(self, call_id: str, tail: tuple[int, str]) -> None:
        self._tails[call_id] = tail
        self._tails.move_to_end(call_id)
        if len(self._tails) > _TAIL_CACHE_SIZE:
            self._tails.popitem(last=False)

    async def entries(self, call_id: str) -> list[JournalEntry]:
        rows = await self._pool.fetch(_ENTRIES, call_id)
        return [entry_from_row(tuple(row)) for row in rows]

    async def call_ids(self) -> list[str]:
        return [row[0] for row in await self._pool.fetch(_CALL_IDS)]

    async def head(self, call_id: str) -> JournalHead | None:
        row = await self._pool.fetchrow(_HEAD, call_id)
        return None if row is None else head_from_row(tuple(row))

    async def head_call_ids(self) -> list[str]:
        return [row[0] for row in await self._pool.fetch(_HEAD_CALL_IDS)]

    async def unfinished(self) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in await self._pool.fetch(UNFINISHED_SQL)]

    async def interrupted_calls(self) -> list[str]:
        return [row[0] for row in await self._pool.fetch(INTERRUPTED_SQL)]

    # ---- idempotency ---------------------------------------------------------------------

    async def claim(self, scope: str, key: str, tool: str, args_hash: str, owner: str, lease_s: float) -> Claim:
        now = self.clock()
        async with self._pool.acquire() as conn:
            for _ in range(MAX_APPEND_ATTEMPTS):
                if await conn.fetchval(_CLAIM, scope, key, tool, args_hash, owner, now, now + lease_s):
                    return Claim("claimed", owner=owner)
                record = _record(await conn.fetchrow(_RECORD, scope, key))
                if record is not None:
                    return decide_claim(record, args_hash, owner, now, self.authentic(record))
                # Released between our two statements: the key is free again, try once more.
        raise JournalError(f"could not claim {scope!r}/{key!r}: it kept changing under us")

    async def _finish(
        self, scope: str, key: str, owner: str, status: str, result_json: str | None, expires: float | None
    ) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            held = await conn.fetchrow(_HELD, scope, key, owner)
            if held is None:
                return False
            signature = self.record_signature(scope, key, held["tool"], held["args_hash"], status, result_json)
            return bool(await conn.fetchval(_FINISH, status, result_json, signature, expires, scope, key, owner))

    async def renew(self, scope: str, key: str, owner: str, lease_s: float) -> bool:
        return bool(await self._pool.fetchval(_RENEW, self.clock() + lease_s, scope, key, owner))

    async def release(self, scope: str, key: str, owner: str) -> bool:
        return bool(await self._pool.fetchval(_RELEASE, scope, key, owner))

    async def reclaim_stale(self, scope: str, key: str, new_owner: str, *, lease_s: float) -> Claim | None:
        now = self.clock()
        async with self._pool.acquire() as conn, conn.transaction():
            record = _record(await conn.fetchrow(_RECORD + " FOR UPDATE", scope, key))
            dead = record is not None and owner_is_dead(record.owner)
            decision = decide_reclaim(record, now, dead, self.authentic(record))
            if decision is None or decision.status != "claimed":
                return decision
            await conn.execute(_TAKE_OVER, new_owner, now + lease_s, scope, key)
            return Claim("claimed", owner=new_owner)

    # ---- lifecycle -------------------------------------------------------------------------

    async def close(self) -> None:
        await self._pool.close()
