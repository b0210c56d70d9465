"""The repair dialogue in the state machine: read-backs, confirmations, mishearings, goodbyes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.dates import SCENARIO_TODAY
from worker.flow.library import load_flow
from worker.flow.machine import AgentSpoke, CallerTurn, ConversationMachine, ToolFinished, ToolProposed
from worker.flow.readback import digit_groups
from worker.flow.spec import FlowSpec
from worker.reading.turn import read_caller_turn

PHONE = "4155550192"
READ = "I have 4 1 5, 5 5 5, 0 1 9 2. Is that right?"


def _save(m: ConversationMachine, cid: str = "s", **details: Any) -> None:
    m.propose(ToolProposed(call_id=cid, tool="save_caller_details", args=details))
    m.apply(ToolFinished(call_id=cid, ok=True, result={}))


def _qualified(phone: str = PHONE, confidence: float | None = None) -> ConversationMachine:
    m = ConversationMachine(load_flow("real_estate"))
    m.apply(CallerTurn(text="details", confidence=confidence))
    _save(m, name="Dana Whitfield", phone=phone, area="Oakland", budget=900000)
    return m


def test_phone_is_read_back_in_digit_groups_before_the_flow_moves_on() -> None:
    m = _qualified()
    assert m.s.state == "qualify"
    rb = m.directive()["read_back"]
    assert rb == {"slot": "phone", "question": READ, "misheard": 0}
    assert digit_groups("5104827391") == "5 1 0, 4 8 2, 7 3 9 1"


def test_a_yes_to_the_read_back_confirms_exactly_that_value() -> None:
    m = _qualified()
    m.apply(AgentSpoke(text=READ))
    m.apply(CallerTurn(text="yes", affirmation=True))
    assert m.s.confirmed_values["phone"] == PHONE and m.s.state == "search"
    assert m.directive()["read_back"] is None


def test_a_yes_to_another_question_confirms_nothing() -> None:
    m = _qualified()
    m.apply(AgentSpoke(text="Which area are you looking in?"))
    m.apply(CallerTurn(text="yes", affirmation=True))
    assert "phone" not in m.s.confirmed_values and m.s.state == "qualify"


def test_a_no_counts_a_mishearing_and_a_new_value_must_be_read_back_again() -> None:
    m = _qualified()
    m.apply(AgentSpoke(text=READ))
    m.apply(CallerTurn(text="no, it's 415 555 0193", affirmation=False))
    _save(m, "s2", phone="4155550193")  # the same turn's correction counts once
    assert m.s.misheard == {"phone": 1}
    assert m.directive()["read_back"]["question"] == "I have 4 1 5, 5 5 5, 0 1 9 3. Is that right?"
    m.apply(AgentSpoke(text="I have 4 1 5, 5 5 5, 0 1 9 3. Is that right?"))
    m.apply(CallerTurn(text="415 555 0194"))  # corrected with just the value, no "no"
    _save(m, "s3", phone="4155550194")
    assert m.s.misheard == {"phone": 2} and "phone" not in m.s.confirmed_values


def test_a_corrected_value_after_a_confirmation_is_unconfirmed_again() -> None:
    m = _qualified()
    m.apply(AgentSpoke(text=READ))
    m.apply(CallerTurn(text="yes", affirmation=True))
    _save(m, "s2", phone="4155550100")
    assert m.pending_read_back() is not None and m.pending_read_back().slot == "phone"


def _at_schedule(confirm_phone: bool) -> ConversationMachine:
    m = _qualified()
    m.apply(AgentSpoke(text=READ))
    m.apply(CallerTurn(text="yes" if confirm_phone else "hmm", affirmation=True if confirm_phone else None))
    m.s.state = "schedule"
    m.s.slots.update(listing_ids=["L-1"], listing_id="L-1", free_slots=["2026-11-28T10:00:00"])
    return m


@pytest.mark.parametrize("confirmed", [True, False])
def test_book_tour_needs_a_confirmed_phone(confirmed: bool) -> None:
    m = _at_schedule(confirmed)
    d = m.propose(ToolProposed(call_id="b", tool="book_tour", args={
        "listing_id": "L-1", "slot_start": "2026-11-28T10:00:00", "name": "Dana Whitfield", "phone": PHONE}))
    assert d.accepted is confirmed
    if not confirmed:
        assert "has not confirmed the phone" in (d.reason or "")


def test_a_name_is_read_back_only_when_heard_with_low_confidence() -> None:
    sure = _qualified(confidence=0.93)
    assert sure.s.confirmed_values.get("name") == "Dana Whitfield"
    unsure = _qualified(confidence=0.31)
    unsure.apply(AgentSpoke(text=READ))
    unsure.apply(CallerTurn(text="yes", affirmation=True))
    rb = unsure.directive()["read_back"]
    assert rb["slot"] == "name" and "Dana Whitfield" in rb["question"]


@pytest.mark.parametrize("state, agent, ends", [
    ("qualify", "What's the best phone number to reach you?", False),
    ("qualify", "Before you go: Is there anything else I can help you with?", True),
    ("wrap_up", "You're all set.", True),
])
def test_a_goodbye_ends_the_call_only_where_it_makes_sense(state: str, agent: str, ends: bool) -> None:
    m = ConversationMachine(load_flow("real_estate"))
    m.s.state = state
    m.apply(AgentSpoke(text=agent))
    m.apply(CallerTurn(text="bye", wants=["goodbye"]))
    assert (m.s.state == "done") is ends


@pytest.mark.parametrize("said, ends", [
    ("No, that's oil.", True),  # "No, that's all." misheard (bench robustness, espeak-ng en-gb)
    ("Nope.", True),
    ("No, wait, one more thing.", False),
    ("No, but can I ask about parking?", False),
    ("No, I'd also like to see the one on College Avenue.", False),
    ("Yes, one thing.", False),
])
def test_a_short_no_to_anything_else_ends_the_call(said: str, ends: bool) -> None:
    m = ConversationMachine(load_flow("real_estate"))
    m.s.state = "wrap_up"
    m.apply(AgentSpoke(text="You're booked. Is there anything else I can help you with?"))
    m.apply(read_caller_turn(said, SCENARIO_TODAY))
    assert (m.s.state == "done") is ends


def test_a_read_back_must_say_the_value() -> None:
    flow = load_flow("real_estate").model_dump()
    flow["read_back"] = [{"slot": "phone", "say": "Is your number right?"}]
    with pytest.raises(ValueError, match="value"):
        FlowSpec.model_validate(flow)
