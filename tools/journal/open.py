"""Open the journal store a URL names: SQLite (the default) or PostgreSQL.

Why a module of its own: the base class (:mod:`tools.journal.store`) is what both backends
build on, so it must not import them; only this factory knows every backend. The
PostgreSQL driver is imported only when a ``postgresql://`` URL asks for it.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from tools.journal.signing import Signer
from tools.journal.store import Clock, JournalError, JournalStore


async def open_store(url: str, signer: Signer, *, clock: Clock = time.time, create: bool = True) -> JournalStore:
    """Open (and create the tables of) the store named by ``url``.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (the default kind) or
    ``postgresql://user@host:port/db``. ``create=False`` is for read-only commands: a
    SQLite journal that does not exist is a :class:`JournalError`, not a new empty file.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme == "sqlite":
        from tools.journal.sqlite_store import SQLiteJournalStore

        path = sqlite_path(url)
        if not create and str(path) != ":memory:" and not path.exists():
            raise JournalError(f"no journal at {path.resolve()}: check MB_DATA_DIR or MB_JOURNAL_URL")
        return await SQLiteJournalStore.open(path, signer, clock=clock)
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
    """Where the journal lives unless configured: ``<MB_DATA_DIR>/journal.db`` (absolute, so
    the same journal is found from any working directory)."""
    return f"sqlite:///{data_dir.resolve() / 'journal.db'}"
