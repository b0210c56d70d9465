"""Caller id in the real-estate flow: with a caller id the phone question becomes "Is 415 555
0192 the best number to reach you?"; yes fills the phone slot (marked confirmed from caller id),
no brings back the plain question, and without a caller id nothing changes. Declared in the
flow (`confirm_known`), decided by the machine."""

from __future__ import annotations

import pytest

from tests.flow.test_machine import run_tool
from worker.call.records import CallEventRecord
from worker.flow.library import load_flow
from worker.flow.machine import AgentSpoke, CallerIdentified, CallerTurn, ConversationMachine
from worker.flow.spec import FlowSpec
from worker.phone.line import caller_id_slot

CONFIRM = "Is 415 555 0192 the best number to reach you?"
ASK = "What's the best phone number to reach you?"


def _named(caller_id: str | None) -> ConversationMachine:
    m = ConversationMachine(load_flow("real_estate"))
    if caller_id is not None:
        known = caller_id_slot(caller_id)
        assert known is not None
        m.apply(CallerIdentified(value=known[0], spoken=known[1]))
    m.apply(CallerTurn(text="Hi, I'm Dana."))
    run_tool(m, "save_caller_details", {"name": "Dana"})
    return m


def _phone_question(m: ConversationMachine) -> str:
    missing = m.directive()["missing"]
    assert missing and missing[0]["slot"] == "phone", missing
    return missing[0]["question"]


def test_caller_id_is_read_in_groups_and_withheld_or_foreign_ids_are_not() -> None:
    assert caller_id_slot("+14155550192") == ("4155550192", "415 555 0192")
    assert caller_id_slot("4155550192") == ("4155550192", "415 555 0192")
    assert caller_id_slot(None) is None and caller_id_slot("") is None
    assert caller_id_slot("+442071838750") is None  # not a ten-digit number the phone slot takes


def test_with_a_caller_id_the_agent_asks_to_confirm_it_and_yes_fills_the_phone() -> None:
    m = _named("+14155550192")
    assert _phone_question(m) == CONFIRM
    m.apply(AgentSpoke(text=f"Thanks, Dana. {CONFIRM}"))
    m.apply(CallerTurn(text="Yes, that's right.", affirmation=True))
    assert m.s.slots["phone"] == "4155550192"
    assert m.s.confirmed == {"phone": "caller_id"}
    assert [x["slot"] for x in m.directive()["missing"]] == ["area", "budget"]


def test_no_brings_back_the_question_and_a_new_number_is_taken() -> None:
    m = _named("+14155550192")
    m.apply(AgentSpoke(text=CONFIRM))
    m.apply(CallerTurn(text="No, use my cell instead.", affirmation=False))
    assert "phone" not in m.s.slots and m.s.declined == ["phone"] and m.s.confirmed == {}
    assert _phone_question(m) == ASK  # the plain question from now on
    run_tool(m, "save_caller_details", {"phone": "5104827391"})
    assert m.s.slots["phone"] == "5104827391" and m.s.confirmed == {}


def test_another_number_given_instead_of_yes_or_no_is_taken_as_said() -> None:
    m = _named("+14155550192")
    m.apply(AgentSpoke(text=CONFIRM))
    m.apply(CallerTurn(text="It's 510 482 7391."))  # no yes/no: the machine leaves it to the reading
    assert "phone" not in m.s.slots and m.s.declined == []
    run_tool(m, "save_caller_details", {"phone": "5104827391"})
    assert m.s.slots["phone"] == "5104827391" and m.s.confirmed == {}


def test_yes_to_another_question_does_not_confirm_the_caller_id() -> None:
    m = _named("+14155550192")
    m.apply(AgentSpoke(text="Sorry, could you say that again?"))
    m.apply(CallerTurn(text="Yes.", affirmation=True))
    assert "phone" not in m.s.slots and _phone_question(m) == CONFIRM


def test_without_a_caller_id_the_phone_is_asked_for() -> None:
    m = _named(None)
    assert _phone_question(m) == ASK
    m.apply(AgentSpoke(text=ASK))
    m.apply(CallerTurn(text="Yes.", affirmation=True))
    assert "phone" not in m.s.slots and m.s.confirmed == {}


def test_the_caller_id_event_is_journaled_and_replays_to_the_same_state() -> None:
    m = _named("+14155550192")
    m.apply(AgentSpoke(text=CONFIRM))
    record = CallEventRecord(event=CallerIdentified(value="4155550192", spoken="415 555 0192"))
    again = CallEventRecord.model_validate_json(record.model_dump_json())
    replayed = ConversationMachine(load_flow("real_estate"))
    replayed.apply(again.event)
    replayed.apply(CallerTurn(text="Hi, I'm Dana."))
    run_tool(replayed, "save_caller_details", {"name": "Dana"})
    replayed.apply(AgentSpoke(text=CONFIRM))
    for machine in (m, replayed):
        machine.apply(CallerTurn(text="Yes.", affirmation=True))
    assert replayed.snapshot() == m.snapshot()


def test_confirm_known_must_name_a_collected_slot() -> None:
    flow = load_flow("real_estate").model_dump()
    flow["states"]["qualify"]["confirm_known"] = {"email": {"source": "caller_id", "question": "{known}?"}}
    with pytest.raises(ValueError, match="not a slot it collects"):
        FlowSpec.model_validate(flow)
