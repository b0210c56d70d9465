"""Shared helpers of the step-plan tests (imported as ``tests.steps.helpers``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from tools.registry import TOOLS
from tools.sandbox import Sandbox
from tools.steps import Outputs, StepContext, step_key

CARD = "4242424242424242"
CHARGE = {"policy_number": "POL-4821", "amount_cents": 128_400, "card_number": CARD}


def booking(tomorrow: date, hour: int = 12, phone: str = "5105550142") -> dict[str, str]:
    slot = f"{tomorrow}T{hour:02d}:00:00"
    return {"listing_id": "L-101", "slot_start": slot, "name": "Maria Gonzalez", "phone": phone}


def sample_args(tomorrow: date) -> dict[str, dict[str, Any]]:
    """Valid raw arguments for every tool in the registry."""
    return {
        "save_caller_details": {"name": "Maria Gonzalez", "phone": "510-555-0142", "budget": "900k"},
        "find_listings": {"area": "Oakland", "max_price": 900_000},
        "check_availability": {"listing_id": "L-101", "date": tomorrow.isoformat()},
        "book_tour": booking(tomorrow),
        "update_opportunity": {"phone": "5105550142", "name": "Maria Gonzalez", "stage": "qualified", "note": "2br"},
        "verify_identity": {"policy_number": "POL-4821", "date_of_birth": "1984-03-12"},
        "get_renewal_quote": {"policy_number": "POL-4821"},
        "charge_card": dict(CHARGE),
        "create_case": {"reason": "caller_request", "summary": "Wants a call back about the renewal"},
    }


def validated(tool: str, raw: dict[str, Any]) -> Any:
    return TOOLS[tool].validate(raw)


async def run_step(
    sb: Sandbox, tool: str, name: str, prepared: dict[str, Any], outputs: Outputs, tool_key: str
) -> dict[str, Any]:
    """Run one step the way the executor would (its key derived from the tool key)."""
    step = TOOLS[tool].plan.step(name)
    return await step.run(sb, StepContext(args=prepared, outputs=dict(outputs), key=step_key(tool_key, name)))


#: For each step of the multi-step plans: the sandbox op it calls and how to count its effect.
STEP_EFFECTS: dict[tuple[str, str], tuple[str, str, Callable[[Sandbox], int]]] = {
    ("charge_card", "authorize"): ("payments", "authorize", lambda sb: sb.payments.count_authorizations()),
    ("charge_card", "capture"): ("payments", "capture", lambda sb: sb.payments.count_charges()),
    ("charge_card", "receipt"): ("payments", "send_receipt", lambda sb: sb.payments.count_receipts()),
    ("book_tour", "hold_slot"): ("calendar", "hold", lambda sb: sb.calendar.count_holds()),
    ("book_tour", "confirm_event"): ("calendar", "confirm", lambda sb: sb.calendar.count_bookings()),
    ("book_tour", "send_confirmation"): ("calendar", "send_confirmation", lambda sb: sb.calendar.count_outbox()),
}


def effect_counts(sb: Sandbox) -> dict[str, int]:
    """Every effect table the plans write to."""
    return {
        "vault": sb.payments.count_vault(),
        "authorizations": sb.payments.count_authorizations(),
        "charges": sb.payments.count_charges(),
        "receipts": sb.payments.count_receipts(),
        "holds": sb.calendar.count_holds(),
        "bookings": sb.calendar.count_bookings(),
        "outbox": sb.calendar.count_outbox(),
        "cases": sb.cases.count_cases(),
        "opportunity_updates": sb.crm.count_updates(),
    }
