"""Test helpers for the journal: a settable clock and raw database access for tampering.

Why raw access: tamper-evidence is only proven if the database is edited *behind the
store's back*, the way an attacker or a buggy script would, with plain SQL.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import asyncpg

from tools.journal.rows import ENTRY_COLUMNS
from tools.journal.store import ENTRIES_TABLE, HEADS_TABLE, IDEMPOTENCY_TABLE

#: Columns that carry an entry's content, i.e. everything but its place (call_id, seq).
CONTENT_COLUMNS: tuple[str, ...] = tuple(c for c in ENTRY_COLUMNS if c not in ("call_id", "seq"))
_SHIFT = 1_000_000


class FakeClock:
    """Unix time that only moves when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RawDB(ABC):
    """Direct SQL on the journal tables, bypassing the store."""

    @abstractmethod
    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    async def execute(self, sql: str, *args: Any) -> None: ...

    @abstractmethod
    def param(self, n: int) -> str:
        """The n-th (1-based) placeholder in this dialect."""

    async def close(self) -> None:
        return None

    async def payload(self, call_id: str, seq: int) -> str:
        rows = await self.fetch(
            f"SELECT payload FROM {ENTRIES_TABLE} WHERE call_id = {self.param(1)} AND seq = {self.param(2)}",
            call_id,
            seq,
        )
        return str(rows[0][0])

    async def set_payload(self, call_id: str, seq: int, text: str) -> None:
        p = self.param
        await self.execute(
            f"UPDATE {ENTRIES_TABLE} SET payload = {p(1)} WHERE call_id = {p(2)} AND seq = {p(3)}", text, call_id, seq
        )

    async def delete(self, call_id: str, seq: int) -> None:
        p = self.param
        await self.execute(f"DELETE FROM {ENTRIES_TABLE} WHERE call_id = {p(1)} AND seq = {p(2)}", call_id, seq)

    async def swap_contents(self, call_id: str, a: int, b: int) -> None:
        """Exchange everything but the place of two entries (a re-ordering attack)."""
        p = self.param
        cols = ", ".join(CONTENT_COLUMNS)
        select = f"SELECT {cols} FROM {ENTRIES_TABLE} WHERE call_id = {p(1)} AND seq = {p(2)}"
        row_a = (await self.fetch(select, call_id, a))[0]
        row_b = (await self.fetch(select, call_id, b))[0]
        assignments = ", ".join(f"{col} = {p(i + 1)}" for i, col in enumerate(CONTENT_COLUMNS))
        n = len(CONTENT_COLUMNS)
        update = f"UPDATE {ENTRIES_TABLE} SET {assignments} WHERE call_id = {p(n + 1)} AND seq = {p(n + 2)}"
        await self.execute(update, *row_b, call_id, a)
        await self.execute(update, *row_a, call_id, b)

    async def shift_up(self, call_id: str, from_seq: int) -> None:
        """Renumber entries ``from_seq``.. one up, making room for an inserted entry."""
        p = self.param
        where = f"WHERE call_id = {p(2)} AND seq >= {p(3)}"
        await self.execute(f"UPDATE {ENTRIES_TABLE} SET seq = seq + {p(1)} {where}", _SHIFT, call_id, from_seq)
        await self.execute(
            f"UPDATE {ENTRIES_TABLE} SET seq = seq - {p(1)} {where}", _SHIFT - 1, call_id, from_seq + _SHIFT
        )

    async def insert(self, row: tuple[Any, ...]) -> None:
        marks = ", ".join(self.param(i + 1) for i in range(len(ENTRY_COLUMNS)))
        await self.execute(f"INSERT INTO {ENTRIES_TABLE} ({', '.join(ENTRY_COLUMNS)}) VALUES ({marks})", *row)


class SQLiteRaw(RawDB):
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, isolation_level=None, timeout=30)

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._connect() as conn:
            return [tuple(row) for row in conn.execute(sql, args).fetchall()]

    async def execute(self, sql: str, *args: Any) -> None:
        conn = self._connect()
        try:
            conn.execute(sql, args)
        finally:
            conn.close()

    def param(self, n: int) -> str:
        return "?"


class PostgresRaw(RawDB):
    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: asyncpg.Connection | None = None

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None:
            self._conn = await asyncpg.connect(self.url)
        return self._conn

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in await (await self._connection()).fetch(sql, *args)]

    async def execute(self, sql: str, *args: Any) -> None:
        await (await self._connection()).execute(sql, *args)

    def param(self, n: int) -> str:
        return f"${n}"

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()

    async def truncate(self) -> None:
        """Empty the journal tables (each test starts from nothing on the shared server)."""
        await self.execute(f"TRUNCATE {ENTRIES_TABLE}, {IDEMPOTENCY_TABLE}, {HEADS_TABLE}")
