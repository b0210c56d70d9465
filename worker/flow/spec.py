"""Declarations of a conversation flow, as data.

A flow is read by people who have never seen the engine (`machine.py`): states, the goal the
model is given in each, the slots it must collect (with the question for each), the tools it
may call, what those tools need before they may run (slots and named invariants), which slots
a successful tool records, and the transitions between states. Nothing here executes.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator


class InvariantRef(BaseModel):
    """A named predicate from `invariants.py` with its parameters, e.g.
    `{"name": "arg_equals_slot", "params": {"arg": "amount_cents", "slot": "quote_amount_cents"}}`."""

    name: str
    params: dict[str, Any] = Field(default_factory=dict)


class ToolRule(BaseModel):
    """When a tool may run, and what its success records in the conversation's slots."""

    tool: str
    requires_slots: list[str] = Field(default_factory=list)
    invariants: list[InvariantRef] = Field(default_factory=list)
    once: bool = False
    """At most one successful call per conversation (a second is rejected, not re-run)."""
    records: dict[str, str] = Field(default_factory=dict)
    """slot name → path into the call: `args.name`, `result.listings[].listing_id`."""


class TransitionRule(BaseModel):
    """Move to `to` when every given condition holds (checked after each event)."""

    to: str
    after_tool: str | None = None
    """A successful call of this tool, made while in the current state."""
    slots_known: list[str] = Field(default_factory=list)
    slots_true: list[str] = Field(default_factory=list)
    slots_confirmed: list[str] = Field(default_factory=list)
    """Slots the caller confirmed after hearing them read back (see `ReadBack`)."""
    caller_wants: str | None = None
    """A caller intent flagged on the latest turn: `human` or `goodbye`."""
    after_agent_spoke: bool = False
    """The agent finished a reply while in this state (used to end after the farewell)."""


class KnownValue(BaseModel):
    """A slot's value the call may already know before asking (the caller id for the phone):
    the agent asks the caller to confirm it instead of asking for it. Yes fills the slot;
    no (or another answer) drops it and the slot's own question is asked."""

    source: Literal["caller_id"]
    question: str
    """Asked instead of the slot's question; `{known}` is the value as it is spoken."""


class ReadBack(BaseModel):
    """A critical slot the agent reads back before any tool may rely on it.

    Why in the flow: which values are worth a confirmation turn (a phone a booking is made
    for, yes; an area a search takes, no) is a product decision, not the engine's. The engine
    asks the `say` question (with `{value}` spoken as `spoken_as`) while the slot's current
    value is unconfirmed; a "yes" right after it confirms that value; a new value replaces it
    and is read back again.
    """

    slot: str
    say: str = "I have {value}, is that right?"
    spoken_as: Literal["digit_groups", "words"] = "words"
    when: Literal["always", "low_confidence"] = "always"
    """`low_confidence`: only when the value's own words were recognised with a confidence under
    the flow's `low_word_confidence`, or, without word confidences, the turn that gave it under
    its `low_confidence` (names); else the value counts as confirmed."""


class StateSpec(BaseModel):
    """One state: what the model should achieve and which tools it is offered."""

    goal: str
    collect: dict[str, str] = Field(default_factory=dict)
    """Slots to collect in this state, in order → the question that asks for each."""
    confirm_known: dict[str, KnownValue] = Field(default_factory=dict)
    """Slots of `collect` that the call may know already: confirm instead of asking."""
    tools: list[ToolRule] = Field(default_factory=list)
    next_tool: str | None = None
    """The tool this state exists to call once its slots are known (a hint to the model)."""
    confirm: str | None = None
    """Question to ask, with `{slot}` fields, before calling next_tool (irreversible actions)."""
    confirm_no_asks: str | None = None
    """After a plain "no" to `confirm`: the value to ask for again (the one the caller gave that
    a mishearing most likely got wrong: the card, the time). Unset: `confirm` is asked again."""
    transitions: list[TransitionRule] = Field(default_factory=list)
    terminal: bool = False
    closing: bool = False
    """A goodbye from the caller ends the call here (wrap-up). Elsewhere it ends the call only
    right after the agent asked the flow's `done_question`."""


class FlowSpec(BaseModel):
    """A whole conversation flow."""

    name: str
    title: str
    persona: str
    greeting: str
    initial: str
    states: dict[str, StateSpec]
    global_tools: list[ToolRule] = Field(default_factory=list)
    """Tools allowed in every non-terminal state (e.g. saving details, a case for a person)."""
    global_transitions: list[TransitionRule] = Field(default_factory=list)
    """Transitions checked in every non-terminal state after the state's own."""
    read_back: list[ReadBack] = Field(default_factory=list)
    """Critical slots confirmed with the caller before tools use them, in asking order."""
    low_confidence: float = Field(0.6, ge=0.0, le=1.0)
    """A `when: low_confidence` value is read back when the turn that gave it was recognised with
    a lower confidence (used when the recogniser gives no word confidences)."""
    low_word_confidence: float = Field(0.55, ge=0.0, le=1.0)
    """...or, when it gives them, when the mean probability of the value's own words is lower."""
    done_question: str = "Is there anything else I can help you with?"
    """The question after which a goodbye ends the call in any state."""

    @model_validator(mode="after")
    def _check_references(self) -> "FlowSpec":
        if self.initial not in self.states:
            raise ValueError(f"initial state {self.initial!r} is not declared")
        for name, state in self.states.items():
            for tr in [*state.transitions, *self.global_transitions]:
                if tr.to not in self.states:
                    raise ValueError(f"state {name!r}: transition to undeclared state {tr.to!r}")
            tools = {r.tool for r in [*state.tools, *self.global_tools]}
            for slot in state.confirm_known:
                if slot not in state.collect:
                    raise ValueError(f"state {name!r}: confirm_known {slot!r} is not a slot it collects")
            if state.next_tool and state.next_tool not in tools:
                raise ValueError(f"state {name!r}: next_tool {state.next_tool!r} is not allowed there")
        for rb in self.read_back:
            if "{value}" not in rb.say:
                raise ValueError(f"read_back of {rb.slot!r}: `say` must contain {{value}}")
        return self

    def read_back_for(self, slot: str) -> ReadBack | None:
        return next((rb for rb in self.read_back if rb.slot == slot), None)

    def rules_for(self, state: str) -> dict[str, ToolRule]:
        """The tool rules in force in a state (state rules win over global ones)."""
        spec = self.states[state]
        if spec.terminal:
            return {}
        rules = {r.tool: r for r in self.global_tools}
        rules.update({r.tool: r for r in spec.tools})
        return rules
