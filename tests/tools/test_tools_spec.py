"""Each tool is declared once, on its ToolSpec, and its arguments are validated in one place.

The executor, the worker's tool gate and ``run_tool`` read every fact about a tool (key
fields, retry policy, step plan) from the spec, so these tests pin the facts there and the
one validation point, ``ToolSpec.validate``. The idempotency key formula is pinned to the
exact values the runtime has always produced: journals and idempotency records written by
earlier versions hold those keys, and resume finds a call by its key.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from tools import actions
from tools.errors import NotFound
from tools.models import ChargeCardArgs, ChargeCardResult, FindListingsArgs, FindListingsResult
from tools.registry import TOOLS
from tools.sandbox import Sandbox
from tools.spec import InvalidArguments, RetryPolicy, ToolSpec
from tools.step_plans import CHARGE_CARD_STEPS
from tools.steps import run_plan

ROOT = Path(__file__).resolve().parents[2]
CARD = "4242 4242 4242 4242"
VALID = {
    "save_caller_details": {"name": "Maria Gonzalez", "phone": "510-555-0142", "budget": "900k"},
    "find_listings": {"area": "Oakland", "max_price": 900_000},
    "get_renewal_quote": {"policy_number": "POL-4821"},
    "charge_card": {"policy_number": "POL-4821", "amount_cents": 128_400, "card_number": CARD},
    "create_case": {"reason": "caller_request", "summary": "Wants a call back about the renewal"},
    "update_opportunity": {"phone": "5105550142", "name": "Maria Gonzalez", "stage": "qualified", "note": "2br"},
}


def test_every_tool_carries_its_key_fields_retry_policy_and_plan() -> None:
    for name, spec in TOOLS.items():
        assert isinstance(spec.retry, RetryPolicy) and spec.retry.attempts >= 1, name
        assert spec.plan.step_names, name
        if spec.effect:
            assert spec.key_fields, f"{name} has an effect but no key fields"
        else:
            assert spec.key_fields == () and spec.idempotency_key({"anything": 1}) is None, name
    assert TOOLS["charge_card"].key_fields == ("policy_number", "amount_cents", "card_token")
    assert TOOLS["book_tour"].key_fields == ("listing_id", "slot_start", "phone")
    assert TOOLS["charge_card"].retry == RetryPolicy(attempts=4, base_delay=0.25, max_delay=2.0, timeout=6.0)
    assert TOOLS["find_listings"].retry == RetryPolicy()


@pytest.mark.parametrize("name", ["charge_card", "create_case", "update_opportunity", "book_tour"])
async def test_key_fields_name_prepared_arguments(sb: Sandbox, tomorrow: date, name: str) -> None:
    """A key field missing from the prepared arguments would hash as null: two different
    bookings would then share a key and the second be served the first's result."""
    raw = VALID.get(name) or {"listing_id": "L-101", "slot_start": f"{tomorrow}T12:00:00", "name": "M",
                              "phone": "5105550142"}
    spec = TOOLS[name]
    prepared = await spec.plan.prepare(sb, spec.validate(raw))
    assert set(spec.key_fields) <= set(prepared), sorted(prepared)


def test_idempotency_key_formula_is_the_one_existing_journals_hold() -> None:
    charge = {"policy_number": "POL-4821", "amount_cents": 128400, "card_token": "tok_abc", "card_last4": "4242"}
    tour = {"listing_id": "L-101", "slot_start": "2025-06-03T10:00:00", "phone": "+15105550123", "name": "Ana",
            "address": "x", "area": "y"}
    assert TOOLS["charge_card"].idempotency_key(charge) == "charge_card:8ea37268fffb10ffcc30bcc4045e7cd8"
    assert TOOLS["book_tour"].idempotency_key(tour) == "book_tour:c218ae3fef2d0bca3e63fe99604f769f"
    assert (TOOLS["create_case"].idempotency_key({"reason": "caller_request", "summary": "call me", "name": None})
            == "create_case:6700c9dcc3d6da567880b5d2ab68ed37")
    assert (TOOLS["update_opportunity"].idempotency_key(
        {"phone": "+15105550123", "stage": "qualified", "listing_id": None, "note": "n"})
            == "update_opportunity:80c861d10a8e9283435b4b1765a86e21")
    # Only the key fields count: other prepared arguments do not change the key; a key field does.
    spec = TOOLS["charge_card"]
    assert spec.idempotency_key({**charge, "card_last4": "0000"}) == spec.idempotency_key(charge)
    assert spec.idempotency_key({**charge, "amount_cents": 1}) != spec.idempotency_key(charge)


