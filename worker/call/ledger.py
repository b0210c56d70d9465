"""The one path of a call event: the state machine decides, the journal records, the trace records.

Every event of a call (caller and agent speech, proposed and finished tool calls, the end)
goes through a `Ledger`, and nothing else feeds the machine, writes the call's event records
to the journal or writes the trace's rejections, tool runs and transitions. The order is
fixed: the machine first (it is the authority), then the journal (durable, so `replay` sees
exactly what the machine saw), then the trace (what people read). The conversation and the
tool gate only hand events in; neither holds a journal or talks to the machine directly.

Two things are traced without the machine being asked, because it never is: a tool call as
the model proposed it, and a call refused for its arguments before it reached the machine.
"""

from __future__ import annotations

import time
from typing import Any, Awaitable, Callable, Protocol

from pydantic import BaseModel

from tools.redact import hide_numbers, mask_card_numbers, scrubbed
from tools.registry import ToolOutcome
from worker.call.records import CallEventRecord, CallOpened
from worker.flow.machine import ConversationMachine, Decision, ToolFinished, ToolProposed, Transition
from worker.trace.collector import TraceCollector
from worker.trace.records import ToolRun


class EventJournal(Protocol):
    """Where call events are journaled (`worker.journaling.EventLog`)."""

    def record(self, payload: dict[str, Any], turn: int | None = None) -> None: ...


ToolOutcomeListener = Callable[[list[Transition]], Awaitable[None]]
"""Awaited after a tool outcome is recorded, before the model sees the result (the
conversation refreshes the agent's instructions there)."""


class Ledger:
    """Applies one call's events in order: machine → journal → trace."""

    def __init__(self, machine: ConversationMachine, trace: TraceCollector, journal: EventJournal | None = None,
                 on_tool_outcome: ToolOutcomeListener | None = None) -> None:
        self.machine = machine
        self.trace = trace
        self.journal = journal
        self.on_tool_outcome = on_tool_outcome
        self.state_entered_at = 0.0
        """Wall time of the last transition (speech begun before it belongs to the state before)."""

    @property
    def state(self) -> str:
        return self.machine.s.state

    @property
    def turn(self) -> int:
        return self.machine.s.turn

    @property
    def ended(self) -> bool:
        return self.machine.s.ended

    # ------------------------------------------------------------ the one path
    def opened(self, opened: CallOpened) -> None:
        """The call's first record (the machine has nothing to decide yet)."""
        self._journal(CallEventRecord(event=opened))

    def apply(self, event: BaseModel, secret_text: bool = False) -> list[Transition]:
        """Fold an event into the machine, journal it with its transitions, trace them.
        `secret_text`: the event's `text` is journaled with every number hidden (a group of a card)."""
        transitions = self.machine.apply(event)
        if transitions:
            self.state_entered_at = time.time()
        if secret_text and isinstance(getattr(event, "text", None), str):
            event = event.model_copy(update={"text": hide_numbers(event.text)})  # type: ignore[attr-defined]
        self._journal(CallEventRecord(event=event, transitions=transitions))  # type: ignore[arg-type]
        self.trace.on_transitions(transitions)
        return transitions

    def propose(self, proposed: ToolProposed) -> Decision:
        """Ask the machine about a validated tool call; journal the decision; trace a refusal."""
        decision = self.machine.propose(proposed)
        self._journal(CallEventRecord(event=proposed, decision=decision))
        if not decision.accepted:
            self.trace.on_rejected(proposed.call_id, proposed.tool, decision.reason or "", "state_machine",
                                   decision.state)
        return decision

    async def tool_finished(self, call_id: str, tool: str, arguments: dict[str, Any], outcome: ToolOutcome,
                            started: float, duration_ms: float) -> list[Transition]:
        """Fold a tool's outcome into the machine, journal it, trace the run and its transitions.

        `arguments` are already redacted (the trace's copy); the machine gets the clear result.
        """
        result = outcome.result if outcome.ok else None
        transitions = self.apply(ToolFinished(call_id=call_id, ok=outcome.ok, result=result,
                                              error=outcome.error_message))
        self.trace.on_tool_run(ToolRun(
            call_id=call_id, name=tool, arguments=arguments, ok=outcome.ok,
            result=scrubbed(result) if result is not None else None,
            error_code=outcome.error_code, error=mask_card_numbers(outcome.error_message or "") or None,
            attempts=outcome.attempts, started_at=round(started - self.trace.t0, 4),
            duration_ms=round(duration_ms, 2)))
        if self.on_tool_outcome is not None:
            await self.on_tool_outcome(transitions)
        return transitions

    # ------------------------------------------------------------ traced only
    def proposed(self, call_id: str, tool: str, redacted_args: dict[str, Any]) -> None:
        """The model proposed a call (arguments as sent, secrets masked)."""
        self.trace.on_proposed(call_id, tool, redacted_args)

    def invalid(self, call_id: str, tool: str, reason: str) -> None:
        """A call refused for its arguments: the machine was never asked, so nothing is journaled."""
        self.trace.on_rejected(call_id, tool, reason, "validation", self.machine.s.state)

    # ------------------------------------------------------------ journal
    def _journal(self, record: CallEventRecord) -> None:
        if self.journal is not None:
            self.journal.record(scrubbed(record), turn=self.machine.s.turn)
