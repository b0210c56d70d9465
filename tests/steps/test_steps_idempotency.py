"""Each step is idempotent on its key; a crash after any step's effect is resumable.

The scenario these tests stand for: the process (or the connection to the backend) dies
somewhere inside a multi-step tool call. The executor re-runs the first step that has no
recorded output, with the same derived key, and then the rest. Whatever the crash point,
every effect must exist exactly once afterwards.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest

from tools.errors import Conflict, NotFound, TransientToolError
from tools.registry import TOOLS
from tools.sandbox import FAULT_CODES, Sandbox
from tools.steps import Outputs, run_plan

from tests.steps.helpers import CHARGE, STEP_EFFECTS, booking, effect_counts, run_step, validated

STEPS = sorted(STEP_EFFECTS)
CHARGE_PLAN = TOOLS["charge_card"].plan
TOOL_KEY = "call-7:c0ffee"


def args_for(tool: str, tomorrow: date) -> Any:
    return validated(tool, CHARGE if tool == "charge_card" else booking(tomorrow))


async def prepare_and_run_until(
    sb: Sandbox, tool: str, stop: str, tomorrow: date, key: str = TOOL_KEY
) -> tuple[dict[str, Any], Outputs]:
    """Prepare, then run the steps before ``stop`` (the call's state when ``stop`` is next)."""
    plan = TOOLS[tool].plan
    prepared = await plan.prepare(sb, args_for(tool, tomorrow))
    outputs: Outputs = {}
    for name in plan.step_names:
        if name == stop:
            break
        outputs[name] = await run_step(sb, tool, name, prepared, outputs, key)
    return prepared, outputs


def expected_totals(tool: str) -> dict[str, int]:
    """Every effect of one completed call of ``tool``, and nothing else."""
    tables = ["vault", "authorizations", "charges", "receipts", "holds", "bookings", "outbox", "cases"]
    zero = dict.fromkeys([*tables, "opportunity_updates"], 0)
    if tool == "charge_card":
        return zero | {"vault": 1, "authorizations": 1, "charges": 1, "receipts": 1}
    return zero | {"holds": 1, "bookings": 1, "outbox": 1}


def test_step_effect_table_covers_every_step_of_every_multi_step_plan() -> None:
    declared = {(tool, name) for tool in ("charge_card", "book_tour") for name in TOOLS[tool].plan.step_names}
    assert declared == set(STEP_EFFECTS)


def test_every_new_op_can_be_armed(sb: Sandbox) -> None:
    known = sb.faults.known_ops()
    assert {"tokenize", "authorize", "capture", "send_receipt", "charge"} <= known["payments"]
    assert {"hold", "confirm", "send_confirmation", "book", "free_slots"} <= known["calendar"]


@pytest.mark.parametrize(("tool", "step"), STEPS)
async def test_rerunning_a_step_with_the_same_key_makes_no_second_row(
    sb: Sandbox, tomorrow: date, tool: str, step: str
) -> None:
    prepared, outputs = await prepare_and_run_until(sb, tool, step, tomorrow)
    first = await run_step(sb, tool, step, prepared, outputs, TOOL_KEY)
    before = effect_counts(sb)
    again = await run_step(sb, tool, step, prepared, outputs, TOOL_KEY)
    assert again == first
    assert effect_counts(sb) == before
    _, _, count = STEP_EFFECTS[(tool, step)]
    assert count(sb) == 1


@pytest.mark.parametrize(("tool", "step"), STEPS)
async def test_rerunning_the_whole_call_after_success_changes_nothing(
    sb: Sandbox, tomorrow: date, tool: str, step: str
) -> None:
    first = await run_plan(sb, TOOLS[tool].plan, args_for(tool, tomorrow), TOOL_KEY)
    # A resume that (wrongly) lost every output from ``step`` on re-runs them: same rows.
    plan = TOOLS[tool].plan
    kept = {name: out for name, out in first[1].items() if plan.step_names.index(name) < plan.step_names.index(step)}
    again = await run_plan(sb, TOOLS[tool].plan, args_for(tool, tomorrow), TOOL_KEY, completed=kept, prepared=first[0])
    assert again == first
    assert effect_counts(sb) == expected_totals(tool)


@pytest.mark.parametrize(("tool", "step"), STEPS)
async def test_crash_after_effect_then_rerun_with_same_key_is_exactly_once(
    sb: Sandbox, tomorrow: date, tool: str, step: str
) -> None:
    backend, op, count = STEP_EFFECTS[(tool, step)]
    prepared, outputs = await prepare_and_run_until(sb, tool, step, tomorrow)
    sb.faults.arm(backend, op, "crash_after_effect")
    with pytest.raises(TransientToolError) as info:
        await run_step(sb, tool, step, prepared, outputs, TOOL_KEY)
    assert info.value.code == FAULT_CODES["crash_after_effect"] and info.value.transient
    assert count(sb) == 1  # the effect happened although the step "failed"

    # Resume from the first incomplete step (this one), as the executor would.
    _, final_outputs, result = await run_plan(
        sb, TOOLS[tool].plan, args_for(tool, tomorrow), TOOL_KEY, completed=outputs, prepared=prepared
    )
    assert count(sb) == 1
    assert effect_counts(sb) == expected_totals(tool)
    TOOLS[tool].result_model.model_validate(result)
    assert set(final_outputs) == set(TOOLS[tool].plan.step_names)


@pytest.mark.parametrize("kind", ["timeout", "error_5xx"])
@pytest.mark.parametrize(("tool", "step"), STEPS)
async def test_faults_before_the_effect_write_nothing_and_retry_once(
    sb: Sandbox, tomorrow: date, tool: str, step: str, kind: str
) -> None:
    backend, op, count = STEP_EFFECTS[(tool, step)]
    prepared, outputs = await prepare_and_run_until(sb, tool, step, tomorrow)
    before = count(sb)
    sb.faults.arm(backend, op, kind, delay_s=0)  # type: ignore[arg-type]
    with pytest.raises(TransientToolError) as info:
        await run_step(sb, tool, step, prepared, outputs, TOOL_KEY)
    assert info.value.code == FAULT_CODES[kind]
    assert count(sb) == before == 0
    await run_step(sb, tool, step, prepared, outputs, TOOL_KEY)
    assert count(sb) == 1


@pytest.mark.parametrize("kind", ["timeout", "error_5xx", "crash_after_effect"])
async def test_tokenize_faults(sb: Sandbox, kind: str) -> None:
    plan = TOOLS["charge_card"].plan
    sb.faults.arm("payments", "tokenize", kind, delay_s=0)  # type: ignore[arg-type]
    with pytest.raises(TransientToolError) as info:
        await plan.prepare(sb, validated("charge_card", CHARGE))
    assert info.value.code == FAULT_CODES[kind]
    assert sb.payments.count_vault() == (1 if kind == "crash_after_effect" else 0)
    first = await plan.prepare(sb, validated("charge_card", CHARGE))
    again = await plan.prepare(sb, validated("charge_card", CHARGE))
    assert first == again and sb.payments.count_vault() == 1


async def test_crash_in_the_middle_then_resume_the_whole_call(sb: Sandbox, tomorrow: date) -> None:
    """End to end: the capture commits, the connection drops, the call resumes."""
    sb.faults.arm("payments", "capture", "crash_after_effect")
    prepared, outputs = await prepare_and_run_until(sb, "charge_card", "capture", tomorrow)
    with pytest.raises(TransientToolError):
        await run_plan(
            sb, CHARGE_PLAN, args_for("charge_card", tomorrow), TOOL_KEY, completed=outputs, prepared=prepared
        )
    assert sb.payments.count_charges() == 1 and sb.payments.count_receipts() == 0
    _, done, result = await run_plan(
        sb, CHARGE_PLAN, args_for("charge_card", tomorrow), TOOL_KEY, completed=outputs, prepared=prepared
    )
    assert effect_counts(sb) == expected_totals("charge_card")
    [charge] = sb.payments.list_charges()
    assert result["charge_id"] == charge.charge_id == done["capture"]["charge_id"]


async def test_different_call_keys_are_different_calls(sb: Sandbox) -> None:
    """Two renewals (two tool keys) are two charges: keys deduplicate retries, not business."""
    await run_plan(sb, TOOLS["charge_card"].plan, validated("charge_card", CHARGE), "call-1:a")
    await run_plan(sb, TOOLS["charge_card"].plan, validated("charge_card", CHARGE), "call-1:b")
    assert sb.payments.count_authorizations() == sb.payments.count_charges() == sb.payments.count_receipts() == 2
    assert sb.payments.count_vault() == 1


# --- keys reused with other parameters, and second attempts on consumed records ---------


async def test_same_key_with_other_parameters_is_refused(sb: Sandbox, tomorrow: date) -> None:
    prepared, outputs, _ = await run_plan(sb, TOOLS["charge_card"].plan, validated("charge_card", CHARGE), TOOL_KEY)
    token = prepared["card_token"]
    with pytest.raises(Conflict) as info:
        sb.payments.authorize("POL-4821", 999, token, f"{TOOL_KEY}:authorize")
    assert info.value.code == "idempotency_key_reused"
    other = sb.payments.authorize("POL-4821", 128_400, token, "other:authorize")
    with pytest.raises(Conflict, match="already used"):
        sb.payments.capture(other, f"{TOOL_KEY}:capture")
    with pytest.raises(Conflict, match="already used"):
        sb.payments.send_receipt("CH-9999", f"{TOOL_KEY}:receipt")

    _, tour, _ = await run_plan(sb, TOOLS["book_tour"].plan, validated("book_tour", booking(tomorrow)), TOOL_KEY)
    with pytest.raises(Conflict, match="already used"):
        sb.calendar.hold("L-101", tour_slot(tomorrow, 13), "5105550142", f"{TOOL_KEY}:hold_slot")
    with pytest.raises(Conflict, match="already used"):
        sb.calendar.confirm("HD-9999", "Maria", "5105550142", f"{TOOL_KEY}:confirm_event")
    with pytest.raises(Conflict, match="already used"):
        sb.calendar.send_confirmation("BK-9999", f"{TOOL_KEY}:send_confirmation")
    assert sb.calendar.count_holds() == 1


def tour_slot(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour))


