"""The conversation state machine: events in, decisions and a new state out.

It owns who is speaking, the turn number, the phase, the flow state, the slots collected, the
tools in flight and the invariants. It is deterministic and pure: no I/O, no clock, no LiveKit.
The same events in the same order always give the same states and decisions, which is what
makes a recorded call replayable. The model only *proposes* tool calls; `propose()` decides.
"""

from __future__ import annotations

import copy
import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, Field

from worker.flow import invariants
from worker.flow.repair import RepairRules, heard_words
from worker.flow.records_path import lookup as _lookup
from worker.flow.spec import FlowSpec, ToolRule, TransitionRule

Phase = Literal["listening", "thinking", "running_tools", "speaking", "ended"]
Speaker = Literal["caller", "agent", "nobody"]


# ---------------------------------------------------------------- events
class CallerSpeechStarted(BaseModel):
    kind: Literal["caller_speech_started"] = "caller_speech_started"


class CallerTurn(BaseModel):
    """A final transcript of the caller, with the deterministic reading of yes/no and wishes."""

    kind: Literal["caller_turn"] = "caller_turn"
    text: str
    affirmation: bool | None = None
    wants: list[str] = Field(default_factory=list)
    confidence: float | None = None
    """The recogniser's confidence in the transcript (0–1), when the transport knows it."""
    word_confidence: list[float] | None = None
    """The recogniser's confidence in each whitespace word of `text` (0–1), when it gives them."""


class AgentSpeechStarted(BaseModel):
    kind: Literal["agent_speech_started"] = "agent_speech_started"


class AgentSpoke(BaseModel):
    """A reply finished (or was cut off); `text` is what the caller actually heard."""

    kind: Literal["agent_spoke"] = "agent_spoke"
    text: str
    interrupted: bool = False
    began_in_state: bool = True
    """False when the speech started before the current state was entered (it does not count
    as the state's own reply, e.g. an acknowledgement spoken while the tool that moved us ran)."""


class ToolProposed(BaseModel):
    kind: Literal["tool_proposed"] = "tool_proposed"
    call_id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class ToolFinished(BaseModel):
    kind: Literal["tool_finished"] = "tool_finished"
    call_id: str
    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = None


class CallerIdentified(BaseModel):
    """The line told who is calling (caller id), before anything was said: `value` as the
    slot holds it, `spoken` as the agent says it back (in groups)."""

    kind: Literal["caller_identified"] = "caller_identified"
    value: str
    spoken: str


class CallEnded(BaseModel):
    kind: Literal["call_ended"] = "call_ended"
    reason: str


