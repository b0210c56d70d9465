"""Fixtures of the journal tests: every store test runs against SQLite and PostgreSQL.

PostgreSQL is a throwaway server (``bench/pg_server.py``) started once per session on
127.0.0.1. Missing PostgreSQL binaries FAIL the PostgreSQL tests with a message saying
how to install them: a silently skipped backend would be an untested backend.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.journal.helpers import FakeClock, PostgresRaw, RawDB, SQLiteRaw
from tools.journal import JournalStore, Signer, open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pg_server import PgServer, PostgresUnavailable, start_postgres

KEY = bytes(range(32))
BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole session, stopped at the end."""
    problem = None
    try:
        server = start_postgres(database="journal_test")
    except PostgresUnavailable as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(f"PostgreSQL journal tests need a PostgreSQL server: {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Backend:
    """Where a test's journal lives, plus raw access to it."""

    name: str
    url: str
    raw: RawDB


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "journal.db"
        yield Backend("sqlite", f"sqlite:///{path}", SQLiteRaw(path))
        return
    server: PgServer = request.getfixturevalue("pg_server")
    raw = PostgresRaw(server.url)
    try:
        # Tables exist once any store opened them; empty them so each test starts clean.
        async with await open_store(server.url, Signer(KEY)):
            pass
        await raw.truncate()
        yield Backend("postgres", server.url, raw)
    finally:
        await raw.close()


@pytest.fixture
def signer() -> Signer:
    return Signer(KEY)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(backend: Backend, signer: Signer, clock: FakeClock) -> AsyncIterator[JournalStore]:
    opened = await open_store(backend.url, signer, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
