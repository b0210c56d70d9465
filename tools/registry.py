"""The tool catalogue and the one safe way to run a tool.

:data:`TOOLS` is what the worker turns into livekit-agents function tools (using
:meth:`ToolSpec.json_schema` as the raw schema) and what the state machine refers to by
name. :func:`run_tool` is the single entry point from the conversation side: it validates
raw planner/LLM arguments, runs the action and always returns a :class:`ToolOutcome` —
a tool failure is something the conversation has to talk its way around, so it is data,
never an exception that could tear down the call.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from loguru import logger
from pydantic import BaseModel, ConfigDict, ValidationError

from tools import actions
from tools.errors import ToolFailure
from tools.models import (
    BookTourArgs,
    BookTourResult,
    ChargeCardArgs,
    ChargeCardResult,
    CheckAvailabilityArgs,
    CheckAvailabilityResult,
    CreateCaseArgs,
    CreateCaseResult,
    FindListingsArgs,
    FindListingsResult,
    GetRenewalQuoteArgs,
    GetRenewalQuoteResult,
    SaveCallerDetailsArgs,
    SaveCallerDetailsResult,
    ToolArgs,
    ToolResult,
    UpdateOpportunityArgs,
    UpdateOpportunityResult,
    VerifyIdentityArgs,
    VerifyIdentityResult,
)
from tools.redact import mask_card_numbers, redact_args
from tools.sandbox import Sandbox

ToolFunc = Callable[..., Awaitable[ToolResult]]


@dataclass(frozen=True)
class ToolSpec:
    """Everything the runtime needs to know about one tool.

    ``secret_fields`` names arguments that must never be logged or traced in clear;
    ``effect`` marks tools that change the outside world (those get idempotency keys and,
    later, journal entries; read-only tools can simply be retried).
    """

    name: str
    description: str
    args_model: type[ToolArgs]
    result_model: type[ToolResult]
    func: ToolFunc
    secret_fields: frozenset[str] = field(default_factory=frozenset)
    effect: bool = False

    def json_schema(self) -> dict[str, Any]:
        """JSON schema of the arguments, as given to an LLM / livekit raw function tool."""
        return self.args_model.model_json_schema()


class ToolOutcome(BaseModel):
    """Result of one tool run, success or failure, safe to log and trace as is."""

    model_config = ConfigDict(extra="forbid")

    name: str
    ok: bool
    result: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    transient: bool = False
    duration_ms: float = 0.0
    attempts: int = 1
    replayed: bool = False
    """Served from a stored result (a duplicate), with no new side effect."""


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            name="save_caller_details",
            description=(
                "Record details the caller just gave (name, phone, email, budget in dollars, area, bedrooms). "
                "Pass only what the caller actually said; returns the normalized values to read back."
            ),
            args_model=SaveCallerDetailsArgs,
            result_model=SaveCallerDetailsResult,
            func=actions.save_caller_details,
        ),
        ToolSpec(
            name="find_listings",
            description=(
                "Search homes for sale in an area up to a maximum price (whole dollars), optionally with a minimum "
                "number of bedrooms. Returns at most 3 listings, cheapest first; an empty list means no match."
            ),
            args_model=FindListingsArgs,
            result_model=FindListingsResult,
            func=actions.find_listings,
        ),
        ToolSpec(
            name="check_availability",
            description=(
                "List free tour start times for one listing on one date (YYYY-MM-DD). Tours start on the hour. "
                "Use before booking; offer the caller only times returned here."
            ),
            args_model=CheckAvailabilityArgs,
            result_model=CheckAvailabilityResult,
            func=actions.check_availability,
        ),
        ToolSpec(
            name="book_tour",
            description=(
                "Book a tour of a listing at a free start time from check_availability, for the caller's name and "
                "phone. Fails with 'conflict' if the slot was taken meanwhile. Returns a confirmation to read out."
            ),
            args_model=BookTourArgs,
            result_model=BookTourResult,
            func=actions.book_tour,
            effect=True,
        ),
        ToolSpec(
            name="update_opportunity",
            description=(
                "Create or update the caller's sales opportunity in the CRM (identified by phone): set the stage "
                "(new, qualified, tour_booked, lost), optionally the listing of interest and a short note."
            ),
            args_model=UpdateOpportunityArgs,
            result_model=UpdateOpportunityResult,
            func=actions.update_opportunity,
            effect=True,
        ),
        ToolSpec(
            name="verify_identity",
            description=(
                "Verify the caller owns an insurance policy by policy number and date of birth. Must succeed "
                "before quoting or taking payment. Returns verified=false on mismatch (do not reveal which part)."
            ),
            args_model=VerifyIdentityArgs,
            result_model=VerifyIdentityResult,
            func=actions.verify_identity,
        ),
        ToolSpec(
            name="get_renewal_quote",
            description=(
                "Get the renewal premium for a verified policy. Read amount_text to the caller exactly; "
                "use amount_cents when charging."
            ),
            args_model=GetRenewalQuoteArgs,
            result_model=GetRenewalQuoteResult,
            func=actions.get_renewal_quote,
        ),
        ToolSpec(
            name="charge_card",
            description=(
                "Charge the caller's card for the policy renewal. amount_cents must equal the quote's amount_cents. "
                "Only call after the caller agreed to the amount. Never repeat the card number back; refer to it "
                "by its last four digits."
            ),
            args_model=ChargeCardArgs,
            result_model=ChargeCardResult,
            func=actions.charge_card,
            secret_fields=frozenset({"card_number"}),
            effect=True,
        ),
        ToolSpec(
            name="create_case",
            description=(
                "Open a case so a person follows up with the caller: when they ask for a human (caller_request), "
                "when a tool keeps failing (tool_failure), or otherwise (other). Include a useful summary."
            ),
            args_model=CreateCaseArgs,
            result_model=CreateCaseResult,
            func=actions.create_case,
            effect=True,
        ),
    )
}


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


def _coerce_args(raw_args: Any) -> dict[str, Any]:
    """LLMs hand over arguments as a dict, a JSON string, or nothing at all."""
    if isinstance(raw_args, BaseModel):
        raise ValueError(f"arguments are a {type(raw_args).__name__}, not this tool's arguments")
    if raw_args is None:
        return {}
    if isinstance(raw_args, str):
        text = raw_args.strip()
        if not text:
            return {}
        try:
            raw_args = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError("arguments are not valid JSON") from None
    if not isinstance(raw_args, Mapping):
        raise ValueError("arguments must be a JSON object")
    return dict(raw_args)


async def run_tool(
    sb: Sandbox,
    name: str,
    raw_args: Mapping[str, Any] | str | ToolArgs | None,
    *,
    idempotency_key: str | None = None,
) -> ToolOutcome:
    """Validate and run one tool; never raises (except on task cancellation).

    ``raw_args`` is what the planner/LLM produced (dict or JSON text), or an instance of
    the tool's own args model when the caller has validated already.

    Failure codes: ``unknown_tool``, ``invalid_arguments``, any ``ToolFailure.code``
    (``not_found``, ``conflict``, ``invalid_card``, ``timeout``, ...) and
    ``internal_error`` for bugs. ``asyncio.CancelledError`` is deliberately not caught:
    cancelling a tool (caller hung up, barge-in) is control flow, not a tool failure.
    ``idempotency_key`` is forwarded to tools with an effect and ignored otherwise.
    """
    started = time.perf_counter()

    def elapsed() -> float:
        return round((time.perf_counter() - started) * 1000, 3)

    spec = TOOLS.get(name)
    log = logger.bind(tool=name)
    if spec is None:
        log.warning("unknown tool {!r}", name)
        return ToolOutcome(
            name=name, ok=False, error_code="unknown_tool", error_message=f"There is no tool called {name!r}.",
            duration_ms=elapsed(),
        )

    try:
        if isinstance(raw_args, spec.args_model):
            # Already validated by the caller (e.g. the worker's tool gate): re-dumping to
            # JSON and back would replace SecretStr card numbers with "**********".
            args = raw_args
            args_dict = raw_args.model_dump()
        else:
            args_dict = _coerce_args(raw_args)
            args = spec.args_model.model_validate(args_dict)
    except (ValidationError, ValueError) as exc:
        detail = format_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
        message = f"Invalid arguments for {name}: {detail}"
        safe_args = redact_args(spec, raw_args) if isinstance(raw_args, Mapping) else "<unparsed>"
        log.warning("{} args={}", message, safe_args)
        return ToolOutcome(
            name=name, ok=False, error_code="invalid_arguments", error_message=message, duration_ms=elapsed()
        )

    safe_args = redact_args(spec, args_dict)
    try:
        if spec.effect:
            result = await spec.func(sb, args, idempotency_key=idempotency_key)
        else:
            result = await spec.func(sb, args)
        if not isinstance(result, spec.result_model):
            raise TypeError(f"{name} returned {type(result).__name__}, expected {spec.result_model.__name__}")
        payload = result.model_dump(mode="json")
    except ToolFailure as exc:
        log.warning(
            "tool {} failed: {} ({}, transient={}) args={}", name, exc.message, exc.code, exc.transient, safe_args
        )
        return ToolOutcome(
            name=name,
            ok=False,
            error_code=exc.code,
            error_message=exc.message,
            transient=exc.transient,
            duration_ms=elapsed(),
        )
    except Exception as exc:  # noqa: BLE001 - a bug in one tool must not end the call
        trace = mask_card_numbers("".join(traceback.format_exception(exc)))
        log.error("tool {} crashed: {} args={}\n{}", name, type(exc).__name__, safe_args, trace)
        return ToolOutcome(
            name=name,
            ok=False,
            error_code="internal_error",
            error_message=mask_card_numbers(f"{name} failed unexpectedly ({type(exc).__name__}: {exc})"),
            duration_ms=elapsed(),
        )
    outcome = ToolOutcome(name=name, ok=True, result=payload, duration_ms=elapsed())
    log.info("tool {} ok in {} ms args={}", name, outcome.duration_ms, safe_args)
    return outcome
