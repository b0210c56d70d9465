"""What the runtime knows about one tool, and the one place its arguments are validated.

Every fact about a tool sits on its :class:`ToolSpec`, declared once in
:data:`tools.registry.TOOLS`: the arguments and result models, the description the LLM
reads, which arguments are secret, whether it changes the outside world, which fields make
two calls "the same real-world action" (the idempotency key), how hard to retry it, and its
step plan. The worker's tool gate, :func:`tools.registry.run_tool` and the executor all read
the spec; none keeps a table of its own about a tool.

Arguments are validated in one place, :meth:`ToolSpec.validate`: whatever the model handed
over (a dict, JSON text, nothing, or the args model itself), the caller gets the args model
or one typed error, :class:`InvalidArguments`, whose ``reason`` is safe to speak, log and
trace (it never echoes an input value: the input may be a card number).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from tools.journal.records import canonical_json
from tools.models import ToolArgs, ToolResult
from tools.redact import mask_card_numbers
from tools.steps import StepPlan, single_step

ToolFunc = Callable[..., Awaitable[ToolResult]]


class RetryPolicy(BaseModel):
    """How hard to try a step: attempts, backoff (base doubling up to cap, ± jitter), timeout."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = 3
    base_delay: float = 0.2
    max_delay: float = 2.0
    jitter: float = 0.3
    timeout: float = 5.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        raw = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return max(0.0, raw * (1 + rng.uniform(-self.jitter, self.jitter)))


class InvalidArguments(ValueError):
    """The arguments do not fit the tool; ``reason`` says why without echoing any value."""

    def __init__(self, tool: str, reason: str) -> None:
        self.tool = tool
        self.reason = reason
        super().__init__(f"Invalid arguments for {tool}: {reason}")


@dataclass(frozen=True)
class ToolSpec:
    """Everything the runtime needs to know about one tool.

    ``secret_fields`` names arguments that must never be logged, traced or journaled in
    clear (a tool with any needs ``steps`` whose ``prepare`` replaces them by tokens).
    ``effect`` marks tools that change the outside world: those get an idempotency key
    made of their ``key_fields`` (names of *prepared* arguments, see :mod:`tools.steps`);
    read-only tools have none and can simply be repeated. ``retry`` is the policy of each
    of its steps. ``steps`` is the plan of a tool with several effects; ``None`` means one
    step ``run`` calling ``func`` (see :attr:`plan`).
    """

    name: str
    description: str
    args_model: type[ToolArgs]
    result_model: type[ToolResult]
    func: ToolFunc
    secret_fields: frozenset[str] = field(default_factory=frozenset)
    effect: bool = False
    key_fields: tuple[str, ...] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    steps: StepPlan | None = None

    def __post_init__(self) -> None:
        if self.effect and not self.key_fields:
            raise ValueError(f"tool {self.name!r} has an effect but no key_fields for its idempotency key")
        if not self.effect and self.key_fields:
            raise ValueError(f"tool {self.name!r} has key_fields but no effect: read-only calls get no key")
        if len(set(self.key_fields)) != len(self.key_fields):
            raise ValueError(f"tool {self.name!r} repeats key fields: {list(self.key_fields)}")
        if self.secret_fields and self.steps is None:
            # The one-step wrapping would journal "**********" (or worse, the secret): a tool
            # with secrets needs a plan whose prepare tokenizes them.
            raise ValueError(f"tool {self.name!r} has secret fields {sorted(self.secret_fields)} but no step plan")

    def json_schema(self) -> dict[str, Any]:
        """JSON schema of the arguments, as given to an LLM / livekit raw function tool."""
        return self.args_model.model_json_schema()

    def validate(self, raw: Mapping[str, Any] | str | BaseModel | None) -> ToolArgs:
        """The tool's args model from what the model produced; :class:`InvalidArguments` otherwise.

        ``raw`` may be a dict, JSON text, ``None`` (no arguments) or an instance of the args
        model, returned as is: dumping it and validating again would turn ``SecretStr``
        card numbers into ``"**********"``.
        """
        if isinstance(raw, self.args_model):
            return raw
        data = _as_mapping(self.name, raw)
        try:
            return self.args_model.model_validate(data)
        except ValidationError as exc:
            raise InvalidArguments(self.name, format_validation_error(exc)) from None
        except (ArithmeticError, TypeError, ValueError) as exc:
            # A validator raised something pydantic does not wrap (OverflowError from
            # round(inf)): still bad arguments; never echo the input.
            raise InvalidArguments(self.name, f"arguments could not be read ({type(exc).__name__})") from None

    @cached_property
    def plan(self) -> StepPlan:
        """The step plan the executor runs: ``steps``, or one step ``run`` calling ``func``."""
        return self.steps if self.steps is not None else single_step(self)

    def idempotency_key(self, prepared: Mapping[str, Any]) -> str | None:
        """The business key of an effect: a hash of the tool and its key fields (None: no effect).

        ``f"{tool}:" + sha256(canonical({"tool": tool, field: value, ...}))[:32]``, values
        read from the prepared arguments (a missing one counts as null). Journals and
        idempotency records hold these keys, so this formula cannot change without breaking
        the resume of calls journaled before.
        """
        if not self.effect:
            return None
        material = canonical_json({"tool": self.name, **{f: prepared.get(f) for f in self.key_fields}})
        return f"{self.name}:" + hashlib.sha256(material).hexdigest()[:32]


def format_validation_error(exc: ValidationError) -> str:
    """A readable one-liner from a pydantic error, without ever echoing input values
    (the input may be a card number)."""
    messages: list[str] = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        names = [str(part) for part in error["loc"] if isinstance(part, str) and not any(c in part for c in "[(")]
        field_name = ".".join(names)
        kind = error["type"]
        text = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if kind == "missing":
            message = f"{field_name} is required"
        elif kind == "extra_forbidden":
            message = f"{field_name} is not a known argument"
        elif field_name:
            message = f"{field_name}: {text}"
        else:
            message = text
        if message not in messages:
            messages.append(message)
    return mask_card_numbers("; ".join(messages))


def _as_mapping(tool: str, raw: Any) -> dict[str, Any]:
    """LLMs hand over arguments as a dict, a JSON string, or nothing at all."""
    if isinstance(raw, BaseModel):
        raise InvalidArguments(tool, f"arguments are a {type(raw).__name__}, not this tool's arguments")
    if raw is None:
        return {}
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return {}
        try:
            raw = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise InvalidArguments(tool, "arguments are not valid JSON") from None
    if not isinstance(raw, Mapping):
        raise InvalidArguments(tool, "arguments must be a JSON object")
    return dict(raw)
