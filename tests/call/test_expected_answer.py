"""Which slot the agent's words ask for: what the call hands its recognition stream so the
decoder can expect a phone number after the phone question (docs/recognition.md)."""

from __future__ import annotations

from types import SimpleNamespace

from tests.flow.test_machine import run_tool
from worker.call.conversation import Conversation
from worker.flow.library import load_flow
from worker.flow.machine import CallerTurn, ConversationMachine


def _asked(machine: ConversationMachine, agent_text: str) -> str | None:
    return Conversation._slot_asked(SimpleNamespace(machine=machine, flow=machine.flow), agent_text)  # type: ignore[arg-type]


def test_the_flows_own_question_names_the_slot() -> None:
    m = ConversationMachine(load_flow("real_estate"))
    m.apply(CallerTurn(text="Hi, I'm Dana."))
    run_tool(m, "save_caller_details", {"name": "Dana"})
    question = m.directive()["missing"][0]["question"]
    assert _asked(m, f"Thanks, Dana. {question}") == "phone"
    assert _asked(m, "Which area are you looking in?") == "area"  # no keyword for it: the flow's question


def test_other_questions_by_their_words_and_statements_by_nothing() -> None:
    m = ConversationMachine(load_flow("insurance"))
    assert _asked(m, "Could you read me your policy number?") == "policy_number"
    assert _asked(m, "Thanks, I have your policy number.") is None


def _expected(machine: ConversationMachine, planned: str, heard: str, interrupted: bool) -> str | None:
    conv = SimpleNamespace(machine=machine, flow=machine.flow, _planned=planned)
    conv._slot_asked = lambda text: Conversation._slot_asked(conv, text)  # type: ignore[arg-type]
    return Conversation._slot_expected(conv, heard, interrupted)  # type: ignore[arg-type]


def test_a_question_the_caller_cut_is_still_expected() -> None:
    """She cut "... Which card would you like to pay with?" at "Which" and reads her card out:
    the recogniser still expects a card number (numeric decoding)."""
    m = ConversationMachine(load_flow("insurance"))
    planned = "Your renewal premium is $1,284.00 for the next year. Which card would you like to pay with?"
    assert _expected(m, planned, "Your renewal premium is $1,284.00 for the next year. Which", True) == "card_number"
    assert _expected(m, planned, "Your renewal premium is $1,284.00 for the next year.", False) is None
    assert _expected(m, planned, "Could you read me your policy number?", True) == "policy_number"  # heard wins
