"""Signed requests accepted so far, on disk: a captured request works once, restarts included.

Kept in memory, the cache was empty after every restart, so a request captured within its
five-minute window could be replayed once more per restart. It lives in SQLite under the data
dir (`token_replay.db`): one row per accepted signature (its SHA-256, not the signature) until
the signature's window closes. The insert is the check (`INSERT OR IGNORE` on the primary
key), so several `mediabloom serve` processes sharing the data dir accept a signature once
between them. WAL with synchronous=NORMAL survives a process crash; a power cut may forget the
last few seconds of signatures (the window still bounds them).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from worker.settings import ConfigError

FILE_NAME = "token_replay.db"
PRUNE_EVERY_SECONDS = 60.0


class ReplayCache:
    """`first_use(signature, until)` is True exactly once per signature while it is in its window."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=2.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS accepted_signatures "
                             "(digest TEXT PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID")
        except (sqlite3.Error, OSError) as exc:
            raise ConfigError(f"the replay cache of signed token requests ({path}) cannot be used ({exc}); "
                              "delete it or fix MB_DATA_DIR.") from None
        self._pruned_at = 0.0

    def first_use(self, signature: str, expires_at: float, now: float) -> bool:
        """Record `signature` until `expires_at`; False when it was already recorded."""
        if now - self._pruned_at > PRUNE_EVERY_SECONDS:
            self._db.execute("DELETE FROM accepted_signatures WHERE expires_at < ?", (now,))
            self._pruned_at = now
        digest = hashlib.sha256(signature.encode("ascii")).hexdigest()
        cursor = self._db.execute("INSERT OR IGNORE INTO accepted_signatures (digest, expires_at) VALUES (?, ?)",
                                  (digest, expires_at))
        return cursor.rowcount == 1

    def close(self) -> None:
        self._db.close()
