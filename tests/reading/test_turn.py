"""The turn reading: what the state machine gets from a caller's words, and slots per question.

Rules decide first and the MiniLM intent fills in paraphrases the rules miss; the machine's
event (`read_caller_turn`) carries yes/no and wishes. Slots are read as an answer to the
question the agent asked, once per question that changes them.
"""

from __future__ import annotations

import ast
import inspect

import pytest

from tests.support.dates import SLOTS_TODAY as TODAY
from worker.flow.machine import CallerTurn
from worker.reading import choices, dates, identifiers, money, names, places, times
from worker.reading.context import ANSWERABLE
from worker.reading.slots import extract
from worker.reading.turn import read_caller_turn, read_turn


@pytest.mark.parametrize(("text", "affirmation", "wants"), [
    ("yes go ahead", True, []),
    ("no, that is not right", False, []),
    ("okay, that sounds good", True, []),
    ("can I talk to a real person", None, ["human"]),
    ("no that's all, bye", False, ["goodbye"]),
    ("bye, just get me a human", None, ["human"]),  # a person outranks goodbye
    ("yes I do", True, []),
    # "So the last part is oh one nine two." misheard (espeak-ng, bench robustness): "I do" is
    # no yes, and a partial correction says no without the word
    ("So the last part is what I do.", False, []),
    ("the last four should be 0192", False, []),
    ("", None, []),
])
def test_the_machine_gets_yes_no_and_wishes(text: str, affirmation: bool | None, wants: list[str]) -> None:
    assert read_caller_turn(text, TODAY) == CallerTurn(text=text, affirmation=affirmation, wants=wants)


@pytest.mark.parametrize(("text", "wish"), [
    ("can someone from your office give me a call back", "human"),
    ("have a manager call me please", "human"),
    ("that will be everything for today", "goodbye"),
])
def test_paraphrases_the_rules_miss_are_caught_by_meaning(text: str, wish: str) -> None:
    said = extract(text, TODAY)
    assert not said.wants_human and not said.goodbye, "the rules alone would miss it"
    reading = read_turn(text, TODAY)
    assert reading.intent == wish and reading.intent_score >= 0.62
    assert reading.wants == (wish,)


def test_an_affirm_intent_fills_in_when_the_rules_hear_no_yes_or_no() -> None:
    text = "sounds fine to me, do that"
    assert extract(text, TODAY).affirmation is None
    assert read_caller_turn(text, TODAY).affirmation is True


def test_slots_are_read_as_the_answer_to_the_question_asked() -> None:
    reading = read_turn("Dana Whitfield.", TODAY)
    assert reading.slots().name is None, "a bare name means nothing out of context"
    assert reading.slots("name").name == "Dana Whitfield"
    assert reading.slots("name") is reading.slots("name"), "read once per question"


def test_a_question_that_licenses_no_bare_answer_shares_the_context_free_reading() -> None:
    reading = read_turn("Oakland, budget 900 thousand", TODAY)
    assert reading.slots("area") is reading.slots(None) is reading.slots("email")
    assert reading.slots("area").area == "Oakland" and reading.slots("area").budget == 900_000


def test_the_same_words_on_another_day_are_another_reading() -> None:
    later = TODAY.replace(day=TODAY.day + 1)
    assert read_turn("tomorrow", TODAY).slots().date != read_turn("tomorrow", later).slots().date


def test_answerable_lists_every_question_an_extractor_asks_about() -> None:
    asked: set[str] = set()
    for module in (choices, dates, identifiers, money, names, places, times):
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "expects":
                asked.update(arg.value for arg in node.args if isinstance(arg, ast.Constant))
    assert asked == ANSWERABLE
