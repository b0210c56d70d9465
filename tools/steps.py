"""Tools as sequences of named, individually idempotent steps.

A tool with several effects (reserve money, then take it, then send a receipt) cannot be
made exactly-once by one idempotency key around the whole call: if the process dies after
the capture but before the receipt, re-running the call must skip the capture, not repeat
it. So such a tool is declared here as a :class:`StepPlan`:

- ``prepare`` turns the validated arguments into JSON-able *prepared arguments* with
  secrets replaced by tokens (``charge_card``: the card number becomes ``card_token`` and
  ``card_last4``). This is what may be journaled; the card number never is. It also does
  the read-only checks that must pass before any effect (the amount equals the quote, the
  listing exists), so a bad call fails before step one.
- ``steps`` run in order. Each gets a :class:`StepContext` with the prepared arguments, the
  outputs of the steps completed before it and its own idempotency key, and returns a
  JSON-able output dict. Each passes its key to its backend, so running a step again with
  the same key returns the first run's row instead of a second effect.
- ``finish`` is pure: prepared arguments + all outputs → the tool's result dict (valid for
  the tool's ``result_model``).

The executor (``tools/executor.py``, not here) owns retries, the journal and resume: it
derives each step's key as :func:`step_key` ``(tool_key, step.name)``, records every step's
output, and after a crash re-runs from the first step without a recorded output.
:func:`run_plan` is a plain sequential runner (no journal, no retries) for tests and
as the reference semantics.

Tools that have a single effect (or none) are wrapped by :func:`plan_for` as one step
``run`` calling the existing action.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tools.actions import spoken_day, spoken_time, street_address
from tools.errors import Conflict
from tools.models import BookTourArgs, BookTourResult, ChargeCardArgs, ChargeCardResult, format_cents
from tools.registry import TOOLS, ToolSpec
from tools.sandbox import Sandbox

Outputs = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class StepContext:
    """What one step sees."""

    args: dict[str, Any]
    """The tool's prepared arguments (secrets already replaced by tokens)."""
    outputs: Outputs
    """Outputs of the completed earlier steps, by step name."""
    key: str
    """Idempotency key for this step (the executor derives it: ``f"{tool_key}:{step}"``)."""


@dataclass(frozen=True)
class Step:
    """One named step; ``run`` must be idempotent on ``ctx.key`` and return a JSON-able dict."""

    name: str
    run: Callable[[Sandbox, StepContext], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class StepPlan:
    """A tool declared as prepare → steps → finish (see the module docstring)."""

    tool: str
    prepare: Callable[[Sandbox, BaseModel], Awaitable[dict[str, Any]]]
    steps: tuple[Step, ...]
    finish: Callable[[dict[str, Any], Outputs], dict[str, Any]]

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if not names:
            raise ValueError(f"plan {self.tool!r} has no steps")
        if len(set(names)) != len(names):
            raise ValueError(f"plan {self.tool!r} has duplicate step names: {names}")
        if any(not name or ":" in name for name in names):
            raise ValueError(f"plan {self.tool!r}: step names must be non-empty and contain no ':'")

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps)

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"plan {self.tool!r} has no step {name!r}; steps: {list(self.step_names)}")


def step_key(tool_key: str, step: str) -> str:
    """The idempotency key of one step of one tool call."""
    return f"{tool_key}:{step}"


def _expect(args: BaseModel, model: type[BaseModel]) -> None:
    if not isinstance(args, model):
        raise TypeError(f"expected {model.__name__}, got {type(args).__name__}")


# --- charge_card: authorize → capture → receipt -----------------------------------------


async def _prepare_charge(sb: Sandbox, args: BaseModel) -> dict[str, Any]:
    """Check the amount against the renewal quote, then vault the card.

    Same rules as :func:`tools.actions.charge_card`: ``NotFound`` for an unknown policy,
    ``Conflict`` if the policy cannot be renewed or the amount is not the premium,
    ``PermanentToolError(invalid_card)`` for a bad number. The returned arguments carry
    the token and last four digits, never the number.
    """
    _expect(args, ChargeCardArgs)
    assert isinstance(args, ChargeCardArgs)
    quote = await asyncio.to_thread(sb.policies.renewal_quote, args.policy_number)
    if args.amount_cents != quote.amount_cents:
        raise Conflict(
            f"The amount {format_cents(args.amount_cents)} doesn't match the renewal premium of "
            f"{format_cents(quote.amount_cents)} for {args.policy_number}."
        )
    token, last4 = await asyncio.to_thread(sb.payments.tokenize, args.card_number.get_secret_value())
    return {
        "policy_number": args.policy_number,
        "amount_cents": args.amount_cents,
        "card_token": token,
        "card_last4": last4,
    }