async def test_one_charge_per_authorization(sb: Sandbox) -> None:
    _, outputs, _ = await run_plan(sb, TOOLS["charge_card"].plan, validated("charge_card", CHARGE), TOOL_KEY)
    with pytest.raises(Conflict, match="already captured") as info:
        sb.payments.capture(outputs["authorize"]["authorization_id"], "someone-else:capture")
    assert not info.value.transient
    assert sb.payments.count_charges() == 1


async def test_one_booking_per_hold_and_only_for_its_caller(sb: Sandbox, tomorrow: date) -> None:
    hold_id = sb.calendar.hold("L-101", tour_slot(tomorrow, 12), "5105550142", "h1")
    with pytest.raises(Conflict, match="different phone"):
        sb.calendar.confirm(hold_id, "Mallory", "4155550100", "c-mallory")
    booking_id = sb.calendar.confirm(hold_id, "Maria", "5105550142", "c1")
    with pytest.raises(Conflict, match="already confirmed"):
        sb.calendar.confirm(hold_id, "Maria", "5105550142", "c2")
    assert sb.calendar.confirm(hold_id, "Maria", "5105550142", "c1") == booking_id
    assert sb.calendar.count_bookings() == 1


async def test_unknown_records_are_not_found(sb: Sandbox) -> None:
    with pytest.raises(NotFound):
        sb.payments.capture("AUTH-9999", "k1")
    with pytest.raises(NotFound):
        sb.payments.send_receipt("CH-9999", "k2")
    with pytest.raises(NotFound):
        sb.calendar.confirm("HD-9999", "Maria", "5105550142", "k3")
    with pytest.raises(NotFound):
        sb.calendar.send_confirmation("BK-9999", "k4")
    assert set(effect_counts(sb).values()) == {0}


@pytest.mark.parametrize("key", [None, ""])
async def test_step_wise_ops_refuse_a_missing_key(sb: Sandbox, tomorrow: date, key: str | None) -> None:
    token, _ = sb.payments.tokenize(CHARGE["card_number"])
    calls = [
        lambda: sb.payments.authorize("POL-4821", 128_400, token, key),  # type: ignore[arg-type]
        lambda: sb.payments.capture("AUTH-1001", key),  # type: ignore[arg-type]
        lambda: sb.payments.send_receipt("CH-1001", key),  # type: ignore[arg-type]
        lambda: sb.calendar.hold("L-101", tour_slot(tomorrow, 12), "5105550142", key),  # type: ignore[arg-type]
        lambda: sb.calendar.confirm("HD-1001", "Maria", "5105550142", key),  # type: ignore[arg-type]
        lambda: sb.calendar.send_confirmation("BK-1001", key),  # type: ignore[arg-type]
    ]
    for call in calls:
        with pytest.raises(ValueError, match="idempotency_key"):
            call()
    assert effect_counts(sb) | {"vault": 0} == dict.fromkeys(effect_counts(sb), 0)
