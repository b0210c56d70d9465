"""Named invariants a tool call must satisfy before it may run.

Each is a pure function of the conversation state and the proposed arguments that returns
`None` when the invariant holds, or one sentence saying why not (that sentence goes back to the
model and into the trace). Flows refer to them by name, so adding one here makes it available
to every flow without touching the engine.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Callable, Protocol


class StateView(Protocol):
    """What an invariant may read of the conversation state."""

    slots: dict[str, Any]
    turn: int
    confirmed_values: dict[str, Any]

    @property
    def last_caller_affirmation(self) -> bool | None: ...

    @property
    def last_caller_turn(self) -> int: ...

    @property
    def agent_text_before_last_caller_turn(self) -> str: ...

    @property
    def slot_recorded_turn(self) -> dict[str, int]: ...


Invariant = Callable[..., str | None]
REGISTRY: dict[str, Invariant] = {}


def invariant(fn: Invariant) -> Invariant:
    REGISTRY[fn.__name__] = fn
    return fn


def _same(a: Any, b: Any) -> bool:
    """Equality that tolerates the shapes models produce: ISO strings vs datetimes, case."""
    def norm(v: Any) -> Any:
        if isinstance(v, (datetime, date)):
            return v.isoformat()
        if isinstance(v, str):
            s = v.strip()
            try:
                return datetime.fromisoformat(s).isoformat()
            except ValueError:
                return s.upper()
        return v
    return norm(a) == norm(b)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@invariant
def slots_known(state: StateView, args: dict[str, Any], slots: list[str]) -> str | None:
    missing = [s for s in slots if state.slots.get(s) in (None, "", [])]
    return f"still missing: {', '.join(missing)}" if missing else None


@invariant
def slot_true(state: StateView, args: dict[str, Any], slot: str, reason: str = "") -> str | None:
    return None if state.slots.get(slot) is True else (reason or f"{slot} is not established")


@invariant
def slot_confirmed(state: StateView, args: dict[str, Any], slot: str) -> str | None:
    """The caller said yes to this slot's current value read back to them (flow `read_back`)."""
    value = state.slots.get(slot)
    if value in (None, "", []):
        return f"{slot} is not known yet"
    if state.confirmed_values.get(slot) != value:
        return f"the caller has not confirmed the {slot} read back to them"
    return None


@invariant
def arg_equals_slot(state: StateView, args: dict[str, Any], arg: str, slot: str) -> str | None:
    if slot not in state.slots:
        return f"{slot} is not known yet, so {arg} cannot be checked"
    if not _same(args.get(arg), state.slots[slot]):
        return f"{arg}={args.get(arg)!r} does not match the {slot} on record ({state.slots[slot]!r})"
    return None


@invariant
def arg_in_slot(state: StateView, args: dict[str, Any], arg: str, slot: str) -> str | None:
    options = state.slots.get(slot) or []
    if not any(_same(args.get(arg), o) for o in options):
        return f"{arg}={args.get(arg)!r} is not one of the {slot} offered ({len(options)} known)"
    return None


@invariant
def caller_confirmed_previous_turn(state: StateView, args: dict[str, Any], mention_slot: str) -> str | None:
    """The caller said yes in their latest turn, right after the agent stated the value.

    Guards irreversible actions (a charge): a "yes" from earlier in the call, or a "yes" to a
    question that did not state the amount, does not count.
    """
    value = state.slots.get(mention_slot)
    if value is None:
        return f"{mention_slot} has not been stated to the caller"
    recorded = state.slot_recorded_turn.get(mention_slot, 10**9)
    if state.last_caller_turn <= recorded:
        return "the caller has not answered since the amount was quoted"
    if state.last_caller_affirmation is not True:
        return "the caller did not explicitly confirm in their latest turn"
    said = _digits(state.agent_text_before_last_caller_turn)
    wanted = _digits(str(value)).rstrip("0") or "0"
    if wanted not in said:
        return f"the agent did not state {value} in the question the caller answered"
    return None


def check(name: str, state: StateView, args: dict[str, Any], params: dict[str, Any]) -> str | None:
    """Evaluate one named invariant; an unknown name is itself a broken invariant."""
    fn = REGISTRY.get(name)
    if fn is None:
        return f"unknown invariant {name!r}"
    return fn(state, args, **params)