Event = Annotated[
    Union[CallerSpeechStarted, CallerTurn, AgentSpeechStarted, AgentSpoke, ToolProposed, ToolFinished, CallEnded,
          CallerIdentified],
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- decisions and state
class Decision(BaseModel):
    """The verdict on a proposed tool call; a rejection is sent back to the model as is."""

    call_id: str
    tool: str
    accepted: bool
    reason: str | None = None
    state: str
    allowed_tools: list[str] = Field(default_factory=list)

    def error_payload(self) -> str:
        return json.dumps({
            "error": "rejected_by_state_machine",
            "tool": self.tool,
            "reason": self.reason,
            "state": self.state,
            "allowed_tools": self.allowed_tools,
        })


class Transition(BaseModel):
    turn: int
    from_state: str
    to_state: str
    because: str


class ConversationState(BaseModel):
    """A snapshot of everything the machine knows; serialisable and comparable."""

    flow: str
    state: str
    phase: Phase = "listening"
    speaker: Speaker = "nobody"
    turn: int = 0
    slots: dict[str, Any] = Field(default_factory=dict)
    slot_recorded_turn: dict[str, int] = Field(default_factory=dict)
    in_flight: dict[str, str] = Field(default_factory=dict)
    in_flight_args: dict[str, dict[str, Any]] = Field(default_factory=dict)
    succeeded: dict[str, int] = Field(default_factory=dict)
    succeeded_in_state: list[str] = Field(default_factory=list)
    agent_spoke_in_state: bool = False
    last_agent_text: str = ""
    agent_text_before_last_caller_turn: str = ""
    last_caller_turn: int = 0
    last_caller_affirmation: bool | None = None
    last_caller_wants: list[str] = Field(default_factory=list)
    last_caller_confidence: float | None = None
    last_caller_words: dict[str, list[float]] = Field(default_factory=dict, exclude=True)
    """The last turn's words (`repair.heard_words`) → the recogniser's confidence; never dumped."""
    confirmed_values: dict[str, Any] = Field(default_factory=dict)
    """slot → the value the caller confirmed (a read-back, or a known value they said yes to);
    a slot is confirmed while its value equals it."""
    read_back_heard: dict[str, Any] = Field(default_factory=dict)
    """slot → the value the caller last heard read back."""
    misheard: dict[str, int] = Field(default_factory=dict)
    """slot → how many read-backs the caller rejected (a "no" or a corrected value)."""
    misheard_turn: dict[str, int] = Field(default_factory=dict)
    transitions: list[Transition] = Field(default_factory=list)
    rejections: int = 0
    known: dict[str, dict[str, str]] = Field(default_factory=dict)
    """What the call knew before asking, by source: {"caller_id": {"value", "spoken"}}."""
    confirmed: dict[str, str] = Field(default_factory=dict)
    """Slots filled by the caller confirming a known value → its source."""
    declined: list[str] = Field(default_factory=list)
    """Slots whose known value the caller turned down (their own question is asked)."""
    ended: bool = False
    end_reason: str | None = None


class ConversationMachine(RepairRules):
    """Runs one conversation of a flow. Feed it events with `apply`; ask it with `propose`."""

    def __init__(self, flow: FlowSpec, state: ConversationState | None = None) -> None:
        self.flow = flow
        self.s = state or ConversationState(flow=flow.name, state=flow.initial)

    # ------------------------------------------------------------ queries
    def snapshot(self) -> ConversationState:
        return self.s.model_copy(deep=True)

    @property
    def rules(self) -> dict[str, ToolRule]:
        return self.flow.rules_for(self.s.state)

    def allowed_tools(self) -> list[str]:
        return [] if self.s.ended else sorted(self.rules)

    def missing_slots(self) -> list[str]:
        spec = self.flow.states[self.s.state]
        return [k for k in spec.collect if self.s.slots.get(k) in (None, "", [])]

    def question_for(self, slot: str) -> str:
        """The slot's question: confirming a value the call knows, else asking for it."""
        spec = self.flow.states[self.s.state]
        known = spec.confirm_known.get(slot)
        if known is not None and known.source in self.s.known and slot not in self.s.declined:
            return known.question.replace("{known}", self.s.known[known.source]["spoken"])
        return spec.collect[slot]

    def directive(self) -> dict[str, Any]:
        """What the model should do now: goal, the next question, the tool to aim for."""
        spec = self.flow.states[self.s.state]
        missing = self.missing_slots()
        return {
            "flow": self.flow.name,
            "state": self.s.state,
            "goal": spec.goal,
            "missing": [{"slot": k, "question": self.question_for(k)} for k in missing],
            "next_tool": spec.next_tool if not missing else None,
            "confirm": spec.confirm,
            "confirm_no_asks": spec.confirm_no_asks,
            "read_back": self._read_back_directive(),
            "done_question": self.flow.done_question,
            "allowed_tools": self.allowed_tools(),
            "slots": {k: v for k, v in self.s.slots.items() if not k.startswith("_")},
            "terminal": spec.terminal,
        }

    # ------------------------------------------------------------ decisions
    def propose(self, call: ToolProposed) -> Decision:
        """Check a proposed call against the state; accepted calls become in flight."""
        reason = self._why_not(call)
        decision = Decision(
            call_id=call.call_id,
            tool=call.tool,
            accepted=reason is None,
            reason=reason,
            state=self.s.state,
            allowed_tools=self.allowed_tools(),
        )
        if reason is None:
            self.s.in_flight[call.call_id] = call.tool
            self.s.in_flight_args[call.call_id] = copy.deepcopy(call.args)
            self.s.phase = "running_tools"
        else:
            self.s.rejections += 1
        return decision

    def _why_not(self, call: ToolProposed) -> str | None:
        if self.s.ended:
            return "the call has ended"
        rule = self.rules.get(call.tool)
        if rule is None:
            return f"{call.tool} is not allowed in state {self.s.state!r}"
        if rule.once and self.s.succeeded.get(call.tool, 0) > 0:
            return f"{call.tool} already succeeded in this call and may run only once"
        if rule.once and call.tool in self.s.in_flight.values():
            return f"{call.tool} is already running"
        reason = invariants.slots_known(self.s, call.args, rule.requires_slots)  # type: ignore[arg-type]
        if reason:
            return reason
        for inv in rule.invariants:
            reason = invariants.check(inv.name, self.s, call.args, inv.params)  # type: ignore[arg-type]
            if reason:
                return reason
        return None

    # ------------------------------------------------------------ events
    def apply(self, event: BaseModel) -> list[Transition]:
        """Fold one event into the state; returns the flow transitions it caused."""
        s = self.s
        if s.ended and not isinstance(event, (AgentSpoke, ToolFinished)):
            return []
        if isinstance(event, CallerSpeechStarted):
            s.speaker = "caller"
            if not s.ended:
                s.phase = "listening"
        elif isinstance(event, CallerIdentified):
            s.known["caller_id"] = {"value": event.value, "spoken": event.spoken}
        elif isinstance(event, CallerTurn):
            self._answer_confirmation(event.affirmation)
            s.turn += 1
            s.speaker = "nobody"
            s.phase = "thinking"
            s.last_caller_turn = s.turn
            s.last_caller_affirmation = event.affirmation
            s.last_caller_confidence = event.confidence
            s.last_caller_words = heard_words(event.text, event.word_confidence)
            s.last_caller_wants = sorted(self._wants(event))
            s.agent_text_before_last_caller_turn = s.last_agent_text
            self._answer_read_back(event)
        elif isinstance(event, AgentSpeechStarted):
            s.speaker = "agent"
            s.phase = "speaking"
        elif isinstance(event, AgentSpoke):
            s.speaker = "nobody"
            if event.text.strip():
                s.last_agent_text = event.text
                s.agent_spoke_in_state = s.agent_spoke_in_state or event.began_in_state
            if not s.ended:
                s.phase = "running_tools" if s.in_flight else "listening"
        elif isinstance(event, ToolProposed):
            self.propose(event)
            return []
        elif isinstance(event, ToolFinished):
            tool = s.in_flight.pop(event.call_id, None)
            args = s.in_flight_args.pop(event.call_id, {})
            if tool is None:
                return []
            if event.ok:
                s.succeeded[tool] = s.succeeded.get(tool, 0) + 1
                s.succeeded_in_state.append(tool)
                rule = self.flow.rules_for(s.state).get(tool)
                if rule:
                    self._record(rule, args, event.result or {})
            if not s.ended:
                s.phase = "running_tools" if s.in_flight else "thinking"
        elif isinstance(event, CallEnded):
            self._end(event.reason)
            return []
        return self._advance()

    def _answer_confirmation(self, affirmation: bool | None) -> None:
        """The caller answered the agent's last line: if it asked to confirm a known value,
        yes fills the slot (marked confirmed) and no drops the value; anything else (another
        number, a question) leaves it to the slot's own reading."""
        missing = self.missing_slots()
        for slot, known in self.flow.states[self.s.state].confirm_known.items():
            if slot not in missing or known.source not in self.s.known or slot in self.s.declined:
                continue
            if self.question_for(slot) not in self.s.last_agent_text or affirmation is None:
                continue
            if affirmation:
                self.s.slots[slot] = self.s.known[known.source]["value"]
                self.s.slot_recorded_turn[slot] = self.s.turn + 1
                self.s.confirmed[slot] = known.source
                self.s.confirmed_values[slot] = self.s.slots[slot]  # needs no read-back
            else:
                self.s.declined.append(slot)

    def _record(self, rule: ToolRule, args: dict[str, Any], result: dict[str, Any]) -> None:
        for slot, path in rule.records.items():
            value = _lookup({"args": args, "result": result}, path)
            if value is not None:
                self.s.slots[slot] = value
                self.s.slot_recorded_turn[slot] = self.s.turn
                self._on_new_value(slot, value)

    def _end(self, reason: str) -> None:
        self.s.ended = True
        self.s.end_reason = reason
        self.s.phase = "ended"

    def _advance(self) -> list[Transition]:
        """Take transitions while their conditions hold (bounded, so a cycle cannot hang)."""
        taken: list[Transition] = []
        for _ in range(len(self.flow.states) + 1):
            spec = self.flow.states[self.s.state]
            if spec.terminal:
                break
            rule = next((t for t in [*spec.transitions, *self.flow.global_transitions] if self._holds(t)), None)
            if rule is None:
                break
            tr = Transition(turn=self.s.turn, from_state=self.s.state, to_state=rule.to, because=_because(rule))
            taken.append(tr)
            self.s.transitions.append(tr)
            self.s.state = rule.to
            self.s.succeeded_in_state = []
            self.s.agent_spoke_in_state = False
            self.s.last_caller_wants = []
            if self.flow.states[rule.to].terminal and not self.s.in_flight:
                pass  # the farewell is still to be spoken; `after_agent_spoke` ends the call
        if self.flow.states[self.s.state].terminal and self.s.agent_spoke_in_state and not self.s.ended:
            self._end("completed")
        return taken

    def _holds(self, t: TransitionRule) -> bool:
        if t.to == self.s.state:
            return False
        if t.after_tool and t.after_tool not in self.s.succeeded_in_state:
            return False
        if any(self.s.slots.get(k) in (None, "", []) for k in t.slots_known):
            return False
        if any(self.s.slots.get(k) is not True for k in t.slots_true):
            return False
        if not all(self.is_confirmed(k) for k in t.slots_confirmed):
            return False
        if t.caller_wants and t.caller_wants not in self.s.last_caller_wants:
            return False
        if t.after_agent_spoke and not self.s.agent_spoke_in_state:
            return False
        return bool(t.after_tool or t.slots_known or t.slots_true or t.slots_confirmed or t.caller_wants
                    or t.after_agent_spoke)


def _because(t: TransitionRule) -> str:
    parts = []
    if t.after_tool:
        parts.append(f"{t.after_tool} succeeded")
    if t.slots_known:
        parts.append("known: " + ", ".join(t.slots_known))
    if t.slots_true:
        parts.append("true: " + ", ".join(t.slots_true))
    if t.slots_confirmed:
        parts.append("confirmed: " + ", ".join(t.slots_confirmed))
    if t.caller_wants:
        parts.append(f"caller wants {t.caller_wants}")
    if t.after_agent_spoke:
        parts.append("agent spoke")
    return "; ".join(parts)
