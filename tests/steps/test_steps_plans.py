"""Every tool has a step plan; the plans run end to end against a real sandbox."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tools.errors import Conflict, NotFound, PermanentToolError
from tools.registry import TOOLS, run_tool
from tools.sandbox import Sandbox
from tools.steps import Step, StepPlan, run_plan

from tests.steps.helpers import CARD, CHARGE, booking, effect_counts, sample_args, validated


def test_every_tool_has_a_plan_and_multi_step_plans_are_declared() -> None:
    assert {name for name, spec in TOOLS.items() if spec.steps is not None} == {"charge_card", "book_tour"}
    assert TOOLS["charge_card"].plan.step_names == ("authorize", "capture", "receipt")
    assert TOOLS["book_tour"].plan.step_names == ("hold_slot", "confirm_event", "send_confirmation")
    for spec in TOOLS.values():
        plan = spec.plan
        assert plan is spec.plan  # cached, stable identity
        if spec.steps is None:
            assert plan.step_names == ("run",)
        else:
            assert plan is spec.steps


def test_sample_args_cover_the_registry(tomorrow: date) -> None:
    assert set(sample_args(tomorrow)) == set(TOOLS)


def test_plan_declarations_are_checked() -> None:
    async def noop(*_: object) -> dict[str, object]:
        return {}

    with pytest.raises(ValueError, match="duplicate"):
        StepPlan(noop, (Step("a", noop), Step("a", noop)), lambda a, o: {})
    with pytest.raises(ValueError, match="at least one step"):
        StepPlan(noop, (), lambda a, o: {})
    with pytest.raises(ValueError, match="':'"):
        StepPlan(noop, (Step("a:b", noop),), lambda a, o: {})


@pytest.mark.parametrize("tool", sorted(TOOLS))
async def test_plan_runs_end_to_end_and_result_validates(sb: Sandbox, tomorrow: date, tool: str) -> None:
    args = validated(tool, sample_args(tomorrow)[tool])
    prepared, outputs, result = await run_plan(sb, TOOLS[tool].plan, args, "call-1:t1")
    # Prepared args and step outputs are what a journal stores: plain JSON, no secrets.
    assert json.loads(json.dumps(prepared)) == prepared
    assert json.loads(json.dumps(outputs)) == outputs
    assert set(outputs) == set(TOOLS[tool].plan.step_names)
    assert CARD not in json.dumps([prepared, outputs, result])
    TOOLS[tool].result_model.model_validate(result)
    assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize("tool", sorted(set(TOOLS) - {"book_tour", "update_opportunity", "create_case", "charge_card"}))
async def test_wrapped_read_only_tools_match_run_tool(sb: Sandbox, tomorrow: date, tool: str) -> None:
    raw = sample_args(tomorrow)[tool]
    _, _, result = await run_plan(sb, TOOLS[tool].plan, validated(tool, raw), "k")
    outcome = await run_tool(sb, tool, raw)
    assert outcome.ok and outcome.result == result


async def test_multi_step_results_have_the_shape_of_the_single_call_actions(sb: Sandbox, tomorrow: date) -> None:
    _, _, charge = await run_plan(sb, TOOLS["charge_card"].plan, validated("charge_card", CHARGE), "call-1:pay")
    legacy = await run_tool(sb, "charge_card", CHARGE)
    assert legacy.ok and legacy.result is not None
    assert set(charge) == set(legacy.result)
    assert {k: v for k, v in charge.items() if k != "charge_id"} == {
        k: v for k, v in legacy.result.items() if k != "charge_id"
    }
    assert charge["card_last4"] == "4242" and charge["status"] == "succeeded" and charge["amount_text"] == "$1,284.00"

    args = validated("book_tour", booking(tomorrow, 12))
    _, _, tour = await run_plan(sb, TOOLS["book_tour"].plan, args, "call-1:tour")
    legacy_tour = await run_tool(sb, "book_tour", booking(tomorrow, 13))
    assert legacy_tour.ok and legacy_tour.result is not None
    assert set(tour) == set(legacy_tour.result)
    assert tour["confirmation"] == (
        "You're booked to tour 412 Grand Ave in Oakland on Tuesday, June 3 at 12 PM. "
        f"Your confirmation number is {tour['booking_id']}."
    )


async def test_charge_card_effects_and_records(sb: Sandbox) -> None:
    args = validated("charge_card", CHARGE)
    prepared, outputs, result = await run_plan(sb, TOOLS["charge_card"].plan, args, "call-1:pay")
    assert set(prepared) == {"policy_number", "amount_cents", "card_token", "card_last4"}
    assert effect_counts(sb) | {"holds": 0} == {
        "vault": 1, "authorizations": 1, "charges": 1, "receipts": 1,
        "holds": 0, "bookings": 0, "outbox": 0, "cases": 0, "opportunity_updates": 0,
    }
    [auth] = sb.payments.list_authorizations()
    assert auth.status == "captured" and auth.idempotency_key == "call-1:pay:authorize"
    charge = sb.payments.get_charge(result["charge_id"])
    assert charge is not None and charge.authorization_id == outputs["authorize"]["authorization_id"]
    assert charge.idempotency_key == "call-1:pay:capture" and charge.card_token == prepared["card_token"]
    [receipt] = sb.payments.list_receipts()
    assert receipt.charge_id == charge.charge_id and receipt.receipt_id == outputs["receipt"]["receipt_id"]
    vault = sb.payments.get_vault_card(prepared["card_token"])
    assert vault is not None and vault.card_last4 == "4242"


async def test_book_tour_effects_and_records(sb: Sandbox, tomorrow: date) -> None:
    args = validated("book_tour", booking(tomorrow))
    _, outputs, result = await run_plan(sb, TOOLS["book_tour"].plan, args, "call-1:tour")
    [hold] = sb.calendar.list_holds()
    assert hold.status == "confirmed" and hold.booking_id == result["booking_id"]
    booking_row = sb.calendar.get_booking(result["booking_id"])
    assert booking_row is not None and booking_row.hold_id == hold.hold_id and booking_row.source == "caller"
    [message] = sb.calendar.list_outbox()
    assert message.message_id == outputs["send_confirmation"]["message_id"]
    assert message.recipient == "5105550142" and result["booking_id"] in message.body
    assert sb.calendar.count_bookings() == 1
    free = sb.calendar.free_slots("L-101", tomorrow)
    assert all(slot.hour != 12 for slot in free)


@pytest.mark.parametrize(
    ("policy", "amount", "card", "code", "error"),
    [
        ("POL-4821", 100, CARD, "conflict", Conflict),  # not the quoted premium
        ("POL-2048", 158_820, CARD, "conflict", Conflict),  # cancelled: cannot be renewed
        ("POL-9999", 100, CARD, "not_found", NotFound),
        ("POL-4821", 128_400, "4242424242424241", "invalid_card", PermanentToolError),  # Luhn fails
    ],
)
async def test_charge_prepare_rejects_before_any_effect(
    sb: Sandbox, policy: str, amount: int, card: str, code: str, error: type[Exception]
) -> None:
    args = validated("charge_card", {"policy_number": policy, "amount_cents": amount, "card_number": card})
    with pytest.raises(error) as info:
        await TOOLS["charge_card"].plan.prepare(sb, args)
    assert getattr(info.value, "code") == code and not getattr(info.value, "transient")
    assert card not in str(info.value)
    assert set(effect_counts(sb).values()) == {0}


async def test_lapsed_policy_can_be_renewed(sb: Sandbox) -> None:
    args = validated("charge_card", {"policy_number": "POL-5566", "amount_cents": 74_900, "card_number": CARD})
    _, _, result = await run_plan(sb, TOOLS["charge_card"].plan, args, "k")
    assert result["amount_cents"] == 74_900


async def test_declined_card_fails_at_authorize_without_effect(sb: Sandbox) -> None:
    args = validated("charge_card", {**CHARGE, "card_number": "4000 0000 0000 0002"})
    with pytest.raises(PermanentToolError) as info:
        await run_plan(sb, TOOLS["charge_card"].plan, args, "k")
    assert info.value.code == "card_declined" and "0002" in info.value.message
    assert sb.payments.count_authorizations() == 0 and sb.payments.count_charges() == 0
    assert sb.payments.count_vault() == 1  # tokenizing is not authorizing


async def test_unknown_token_is_invalid_card(sb: Sandbox) -> None:
    with pytest.raises(PermanentToolError) as info:
        sb.payments.authorize("POL-4821", 128_400, "tok_000000000000000000000000", "k")
    assert info.value.code == "invalid_card" and sb.payments.count_authorizations() == 0


async def test_book_tour_prepare_and_hold_errors(sb: Sandbox, tomorrow: date) -> None:
    with pytest.raises(NotFound):
        await TOOLS["book_tour"].plan.prepare(sb, validated("book_tour", {**booking(tomorrow), "listing_id": "L-999"}))
    with pytest.raises(NotFound, match="No tour slot"):
        await run_plan(sb, TOOLS["book_tour"].plan, validated("book_tour", booking(tomorrow, hour=9)), "k1")
    with pytest.raises(Conflict):  # seeded hold: L-101 tomorrow 10:00 is taken
        await run_plan(sb, TOOLS["book_tour"].plan, validated("book_tour", booking(tomorrow, hour=10)), "k2")
    assert sb.calendar.count_holds() == 0 and sb.calendar.count_bookings() == 0


async def test_prepare_checks_its_argument_type(sb: Sandbox, tomorrow: date) -> None:
    with pytest.raises(TypeError):
        await TOOLS["charge_card"].plan.prepare(sb, validated("book_tour", booking(tomorrow)))
    with pytest.raises(TypeError):
        await TOOLS["create_case"].plan.prepare(sb, validated("get_renewal_quote", {"policy_number": "POL-4821"}))


@pytest.mark.parametrize("tool", ["create_case", "update_opportunity"])
async def test_wrapped_effect_tools_get_the_step_key(sb: Sandbox, tomorrow: date, tool: str) -> None:
    args = validated(tool, sample_args(tomorrow)[tool])
    first = await run_plan(sb, TOOLS[tool].plan, args, "call-1:t5")
    again = await run_plan(sb, TOOLS[tool].plan, args, "call-1:t5")
    assert first == again
    assert sb.cases.count_cases() + sb.crm.count_updates() == 1
    keys = [c.idempotency_key for c in sb.cases.list_cases()]
    assert keys in ([], ["call-1:t5:run"])