async def _authorize(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    a = ctx.args
    authorization_id = await asyncio.to_thread(
        sb.payments.authorize, a["policy_number"], a["amount_cents"], a["card_token"], ctx.key
    )
    return {"authorization_id": authorization_id}


async def _capture(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    charge_id = await asyncio.to_thread(sb.payments.capture, ctx.outputs["authorize"]["authorization_id"], ctx.key)
    return {"charge_id": charge_id, "status": "succeeded"}


async def _receipt(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    receipt_id = await asyncio.to_thread(sb.payments.send_receipt, ctx.outputs["capture"]["charge_id"], ctx.key)
    return {"receipt_id": receipt_id}


def _finish_charge(args: dict[str, Any], outputs: Outputs) -> dict[str, Any]:
    capture = outputs["capture"]
    return ChargeCardResult(
        charge_id=capture["charge_id"],
        policy_number=args["policy_number"],
        amount_cents=args["amount_cents"],
        amount_text=format_cents(args["amount_cents"]),
        card_last4=args["card_last4"],
        card_token=args["card_token"],
        status=capture["status"],
    ).model_dump(mode="json")


# --- book_tour: hold_slot → confirm_event → send_confirmation ---------------------------


async def _prepare_booking(sb: Sandbox, args: BaseModel) -> dict[str, Any]:
    """Look the listing up (``NotFound`` before any effect) and keep its address for the
    confirmation sentence."""
    _expect(args, BookTourArgs)
    assert isinstance(args, BookTourArgs)
    listing = await asyncio.to_thread(sb.listings.get, args.listing_id)
    return {
        "listing_id": listing.listing_id,
        "slot_start": args.slot_start.isoformat(timespec="seconds"),
        "name": args.name,
        "phone": args.phone,
        "address": listing.address,
        "area": listing.area,
    }


async def _hold_slot(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    a = ctx.args
    hold_id = await asyncio.to_thread(
        sb.calendar.hold, a["listing_id"], datetime.fromisoformat(a["slot_start"]), a["phone"], ctx.key
    )
    return {"hold_id": hold_id}


async def _confirm_event(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    a = ctx.args
    booking_id = await asyncio.to_thread(
        sb.calendar.confirm, ctx.outputs["hold_slot"]["hold_id"], a["name"], a["phone"], ctx.key
    )
    return {"booking_id": booking_id}


async def _send_confirmation(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
    message_id = await asyncio.to_thread(
        sb.calendar.send_confirmation, ctx.outputs["confirm_event"]["booking_id"], ctx.key
    )
    return {"message_id": message_id}


def _finish_booking(args: dict[str, Any], outputs: Outputs) -> dict[str, Any]:
    start = datetime.fromisoformat(args["slot_start"])
    booking_id = outputs["confirm_event"]["booking_id"]
    confirmation = (
        f"You're booked to tour {street_address(args['address'])} in {args['area']} on "
        f"{spoken_day(start)} at {spoken_time(start)}. Your confirmation number is {booking_id}."
    )
    return BookTourResult(
        booking_id=booking_id,
        listing_id=args["listing_id"],
        address=args["address"],
        slot_start=start,
        confirmation=confirmation,
    ).model_dump(mode="json")


PLANS: dict[str, StepPlan] = {
    plan.tool: plan
    for plan in (
        StepPlan(
            tool="charge_card",
            prepare=_prepare_charge,
            steps=(Step("authorize", _authorize), Step("capture", _capture), Step("receipt", _receipt)),
            finish=_finish_charge,
        ),
        StepPlan(
            tool="book_tour",
            prepare=_prepare_booking,
            steps=(
                Step("hold_slot", _hold_slot),
                Step("confirm_event", _confirm_event),
                Step("send_confirmation", _send_confirmation),
            ),
            finish=_finish_booking,
        ),
    )
}


# --- single-step wrapping of the other tools --------------------------------------------


def _wrap(spec: ToolSpec) -> StepPlan:
    """One step ``run`` calling the action; its output is the result dict."""
    if spec.secret_fields:
        # The generic prepare would journal "**********" (or worse, the secret): a tool
        # with secrets needs a real plan that tokenizes them.
        raise ValueError(f"tool {spec.name!r} has secret fields {sorted(spec.secret_fields)} but no step plan")
    takes_key = "idempotency_key" in inspect.signature(spec.func).parameters

    async def prepare(sb: Sandbox, args: BaseModel) -> dict[str, Any]:
        _expect(args, spec.args_model)
        return args.model_dump(mode="json")

    async def run(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
        args = spec.args_model.model_validate(ctx.args)
        if takes_key:
            result = await spec.func(sb, args, idempotency_key=ctx.key)
        else:
            result = await spec.func(sb, args)
        if not isinstance(result, spec.result_model):
            raise TypeError(f"{spec.name} returned {type(result).__name__}, expected {spec.result_model.__name__}")
        return result.model_dump(mode="json")

    def finish(args: dict[str, Any], outputs: Outputs) -> dict[str, Any]:
        return dict(outputs["run"])

    return StepPlan(tool=spec.name, prepare=prepare, steps=(Step("run", run),), finish=finish)


_WRAPPED: dict[str, StepPlan] = {}


def plan_for(tool: str) -> StepPlan:
    """The step plan of any tool in :data:`tools.registry.TOOLS` (``KeyError`` otherwise)."""
    if tool in PLANS:
        return PLANS[tool]
    if tool not in TOOLS:
        raise KeyError(f"unknown tool {tool!r}")
    if tool not in _WRAPPED:
        _WRAPPED[tool] = _wrap(TOOLS[tool])
    return _WRAPPED[tool]


async def run_plan(
    sb: Sandbox,
    tool: str,
    args: BaseModel,
    tool_key: str,
    *,
    completed: Mapping[str, dict[str, Any]] | None = None,
    prepared: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], Outputs, dict[str, Any]]:
    """Run a tool's plan in order: ``(prepared args, step outputs, result)``.

    Steps named in ``completed`` are skipped and their outputs reused (resume); pass
    ``prepared`` to skip ``prepare`` too (a resumed call uses the journaled prepared args).
    No retries and no journal: the first failure propagates. Reference semantics for the
    executor and a helper for tests.
    """
    plan = plan_for(tool)
    if prepared is None:
        prepared = await plan.prepare(sb, args)
    outputs: Outputs = dict(completed or {})
    for step in plan.steps:
        if step.name in outputs:
            continue
        ctx = StepContext(args=prepared, outputs=dict(outputs), key=step_key(tool_key, step.name))
        outputs[step.name] = await step.run(sb, ctx)
    return prepared, outputs, plan.finish(prepared, outputs)
