"""Tools as sequences of named, individually idempotent steps.

A tool with several effects (reserve money, then take it, then send a receipt) cannot be
made exactly-once by one idempotency key around the whole call: if the process dies after
the capture but before the receipt, re-running the call must skip the capture, not repeat
it. So such a tool declares a :class:`StepPlan` on its spec (``ToolSpec.steps``; the plans
themselves are in :mod:`tools.step_plans`):

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

A tool that has a single effect (or none) declares no plan: :func:`single_step` wraps its
action as one step ``run`` (``ToolSpec.plan``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from tools.sandbox import Sandbox

if TYPE_CHECKING:  # the spec holds a plan; a plan is built from a spec only here, at run time
    from tools.spec import ToolSpec

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

    prepare: Callable[[Sandbox, BaseModel], Awaitable[dict[str, Any]]]
    steps: tuple[Step, ...]
    finish: Callable[[dict[str, Any], Outputs], dict[str, Any]]

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if not names:
            raise ValueError("a step plan needs at least one step")
        if len(set(names)) != len(names):
            raise ValueError(f"a step plan has duplicate step names: {names}")
        if any(not name or ":" in name for name in names):
            raise ValueError(f"step names must be non-empty and contain no ':' (they end step keys): {names}")

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(step.name for step in self.steps)

    def step(self, name: str) -> Step:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(f"no step {name!r}; steps: {list(self.step_names)}")


def step_key(tool_key: str, step: str) -> str:
    """The idempotency key of one step of one tool call."""
    return f"{tool_key}:{step}"


def expect_args(args: BaseModel, model: type[BaseModel]) -> None:
    """``prepare`` was handed another tool's arguments: a bug, not bad input."""
    if not isinstance(args, model):
        raise TypeError(f"expected {model.__name__}, got {type(args).__name__}")


def single_step(spec: ToolSpec) -> StepPlan:
    """The plan of a tool without declared steps: one step ``run`` calling the action.

    The prepared arguments are the validated arguments as JSON (the spec refuses secret
    fields without a plan, so nothing secret is journaled); the step output is the result.
    """
    takes_key = "idempotency_key" in inspect.signature(spec.func).parameters

    async def prepare(sb: Sandbox, args: BaseModel) -> dict[str, Any]:
        expect_args(args, spec.args_model)
        return args.model_dump(mode="json")

    async def run(sb: Sandbox, ctx: StepContext) -> dict[str, Any]:
        args = spec.validate(ctx.args)
        if takes_key:
            result = await spec.func(sb, args, idempotency_key=ctx.key)
        else:
            result = await spec.func(sb, args)
        if not isinstance(result, spec.result_model):
            raise TypeError(f"{spec.name} returned {type(result).__name__}, expected {spec.result_model.__name__}")
        return result.model_dump(mode="json")

    def finish(args: dict[str, Any], outputs: Outputs) -> dict[str, Any]:
        return dict(outputs["run"])

    return StepPlan(prepare=prepare, steps=(Step("run", run),), finish=finish)


async def run_plan(
    sb: Sandbox,
    plan: StepPlan,
    args: BaseModel,
    tool_key: str,
    *,
    completed: Mapping[str, dict[str, Any]] | None = None,
    prepared: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], Outputs, dict[str, Any]]:
    """Run a plan in order: ``(prepared args, step outputs, result)``.

    Steps named in ``completed`` are skipped and their outputs reused (resume); pass
    ``prepared`` to skip ``prepare`` too (a resumed call uses the journaled prepared args).
    No retries and no journal: the first failure propagates. Reference semantics for the
    executor and a helper for tests.
    """
    if prepared is None:
        prepared = await plan.prepare(sb, args)
    outputs: Outputs = dict(completed or {})
    for step in plan.steps:
        if step.name in outputs:
            continue
        ctx = StepContext(args=prepared, outputs=dict(outputs), key=step_key(tool_key, step.name))
        outputs[step.name] = await step.run(sb, ctx)
    return prepared, outputs, plan.finish(prepared, outputs)
