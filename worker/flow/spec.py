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
    transitions: list[TransitionRule] = Field(default_factory=list)
    terminal: bool = False


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
        return self

    def rules_for(self, state: str) -> dict[str, ToolRule]:
        """The tool rules in force in a state (state rules win over global ones)."""
        spec = self.states[state]
        if spec.terminal:
            return {}
        rules = {r.tool: r for r in self.global_tools}
        rules.update({r.tool: r for r in spec.tools})
        return rules
