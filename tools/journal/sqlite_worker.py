"""The one thread that owns a journal's SQLite connection, with group commit.

Why not a plain executor: with one ``run_in_executor`` hop and one transaction per
write, the thread hand-over and event-loop wake-up per write cost more than SQLite
itself, and concurrent tool calls queue behind each other. This worker takes every job
waiting when it wakes up, runs the writes in ONE ``BEGIN IMMEDIATE`` transaction,
commits, and only then resolves the callers' futures, with one loop wake-up for the
group. Nothing is acknowledged before its commit, so grouping loses no durability; a
failed COMMIT fails every job of the group.

Contract for write jobs: at most ONE modifying statement that can fail on a constraint, and
it comes first; any later one must not be able to (an append's head upsert on its primary
key). SQLite undoes a failed statement on its own and keeps the transaction, so a failing
job leaves nothing behind and does not affect the others (no savepoints needed). If SQLite instead aborts the
whole transaction (disk full, I/O error), the group stops and every job fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]

#: Most jobs per transaction: bounds how long other processes wait for the write lock.
MAX_GROUP: Final[int] = 128


class TransactionHooks(Protocol):
    """Lets the store keep per-connection caches exact across other processes' writes."""

    def after_begin(self, conn: sqlite3.Connection) -> None:
        """Called inside each write transaction before its first job."""

    def after_rollback(self) -> None:
        """Called when a write transaction was rolled back as a whole."""


@dataclass(slots=True)
class _Item:
    job: Job
    write: bool
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    ok: bool = False
    value: Any = None


_STOP: Final = object()


class GroupAborted(sqlite3.OperationalError):
    """SQLite rolled back the whole group's transaction; none of its writes were stored."""


class SQLiteWorker:
    """Runs jobs on its own thread in submission order; writes are group-committed."""

    def __init__(self, conn: sqlite3.Connection, hooks: TransactionHooks, name: str = "journal-sqlite") -> None:
        self._conn = conn
        self._hooks = hooks
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[sqlite3.Connection], T], *, write: bool) -> asyncio.Future[T]:
        """Queue ``job``; the future resolves after it ran (and, for writes, committed).

        A job whose caller was cancelled still runs; its result is dropped.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Item(job, write, future, loop))
        return future

    def stop(self) -> None:
        """Finish the queued jobs, close the connection and end the thread (blocking)."""
        self._queue.put(_STOP)
        self._thread.join()

    def _main(self) -> None:
        stopping = False
        while not stopping:
            group: list[_Item] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
                if len(group) >= MAX_GROUP:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if group:
                self._run_group(group)
                _resolve(group)
        self._conn.close()

    def _run_group(self, group: list[_Item]) -> None:
        conn = self._conn
        if not any(item.write for item in group):
            for item in group:
                _run_one(item, conn)
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._hooks.after_begin(conn)
            for item in group:
                if not _run_one(item, conn) and not conn.in_transaction:
                    raise GroupAborted(f"SQLite rolled back the journal transaction: {item.value}")
            conn.execute("COMMIT")
        except Exception as exc:  # BEGIN, COMMIT or the transaction failed: nothing of it is stored
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._hooks.after_rollback()
            for item in group:  # reads in the group may have seen the rolled-back writes
                item.ok, item.value = False, exc


def _run_one(item: _Item, conn: sqlite3.Connection) -> bool:
    try:
        item.value = item.job(conn)
        item.ok = True
    except Exception as exc:  # handed to the awaiting task, which re-raises it
        item.ok, item.value = False, exc
    return item.ok


def _resolve(group: list[_Item]) -> None:
    """Hand results back with one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Item]] = {}
    for item in group:
        by_loop.setdefault(item.loop, []).append(item)
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
            loop.call_soon_threadsafe(_set_results, items)


def _set_results(items: list[_Item]) -> None:
    for item in items:
        if item.future.cancelled():
            continue
        if item.ok:
            item.future.set_result(item.value)
        else:
            item.future.set_exception(item.value)
