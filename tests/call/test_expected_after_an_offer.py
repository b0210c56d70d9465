"""The slot the caller's next words answer, as the decoder and the turn's end are told it, after the
agent asks for a value again in other words: "What's the right number?" and the offer of another
way ("one digit at a time, slowly?") still ask for the phone, so the answer keeps its hints and its
turn is held until all its digits are there (bench robustness: a phone said digit by digit after
the offer was decoded with no hint, "For 15555192", and cut at eight digits)."""

from __future__ import annotations

from types import SimpleNamespace

from loguru import logger

from worker.call.conversation import Conversation
from worker.call.turn_end import turn_pause
from worker.engines.whisper_digits import DIGIT_SHAPES
from worker.engines.whisper_hints import DIGIT_QUESTIONS, SLOT_PROMPTS, ExpectedAnswer, decode_hint
from worker.flow.library import load_flow
from worker.flow.machine import ConversationMachine
from worker.planner.replies import OTHER_WAY, OTHER_WAYS, ask_again


def _call(flow: str = "real_estate") -> SimpleNamespace:
    """What `Conversation._on_item` touches for the expected answer, without a session."""
    machine = ConversationMachine(load_flow(flow))
    call = SimpleNamespace(machine=machine, expected=ExpectedAnswer(), _planned="", log=logger, _closing=False,
                           ledger=SimpleNamespace(apply=lambda *a, **k: None, state_entered_at=0.0),
                           trace=SimpleNamespace(on_agent_message=lambda item: None))
    call._slot_asked = lambda text: Conversation._slot_asked(call, text)  # type: ignore[arg-type]
    call._slot_expected = lambda heard, cut: Conversation._slot_expected(call, heard, cut)  # type: ignore[arg-type]
    call._slot_repaired = lambda text, offer: Conversation._slot_repaired(call, text, offer)  # type: ignore[arg-type]
    return call


def _agent_says(call: SimpleNamespace, text: str) -> None:
    call._planned = text
    Conversation._on_item(call, SimpleNamespace(item=SimpleNamespace(  # type: ignore[arg-type]
        type="message", role="assistant", text_content=text, interrupted=False, metrics={})))


def test_asked_for_the_right_number_the_answer_is_a_phone() -> None:
    call = _call()
    _agent_says(call, ask_again("phone"))
    assert call.expected.slot == "phone"


def test_the_offer_of_another_way_keeps_the_value_being_read_back() -> None:
    call = _call()
    call.machine.s.slots["phone"] = "4155554192"  # heard, read back, turned down twice
    _agent_says(call, "Got it. I have 4 1 5, 5 5 5, 4 1 9 2. Is that right?")
    assert call.expected.slot == "phone_read_back"  # a yes, or a correction of its digits
    _agent_says(call, "Is there anything else I can help you with?")
    assert call.expected.slot is None
    _agent_says(call, OTHER_WAY)
    assert call.expected.slot == "phone"


def test_the_offer_keeps_the_slot_asked_before_it_when_nothing_is_read_back() -> None:
    call = _call()
    _agent_says(call, "Which time works for you, 10 AM or 2 PM?")
    _agent_says(call, OTHER_WAYS["words"])
    assert call.expected.slot == "time"
    assert call.expected.prompt is not None  # the offer it follows stays the decoder's prompt


def test_a_name_read_back_is_not_decoded_as_digits() -> None:
    call = _call()
    call.machine.s.slots["name"] = "Carlos Manns"
    call.machine.s.last_caller_confidence = 0.4
    _agent_says(call, "Thanks, Carlos. I have your name as Carlos Manns. Is that right?")
    assert call.expected.slot not in DIGIT_QUESTIONS  # ("name": its words name it)


def test_an_offer_that_names_its_own_answer_is_asked_for_that() -> None:
    call = _call()
    call.machine.s.slots["phone"] = "4155554192"
    _agent_says(call, OTHER_WAYS["spell"])  # a name spelled: not the phone being read back
    assert call.expected.slot == "spelling_words" and SLOT_PROMPTS["spelling_words"]
    _agent_says(call, "Is there anything else I can help you with?")
    assert call.expected.slot is None


def test_a_read_back_answer_has_the_phones_example_but_no_digit_count() -> None:
    # review: with the phone's count, "No, the 4 should be a 9." waited the VAD's long silence
    # (+0.8 s), and a part of the number would be searched for a ten-digit decode
    slot = "phone_read_back"
    assert slot in DIGIT_QUESTIONS and decode_hint(slot) == SLOT_PROMPTS["phone"]
    assert slot not in DIGIT_SHAPES
    for answer in ("Yes, that's right.", "No, the 4 should be a 9.", "No, it ends in 92.", "No, the last part is 0192."):
        assert turn_pause(answer, slot) == turn_pause(answer, None), answer
    assert turn_pause("No, the 4 should be a 9.", "phone") is None  # the phone's own question waits for ten
