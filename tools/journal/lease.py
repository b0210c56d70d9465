"""Keeps a claim's lease alive while its tool call runs.

Why a lease: an in-progress claim says "someone is running this right now". If that someone
died, the claim must free itself, or ``resume`` could never finish the call; if it is alive,
nobody may take the call over, or two processes run it at once (the live one then writes a
second ``call_succeeded``). So a claim expires ``lease_s`` after it was last renewed, and the
running executor renews it every ``lease_s / 3`` (the shape of Chubby's and etcd's leases).
A renewal that finds the claim gone or taken sets :attr:`Lease.lost`: the executor then
leaves the outcome to the new owner instead of journaling one of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Final, Self

from loguru import logger

from tools.journal.store import JournalStore

#: How long an in-progress claim stays owned without a renewal (seconds).
DEFAULT_LEASE_S: Final[float] = 30.0


class Lease:
    """``async with Lease(...)``: renew ``(scope, key)`` for ``owner`` until the block ends."""

    def __init__(self, store: JournalStore, scope: str, key: str, owner: str, lease_s: float) -> None:
        self.store = store
        self.scope = scope
        self.key = key
        self.owner = owner
        self.lease_s = lease_s
        self.lost = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.get_running_loop().create_task(self._keep(), name=f"lease:{self.key}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                held = await self.store.renew(self.scope, self.key, self.owner, self.lease_s)
            except Exception as exc:  # noqa: BLE001 - a journal hiccup: try again next round
                logger.warning("could not renew the lease of {}: {}", self.key, exc)
                continue
            if not held:
                self.lost = True
                logger.warning("the claim of {} was taken over by another owner; leaving the outcome to it",
                               self.key)
                return