def test_validate_accepts_what_models_hand_over() -> None:
    spec = TOOLS["find_listings"]
    as_dict = spec.validate({"area": "Alameda", "max_price": 800_000})
    assert isinstance(as_dict, FindListingsArgs)
    assert spec.validate('{"area": "Alameda", "max_price": 800000}') == as_dict
    assert spec.validate(as_dict) is as_dict
    charge = TOOLS["charge_card"].validate(VALID["charge_card"])
    assert TOOLS["charge_card"].validate(charge) is charge  # not dumped and re-read: the SecretStr stays clear
    assert charge.card_number.get_secret_value().replace(" ", "") == CARD.replace(" ", "")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"area": "Oakland"}, "max_price is required"),
        ({"area": "Oakland", "max_price": 900_000, "pool": True}, "pool is not a known argument"),
        ({"area": "Oakland", "max_price": float("inf")}, "max_price: amount must be a finite number of dollars"),
        ("{not json", "arguments are not valid JSON"),
        ("[1, 2]", "arguments must be a JSON object"),
        (None, "max_price is required"),
    ],
)
def test_validate_raises_one_typed_error(raw: object, reason: str) -> None:
    with pytest.raises(InvalidArguments) as info:
        TOOLS["find_listings"].validate(raw)  # type: ignore[arg-type]
    assert reason in info.value.reason
    assert info.value.tool == "find_listings"
    assert str(info.value) == f"Invalid arguments for find_listings: {info.value.reason}"


def test_validate_refuses_another_tools_arguments() -> None:
    other = TOOLS["find_listings"].validate(VALID["find_listings"])
    with pytest.raises(InvalidArguments, match="FindListingsArgs, not this tool's arguments"):
        TOOLS["charge_card"].validate(other)


def test_invalid_arguments_never_echo_a_card_number() -> None:
    raw = {"policy_number": CARD, "amount_cents": "lots", "card_number": "1234"}
    with pytest.raises(InvalidArguments) as info:
        TOOLS["charge_card"].validate(raw)
    assert CARD not in str(info.value) and CARD.replace(" ", "") not in str(info.value)
    assert "amount_cents" in info.value.reason


def test_spec_declarations_are_checked() -> None:
    base = dict(name="t", description="d", args_model=FindListingsArgs, result_model=FindListingsResult,
                func=actions.find_listings)
    with pytest.raises(ValueError, match="no key_fields"):
        ToolSpec(**base, effect=True)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no effect"):
        ToolSpec(**base, key_fields=("area",))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="repeats key fields"):
        ToolSpec(**base, effect=True, key_fields=("area", "area"))  # type: ignore[arg-type]
    card = dict(name="c", description="d", args_model=ChargeCardArgs, result_model=ChargeCardResult,
                func=actions.charge_card, secret_fields=frozenset({"card_number"}), effect=True,
                key_fields=("card_token",))
    with pytest.raises(ValueError, match="secret fields"):
        ToolSpec(**card)  # type: ignore[arg-type]
    assert ToolSpec(**card, steps=CHARGE_CARD_STEPS).plan is CHARGE_CARD_STEPS  # type: ignore[arg-type]


async def test_a_replaced_spec_runs_its_own_function(sb: Sandbox) -> None:
    """Tests swap a spec's function with dataclasses.replace: the one-step plan must call the
    new function, not one cached on the old spec."""

    async def closed(sb: Sandbox, args: FindListingsArgs) -> FindListingsResult:
        raise NotFound("closed for the holidays")

    spec = TOOLS["find_listings"]
    args = spec.validate({"area": "Alameda", "max_price": 800_000})
    _, _, result = await run_plan(sb, spec.plan, args, "call-1:a")  # caches the original's plan
    assert [listing["listing_id"] for listing in result["listings"]] == ["L-302"]
    with pytest.raises(NotFound, match="holidays"):
        await run_plan(sb, dataclasses.replace(spec, func=closed).plan, args, "call-1:b")


def test_no_one_else_validates_tool_arguments() -> None:
    """The gate, run_tool and the executor all go through ToolSpec.validate."""
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("tools", "worker")
        for path in (ROOT / folder).rglob("*.py")
        if "args_model.model_validate" in path.read_text()
    ]
    assert offenders == ["tools/spec.py"]
