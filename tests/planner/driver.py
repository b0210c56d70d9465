"""A text-level call: the state machine, the deterministic planner and the real sandbox tools,
wired the way `worker.call` wires them inside an AgentSession, minus audio and LiveKit.

Why it exists: the conversation logic (what the planner proposes, what the machine allows,
what the tools write) can then be tested in milliseconds, one caller sentence at a time,
without Whisper, Piper or a session. Event order follows livekit-agents: a reply's tools run
while its text plays, so `ToolFinished` is folded in before the reply's `AgentSpoke`, and the
chat history holds the reply text, then its calls, then their outputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tools.registry import TOOLS, run_tool
from tools.sandbox.core import Sandbox
from tools.spec import InvalidArguments
from worker.reading.turn import read_caller_turn
from worker.flow.library import load_flow
from worker.flow.machine import AgentSpoke, ConversationMachine, ToolFinished, ToolProposed
from worker.planner.policy import AgentSaid, Called, Item, Output, UserSaid, plan

#: More planner rounds than this after one caller sentence means it is looping on tools.
MAX_ROUNDS = 6


@dataclass
class ToolRecord:
    name: str
    args: dict[str, Any]
    """The arguments as the planner proposed them (before normalisation)."""
    accepted: bool
    ok: bool = False
    result: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class TurnRecord:
    caller: str
    replies: list[str] = field(default_factory=list)
    tools: list[ToolRecord] = field(default_factory=list)

    @property
    def reply(self) -> str:
        return " ".join(r for r in self.replies if r)


class TextCall:
    """One conversation of a flow, driven by caller text."""

    def __init__(self, flow: str, sandbox: Sandbox, today: date) -> None:
        self.machine = ConversationMachine(load_flow(flow))
        self.sandbox = sandbox
        self.today = today
        self.items: list[Item] = []
        self.turns: list[TurnRecord] = []
        self._speak(self.machine.flow.greeting)

    def _speak(self, text: str) -> None:
        if text:
            self.items.append(AgentSaid(text))
            self.machine.apply(AgentSpoke(text=text))

    async def _run(self, name: str, args: dict[str, Any], call_id: str) -> tuple[ToolRecord, Output]:
        """Validate like the tool gate, ask the machine, run the tool, fold the outcome back."""
        spec = TOOLS[name]
        try:
            validated = spec.validate(args)
        except InvalidArguments as exc:
            payload = json.dumps({"error": "invalid_arguments", "tool": name, "reason": exc.reason})
            return ToolRecord(name, args, accepted=False, error="invalid_arguments"), Output(call_id, name, payload, True)
        normalized = validated.model_dump(mode="json", exclude_none=True)
        decision = self.machine.propose(ToolProposed(call_id=call_id, tool=name, args=normalized))
        if not decision.accepted:
            return (ToolRecord(name, args, accepted=False, error=decision.reason),
                    Output(call_id, name, decision.error_payload(), True))
        outcome = await run_tool(self.sandbox, name, validated)
        self.machine.apply(ToolFinished(call_id=call_id, ok=outcome.ok, result=outcome.result,
                                        error=outcome.error_message))
        body = json.dumps(outcome.result if outcome.ok else {"error": outcome.error_code,
                                                             "reason": outcome.error_message})
        record = ToolRecord(name, args, accepted=True, ok=outcome.ok, result=outcome.result,
                            error=outcome.error_code)
        return record, Output(call_id, name, body, not outcome.ok)

    async def say(self, text: str, confidence: float | None = None) -> TurnRecord:
        """The caller says `text` (heard with the recogniser's `confidence`, 0-1, when given);
        the agent replies (and calls tools) until it waits again."""
        turn = TurnRecord(caller=text)
        self.turns.append(turn)
        self.items.append(UserSaid(text))
        self.machine.apply(read_caller_turn(text, self.today).model_copy(update={"confidence": confidence}))
        for _ in range(MAX_ROUNDS):
            directive = self.machine.directive() | {"today": self.today.isoformat()}
            step = plan(directive, list(self.items), self.today)
            turn.replies.append(step.text)
            ran = [await self._run(c.name, c.args, c.call_id) for c in step.tool_calls]
            self._speak(step.text)
            self.items.extend(Called(c.call_id, c.name, c.args) for c in step.tool_calls)
            for record, output in ran:
                turn.tools.append(record)
                self.items.append(output)
            if not step.tool_calls:
                return turn
        raise AssertionError(f"the planner was still calling tools after {MAX_ROUNDS} rounds: {turn}")

    async def run(self, lines: list[str]) -> list[TurnRecord]:
        return [await self.say(line) for line in lines]

    # ------------------------------------------------------------ views for assertions
    @property
    def state(self) -> str:
        return self.machine.s.state

    def succeeded(self, name: str | None = None) -> list[ToolRecord]:
        return [t for turn in self.turns for t in turn.tools if t.ok and (name is None or t.name == name)]

    def proposed(self) -> list[ToolRecord]:
        return [t for turn in self.turns for t in turn.tools]


def effects(sb: Sandbox) -> dict[str, int]:
    """Every write a tool can make, counted; a rejected call must leave all of them unchanged."""
    return {
        "bookings": sb.calendar.count_bookings(),
        "charges": sb.payments.count_charges(),
        "cases": sb.cases.count_cases(),
        "opportunities": sb.crm.count_opportunities(),
    }
