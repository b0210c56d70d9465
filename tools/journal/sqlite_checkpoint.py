"""Background WAL checkpoints for the SQLite journal.

Why: by default the connection whose commit pushes the WAL past 1000 pages runs the
checkpoint itself, with its fsyncs, inside that commit — in a voice call that is a
20 ms stall of whatever tool call happened to be journaling then (measured: p99 of a
journaled tool call 22 ms with it, 7 ms without). The journal's own connection turns
automatic checkpoints off and this thread does them instead, on its own connection:
PASSIVE checkpoints never block writers; but under continuous writes they never catch
up completely, and only a fully checkpointed WAL is reused from its start. So once the
WAL passes ``RESTART_PAGES`` a TRUNCATE checkpoint briefly makes writers wait and
empties it: the WAL stays bounded (measured: ~100 MB without, under 20k appends/4 s). Durability is unaffected: a
checkpoint only copies committed pages from the WAL into the database file.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Final

from loguru import logger

#: Seconds between passive checkpoints.
INTERVAL_S: Final[float] = 0.5
#: WAL size (pages, 4 KiB each) above which a blocking TRUNCATE checkpoint is forced.
RESTART_PAGES: Final[int] = 8_192


class Checkpointer:
    """A daemon thread that checkpoints one SQLite file's WAL until stopped."""

    def __init__(self, path: Path, busy_timeout_s: float, interval_s: float = INTERVAL_S) -> None:
        self._path = path
        self._busy_timeout_s = busy_timeout_s
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._main, name="journal-sqlite-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread (blocking); the last connection to close checkpoints what is left."""
        self._stopping.set()
        self._thread.join()

    def _main(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=self._busy_timeout_s)
        try:
            while not self._stopping.wait(self._interval_s):
                self.checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def checkpoint(conn: sqlite3.Connection) -> None:
        try:
            _busy, wal_pages, _copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if wal_pages > RESTART_PAGES:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:  # e.g. locked for longer than busy_timeout: try again next round
            logger.warning("journal WAL checkpoint failed: {}", exc)
