"""The tool catalogue and run_tool's never-raise contract."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date

import pytest

from tools.errors import TransientToolError
from tools.models import ToolArgs, ToolResult
from tools.registry import TOOLS, ToolOutcome, ToolSpec, run_tool
from tools.sandbox import Sandbox

EXPECTED = {
    "save_caller_details": False,
    "find_listings": False,
    "check_availability": False,
    "book_tour": True,
    "update_opportunity": True,
    "verify_identity": False,
    "get_renewal_quote": False,
    "charge_card": True,
    "create_case": True,
}


def test_catalogue_names_and_effects() -> None:
    assert {name: spec.effect for name, spec in TOOLS.items()} == EXPECTED
    assert TOOLS["charge_card"].secret_fields == {"card_number"}
    assert all(not spec.secret_fields for name, spec in TOOLS.items() if name != "charge_card")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_is_complete(name: str) -> None:
    spec = TOOLS[name]
    assert spec.name == name
    assert len(spec.description) > 40
    assert issubclass(spec.args_model, ToolArgs) and issubclass(spec.result_model, ToolResult)
    schema = spec.json_schema()
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    for field_name, prop in schema["properties"].items():
        assert prop.get("description"), f"{name}.{field_name} needs a description for the LLM"
    assert set(spec.secret_fields) <= set(schema["properties"])


def test_tools_package_does_not_import_livekit() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tools.registry, tools.sandbox, tools.redact; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'livekit'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_invalid_arguments_outcome(sb: Sandbox) -> None:
    outcome = await run_tool(sb, "book_tour", {"listing_id": "L-101", "slot_start": "tomorrow-ish", "bogus": 1})
    assert isinstance(outcome, ToolOutcome)
    assert (outcome.ok, outcome.error_code, outcome.transient, outcome.result) == (False, "invalid_arguments", False, None)
    message = outcome.error_message or ""
    assert message.startswith("Invalid arguments for book_tour:")
    for part in ("name is required", "phone is required", "slot_start:", "bogus is not a known argument"):
        assert part in message


async def test_arguments_as_json_string_and_none(sb: Sandbox) -> None:
    outcome = await run_tool(sb, "find_listings", '{"area": "Alameda", "max_price": 800000}')
    assert outcome.ok and outcome.result is not None
    assert [l["listing_id"] for l in outcome.result["listings"]] == ["L-302"]
    outcome = await run_tool(sb, "find_listings", None)
    assert outcome.error_code == "invalid_arguments"
    for bad in ("{not json", "[1, 2]"):
        outcome = await run_tool(sb, "find_listings", bad)
        assert outcome.error_code == "invalid_arguments"


async def test_unknown_tool(sb: Sandbox) -> None:
    outcome = await run_tool(sb, "launch_rocket", {})
    assert (outcome.ok, outcome.error_code) == (False, "unknown_tool")


async def test_unexpected_exception_becomes_internal_error(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(sb: Sandbox, args: ToolArgs) -> ToolResult:
        raise RuntimeError("kaboom with card 4242 4242 4242 4242")

    monkeypatch.setitem(TOOLS, "find_listings", dataclasses.replace(TOOLS["find_listings"], func=boom))
    outcome = await run_tool(sb, "find_listings", {"area": "Oakland", "max_price": 900000})
    assert (outcome.ok, outcome.error_code, outcome.transient) == (False, "internal_error", False)
    assert "RuntimeError" in (outcome.error_message or "")
    assert "4242 4242 4242 4242" not in (outcome.error_message or "")


async def test_wrong_result_type_is_internal_error(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    async def wrong(sb: Sandbox, args: ToolArgs) -> ToolResult:
        return ToolResult()

    monkeypatch.setitem(TOOLS, "find_listings", dataclasses.replace(TOOLS["find_listings"], func=wrong))
    outcome = await run_tool(sb, "find_listings", {"area": "Oakland", "max_price": 900000})
    assert outcome.error_code == "internal_error"


async def test_tool_failure_maps_code_and_transient(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    async def flaky(sb: Sandbox, args: ToolArgs) -> ToolResult:
        raise TransientToolError("upstream hiccup", code="backend_unavailable")

    monkeypatch.setitem(TOOLS, "find_listings", dataclasses.replace(TOOLS["find_listings"], func=flaky))
    outcome = await run_tool(sb, "find_listings", {"area": "Oakland", "max_price": 900000})
    assert (outcome.error_code, outcome.error_message, outcome.transient) == ("backend_unavailable", "upstream hiccup", True)


async def test_cancellation_is_not_swallowed(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    started = asyncio.Event()

    async def slow(sb: Sandbox, args: ToolArgs) -> ToolResult:
        started.set()
        await asyncio.sleep(10)
        raise AssertionError("unreachable")

    monkeypatch.setitem(TOOLS, "find_listings", dataclasses.replace(TOOLS["find_listings"], func=slow))
    task = asyncio.create_task(run_tool(sb, "find_listings", {"area": "Oakland", "max_price": 900000}))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_idempotency_key_only_forwarded_to_effect_tools(sb: Sandbox, tomorrow: date) -> None:
    outcome = await run_tool(sb, "find_listings", {"area": "Oakland", "max_price": 900000}, idempotency_key="k")
    assert outcome.ok
    args = {"listing_id": "L-101", "slot_start": f"{tomorrow}T12:00:00", "name": "M", "phone": "5105550142"}
    outcome = await run_tool(sb, "book_tour", args, idempotency_key="k")
    assert outcome.ok
    assert sb.calendar.list_bookings()[0].idempotency_key == "k"


async def test_outcome_for_charge_never_contains_card(sb: Sandbox, log_lines: list[str]) -> None:
    card = "5555 5555 5555 4444"
    outcome = await run_tool(sb, "charge_card", {"policy_number": "POL-1093", "amount_cents": 96_550, "card_number": card})
    assert outcome.ok and outcome.result is not None
    assert outcome.result["card_last4"] == "4444"
    dumped = outcome.model_dump_json()
    assert card not in dumped and card.replace(" ", "") not in dumped
    assert any("•••• 4444" in line for line in log_lines)  # args were logged, masked
    assert not any(card in line or card.replace(" ", "") in line for line in log_lines)


def test_toolspec_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TOOLS["book_tour"].effect = False  # type: ignore[misc]
    assert isinstance(TOOLS["book_tour"], ToolSpec)


async def test_accepts_prevalidated_args_model_keeping_secrets(sb: Sandbox) -> None:
    """The worker validates before asking the state machine; it can hand over the model."""
    args = TOOLS["charge_card"].args_model.model_validate(
        {"policy_number": "pol 4821", "amount_cents": 128_400, "card_number": "4242 4242 4242 4242"}
    )
    outcome = await run_tool(sb, "charge_card", args)
    assert outcome.ok and outcome.result is not None and outcome.result["card_last4"] == "4242"
    wrong_model = TOOLS["find_listings"].args_model.model_validate({"area": "Oakland", "max_price": 900000})
    outcome = await run_tool(sb, "charge_card", wrong_model)
    assert outcome.error_code == "invalid_arguments"


async def test_json_dump_of_secret_args_does_not_round_trip(sb: Sandbox) -> None:
    """A JSON dump masks the card (SecretStr) — so it cannot be re-run; use raw or model args."""
    args = TOOLS["charge_card"].args_model.model_validate(
        {"policy_number": "POL-4821", "amount_cents": 128_400, "card_number": "4242424242424242"}
    )
    dumped = args.model_dump(mode="json")
    assert dumped["card_number"] == "**********"
    outcome = await run_tool(sb, "charge_card", dumped)
    assert outcome.error_code == "invalid_arguments" and sb.payments.count_charges() == 0


ROUND_TRIP = {
    "save_caller_details": {"name": "maria  gonzalez", "phone": "(510) 555-0142", "email": "M at x dot com",
                            "budget": "$900k", "area": "oakland", "bedrooms": "two"},
    "find_listings": {"area": "san josé", "max_price": "1.2m", "bedrooms": "3br"},
    "check_availability": {"listing_id": "l 101", "date": "June 3rd, 2025"},
    "book_tour": {"listing_id": "101", "slot_start": "2025-06-03T14:00:00+02:00", "name": "MARIA", "phone": "1 510 555 0142"},
    "update_opportunity": {"phone": "510.555.0142", "name": "maria", "stage": "Tour Booked", "listing_id": "L101",
                           "note": " likes   light "},
    "verify_identity": {"policy_number": "policy number 4821", "date_of_birth": "03/12/1984"},
    "get_renewal_quote": {"policy_number": "pol-4821"},
    "create_case": {"reason": "tool failure", "summary": " x ", "phone": "", "policy_number": "POL 4821"},
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIP))
def test_normalization_is_idempotent(name: str) -> None:
    """Validated args dumped to JSON validate to the same thing: the state machine and
    traces can hold the dumped form and it still means the same call."""
    model = TOOLS[name].args_model
    once = model.model_validate(ROUND_TRIP[name])
    twice = model.model_validate(once.model_dump(mode="json"))
    assert once == twice
