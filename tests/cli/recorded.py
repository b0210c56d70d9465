"""A journaled text-level call: the production recording path, minus audio and LiveKit.

The ledger, the tool gate, the executor and the event log are the runtime's own; only the caller's
sentences come as text and the replies from the deterministic planner (as in
``tests/planner/driver.py``). What lands in the journal is what a live call writes, so
``replay``, ``resume`` and ``audit`` are tested on real recordings in milliseconds.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from livekit.agents.llm import ToolError

from tests.support.dates import SCENARIO_TODAY
from tools.executor import ToolExecutor
from tools.sandbox.core import Sandbox
from worker.call.ledger import Ledger
from worker.call.records import CallOpened
from worker.call.tool_gate import ToolGate
from worker.flow.library import load_flow
from worker.flow.machine import AgentSpoke, ConversationMachine
from worker.journaling import EventLog
from worker.planner.policy import AgentSaid, Called, Item, Output, UserSaid, plan
from worker.reading.turn import read_caller_turn
from worker.trace.collector import TraceCollector

TODAY = SCENARIO_TODAY
#: The insurance renewal up to the caller's "yes" that makes the agent charge the card.
RENEWAL = ["4821", "March 12th, 1984", "4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 7", "yes go ahead", "bye"]
MAX_ROUNDS = 6


class RecordedCall:
    """One conversation whose events and tool calls are journaled as in ``worker.call``."""

    def __init__(self, flow: str, sandbox: Sandbox, executor: ToolExecutor, call_id: str,
                 sandbox_path: Path, today: date = TODAY) -> None:
        self.call_id = call_id
        self.today = today
        self.machine = ConversationMachine(load_flow(flow))
        self.events = EventLog(executor.store, call_id)
        trace = TraceCollector(call_id, engine="offline", model="m", state=self.machine.snapshot())
        self.ledger = Ledger(self.machine, trace, self.events)
        self.ledger.opened(CallOpened(flow=flow, today=today, sandbox=str(sandbox_path.resolve())))
        self.gate = ToolGate(self.ledger, call_id, executor=executor, sandbox=sandbox)
        self.items: list[Item] = []
        self._n = 0
        self._speak(self.machine.flow.greeting)

    def _speak(self, text: str) -> None:
        if text:
            self.items.append(AgentSaid(text))
            self.ledger.apply(AgentSpoke(text=text))

    async def say(self, text: str) -> None:
        """The caller says ``text``; the agent replies and calls tools until it waits again."""
        self.items.append(UserSaid(text))
        self.ledger.apply(read_caller_turn(text, self.today))
        for _ in range(MAX_ROUNDS):
            step = plan(self.machine.directive() | {"today": self.today.isoformat()}, list(self.items), self.today)
            outputs = []
            for call in step.tool_calls:
                try:
                    body, failed = await self.gate.call(call.name, dict(call.args), call.call_id), False
                except ToolError as exc:
                    body, failed = exc.message, True
                outputs.append(Output(call.call_id, call.name, body, failed))
            self._speak(step.text)
            self.items.extend(Called(c.call_id, c.name, c.args) for c in step.tool_calls)
            self.items.extend(outputs)
            if not step.tool_calls:
                return
        raise AssertionError(f"the planner was still calling tools after {MAX_ROUNDS} rounds")

    async def close(self) -> None:
        await self.events.flush()


def tool_result(body: str) -> dict[str, Any]:
    return dict(json.loads(body))
