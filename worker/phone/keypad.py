"""The caller's keypad: DTMF digits become one caller turn, read like spoken digits.

LiveKit SIP forwards keypad presses (RFC 2833 events or SIP INFO) as the room's
`sip_dtmf_received` events, one per key. Phone conventions: `#` ends an entry, `*` clears
it, and a pause of `timeout` seconds ends it too. The finished entry goes to the call as the
caller's words (digits only, e.g. "4242424242424242"): wherever the flow asks for digits
(card, policy, phone) the reading layer takes the run as it would a spoken one. Digits are
never logged: an entry may be a card number, so only its length is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from loguru import logger

END_KEY = "#"
CLEAR_KEY = "*"
KEYS = set("0123456789") | {END_KEY, CLEAR_KEY}


class Keypad:
    """Collects one entry at a time and hands it to `on_entry` (awaited, one entry at a time)."""

    def __init__(self, on_entry: Callable[[str], Awaitable[None]], *, timeout: float = 3.0,
                 call_id: str = "-") -> None:
        self._on_entry = on_entry
        self.timeout = timeout
        self._digits: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self.entries = 0
        self.log = logger.bind(call_id=call_id, turn="-")

    @property
    def pending(self) -> int:
        """Digits typed so far in the current entry."""
        return len(self._digits)

    def press(self, key: str) -> None:
        """One key from the caller (call from the event loop's thread)."""
        if key not in KEYS:
            self.log.warning("keypad: ignored key {!r}", key[:4])
            return
        self._cancel_timer()
        if key == CLEAR_KEY:
            self._digits.clear()
            return
        if key == END_KEY:
            self._submit()
            return
        self._digits.append(key)
        self._timer = asyncio.get_running_loop().call_later(self.timeout, self._submit)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _submit(self) -> None:
        self._cancel_timer()
        if not self._digits:
            return
        entry = "".join(self._digits)
        self._digits.clear()
        self.entries += 1
        self.log.info("keypad entry of {} digits", len(entry))
        task = asyncio.get_running_loop().create_task(self._deliver(entry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, entry: str) -> None:
        async with self._lock:
            try:
                await self._on_entry(entry)
            except Exception as exc:  # noqa: BLE001 - a keyed turn must not take the call down
                self.log.warning("keypad entry not delivered: {}", type(exc).__name__)

    async def aclose(self) -> None:
        """Drop a half-typed entry and wait for the delivery in progress, if any."""
        self._cancel_timer()
        self._digits.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
