"""The tool catalogue: every tool declared once, and the one safe way to run a tool.

:data:`TOOLS` holds one :class:`~tools.spec.ToolSpec` per tool with every fact about it
(arguments, result, description, secret fields, effect, idempotency key fields, retry
policy, step plan). The worker turns it into livekit-agents function tools (using
:meth:`ToolSpec.json_schema` as the raw schema), the state machine refers to tools by name
and the executor runs them from it. :func:`run_tool` runs one tool with no journal: it
validates raw planner/LLM arguments, runs the action and always returns a
:class:`ToolOutcome` — a tool failure is something the conversation has to talk its way
around, so it is data, never an exception that could tear down the call.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping
from typing import Any

from loguru import logger
from pydantic import BaseModel, ConfigDict

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
    UpdateOpportunityArgs,
    UpdateOpportunityResult,
    VerifyIdentityArgs,
    VerifyIdentityResult,
)
from tools.redact import mask_card_numbers, redact_args
from tools.sandbox import Sandbox
from tools.spec import InvalidArguments, RetryPolicy, ToolSpec
from tools.step_plans import BOOK_TOUR_STEPS, CHARGE_CARD_STEPS


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


#: The three-step effects (charge_card, book_tour): one more attempt, a later first retry
#: and a longer deadline per step than the default ``RetryPolicy()``.
_MULTI_STEP_RETRY = RetryPolicy(attempts=4, base_delay=0.25, max_delay=2.0, timeout=6.0)

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
            key_fields=("listing_id", "slot_start", "phone"),
            retry=_MULTI_STEP_RETRY,
            steps=BOOK_TOUR_STEPS,
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
            key_fields=("phone", "stage", "listing_id"),
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
            key_fields=("policy_number", "amount_cents", "card_token"),
            retry=_MULTI_STEP_RETRY,
            steps=CHARGE_CARD_STEPS,
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
            key_fields=("reason", "summary"),
        ),
    )
}


async def run_tool(
    sb: Sandbox,
    name: str,
    raw_args: Mapping[str, Any] | str | ToolArgs | None,
    *,
    idempotency_key: str | None = None,
) -> ToolOutcome:
    """Validate and run one tool; never raises (except on task cancellation).

    ``raw_args`` is what the planner/LLM produced (dict or JSON text), or an instance of
    the tool's own args model when the caller has validated already (see
    :meth:`ToolSpec.validate`).

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
        args = spec.validate(raw_args)
    except InvalidArguments as exc:
        safe_raw = redact_args(spec, raw_args) if isinstance(raw_args, Mapping) else "<unparsed>"
        log.warning("{} args={}", exc, safe_raw)
        return ToolOutcome(
            name=name, ok=False, error_code="invalid_arguments", error_message=str(exc), duration_ms=elapsed()
        )

    safe_args = redact_args(spec, args.model_dump())
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
