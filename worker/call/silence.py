"""Silence on the line: a reprompt after a quiet spell, then a polite goodbye and a clean end.

Callers put the phone down, get distracted, or their audio dies. The agent must neither wait
forever nor talk over them: the timer only runs while the agent is listening and nobody speaks.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from worker.call.conversation import Conversation

REPROMPT = "Are you still there?"
GOODBYE = "I haven't heard anything, so I'll end the call now. Please call back anytime. Goodbye!"


class SilenceWatch:
    def __init__(self, call: "Conversation", after: float, max_reprompts: int) -> None:
        self.call = call
        self.after = after
        self.max_reprompts = max_reprompts
        self.reprompts = 0
        self._task: asyncio.Task[None] | None = None
        self._stopped = after <= 0

    def caller_spoke(self) -> None:
        self.reprompts = 0
        self._cancel()

    def agent_state(self, state: str) -> None:
        self._cancel()
        if state == "listening" and not self._stopped and not self.call.machine.s.ended:
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
        if self._stopped or self.call.machine.s.ended:
            return
        if self.reprompts < self.max_reprompts:
            self.reprompts += 1
            self.call.log.info("silence for {:.1f} s: reprompt {}", self.after, self.reprompts)
            self.call.say(REPROMPT)
            return
        self.call.log.info("silence for {:.1f} s after {} reprompts: ending", self.after, self.reprompts)
        self._stopped = True
        # from here on this task must finish: the goodbye itself moves the agent to "speaking",
        # and agent_state() would otherwise cancel it mid-playout, before end() is reached
        self._task = None
        handle = self.call.say(GOODBYE, allow_interruptions=False)
        await handle.wait_for_playout()
        await self.call.end("silence")
