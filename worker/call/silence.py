"""Silence on the line: a reprompt after a quiet spell, then a polite goodbye and a clean end.

Callers put the phone down, get distracted, or their audio dies. The agent must neither wait
forever nor talk over them: the timer only runs while the agent is listening and nobody speaks.
The watch only decides *when*; what is said and how the call ends belong to the conversation,
which hands in three narrow callbacks (is the call over, reprompt, give up).
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from worker.planner.replies import REPROMPT

__all__ = ["GOODBYE", "REPROMPT", "SilenceWatch"]

GOODBYE = "I haven't heard anything, so I'll end the call now. Please call back anytime. Goodbye!"


class SilenceWatch:
    """Reprompts after `after` seconds of silence, up to `max_reprompts` times, then gives up."""

    def __init__(self, after: float, max_reprompts: int, *, over: Callable[[], bool],
                 reprompt: Callable[[int], None], give_up: Callable[[int], Awaitable[None]]) -> None:
        self.after = after
        self.max_reprompts = max_reprompts
        self.reprompts = 0
        self._over = over
        self._reprompt = reprompt
        self._give_up = give_up
        self._task: asyncio.Task[None] | None = None
        self._stopped = after <= 0
        self._agent_listening = False
        self._caller_talking = False

    def caller_spoke(self) -> None:
        self.reprompts = 0
        self._cancel()

    def caller_talking(self, talking: bool) -> None:
        """The caller's voice started or stopped. A caller who cuts the agent off is still talking
        when its reply stops and it goes back to listening: no timer runs until she is done."""
        self._caller_talking = talking
        if talking:
            self.caller_spoke()
        elif self._agent_listening:
            self._start()

    def agent_state(self, state: str) -> None:
        self._cancel()
        self._agent_listening = state == "listening"
        if self._agent_listening:
            self._start()

    def _start(self) -> None:
        self._cancel()
        if not self._caller_talking and not self._stopped and not self._over():
            self._task = asyncio.get_event_loop().create_task(self._wait())

    def stop(self) -> None:
        self._stopped = True
        self._cancel()

    def _cancel(self) -> None:
        if self._task and not self._task.done() and self._task is not asyncio.current_task():
            self._task.cancel()
        self._task = None

    async def _wait(self) -> None:
        await asyncio.sleep(self.after)
        if self._stopped or self._over():
            return
        if self.reprompts < self.max_reprompts:
            self.reprompts += 1
            self._reprompt(self.reprompts)
            return
        self._stopped = True
        # from here on this task must finish: the goodbye itself moves the agent to "speaking",
        # and agent_state() would otherwise cancel it mid-playout, before the call is ended
        self._task = None
        await self._give_up(self.reprompts)
