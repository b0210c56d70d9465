"""Self-corrections inside one utterance keep the last value; dates, identifiers, times and
requests for a person said the ways real callers say them."""

from __future__ import annotations

import datetime as dt

import pytest

from worker.reading.corrections import retract
from worker.reading.slots import extract
from worker.reading.turn import read_turn

TODAY = dt.date(2026, 11, 26)  # a Thursday


@pytest.mark.parametrize("text, expecting, field, value", [
    ("Tuesday, no, Thursday", "date", "date", dt.date(2026, 12, 3)),
    ("Tuesday, no sorry, Thursday", None, "date", dt.date(2026, 12, 3)),
    ("my budget is 800, sorry, 900 thousand", None, "budget", 900_000),
    ("Berkeley — actually Oakland", None, "area", "Oakland"),
    ("Berkeley, actually, Oakland", None, "area", "Oakland"),
    ("my number is 415 555 0192, sorry, 415 555 0193", None, "phone", "4155550193"),
    ("it's five one oh, four eight two, seven three nine one, sorry, five one oh, four eight two, seven three nine two",
     "phone", "phone", "5104827392"),
    ("2 pm, no, 3 pm", "time", "time", dt.time(15, 0)),
    ("my name is Dana, sorry, Diana Whitfield", "name", "name", "Diana Whitfield"),
])
def test_the_last_value_of_a_self_correction_wins(text: str, expecting: str | None, field: str, value: object) -> None:
    assert getattr(extract(text, TODAY, expecting), field) == value


@pytest.mark.parametrize("text", [
    "Oakland, no preference on bedrooms",
    "No, it's 415 555 0193",
    "no that's all, bye",
    "I'm looking in Oakland, and my budget is about 900 thousand dollars.",
])
def test_a_marker_without_a_replacement_of_the_same_kind_changes_nothing(text: str) -> None:
    from worker.reading.tokens import normalise
    assert retract(normalise(text)) == normalise(text)


def test_a_self_correction_is_not_a_no() -> None:
    assert read_turn("Tuesday, no, Thursday", TODAY).affirmation is None
    assert read_turn("No, it's Thursday", TODAY).affirmation is False


@pytest.mark.parametrize("text, expecting", [
    ("3, 12, 84", "date_of_birth"),
    ("three, twelve, eighty four", "date_of_birth"),
    ("03/12/1984", None),
    ("March twelfth, eighty-four", None),
    ("March twelfth, eighty four", "date_of_birth"),
    ("I was born 3 12 84", None),
])
def test_birth_dates_said_as_numbers_or_with_a_two_digit_year(text: str, expecting: str | None) -> None:
    assert extract(text, TODAY, expecting).date_of_birth == dt.date(1984, 3, 12)


@pytest.mark.parametrize("text", ["three, twelve, nineteen eighty-four", "3, 12, 19, 84.", "Three twelve, nineteen eighty four.",
                                  "3. 12. 19. 84."])
def test_a_birth_date_with_the_year_said_in_two_halves(text: str) -> None:
    """"nineteen eighty-four" is written "19, 84" or two number words: the year, not a day 19 read
    from the 12 on (it was December 19, 1984, a wrong date rather than none)."""
    assert extract(text, TODAY, "date_of_birth").date_of_birth == dt.date(1984, 3, 12)


@pytest.mark.parametrize("text, expected", [("12, 19, 84", dt.date(1984, 12, 19)), ("3, 12, 20, 05", dt.date(2005, 3, 12)),
                                            ("3, 12, 19, 84, 5", None), ("5, 3, 12, 84", None)])
def test_numbers_in_a_row_are_read_from_their_first(text: str, expected: dt.date | None) -> None:
    assert extract(text, TODAY, "date_of_birth").date_of_birth == expected


@pytest.mark.parametrize("text", ["July 4, 2013, 1990.", "July 4, 1900, 1990.", "July 4, 1990, 2013."])
def test_a_year_said_again_after_an_impossible_birth_year_is_the_birth_year(text: str) -> None:
    """Heard from espeak-ng's "July fourth, nineteen ninety" (bench robustness): a misheard year,
    then the year. The birth year is the one a caller can have been born in."""
    assert extract(text, TODAY, "date_of_birth").date_of_birth == dt.date(1990, 7, 4)


def test_a_second_year_is_left_alone_unless_a_birth_date_was_asked_or_the_first_could_be_one() -> None:
    assert extract("July 4, 2013, 1990.", TODAY).date_of_birth == dt.date(2013, 7, 4)
    assert extract("March 12th, 1984, 1985", TODAY, "date_of_birth").date_of_birth == dt.date(1984, 3, 12)


def test_three_numbers_are_no_date_unless_a_birth_date_was_asked() -> None:
    assert extract("3, 12, 84", TODAY).date_of_birth is None


@pytest.mark.parametrize("text", ["3. 12. 84.", "3, 12, 84.", "Three. Twelve. Eighty-four.", "It's 3. 12. 84."])
def test_a_birth_date_said_one_number_per_sentence(text: str) -> None:
    """A slow caller's "three ... twelve ... eighty-four" is written one number per sentence."""
    assert extract(text, TODAY, "date_of_birth").date_of_birth == dt.date(1984, 3, 12)


@pytest.mark.parametrize("text", ["3. 12.", "3. 12. 84, 5."])
def test_numbers_said_apart_make_a_date_only_as_exactly_three(text: str) -> None:
    assert extract(text, TODAY, "date_of_birth").date_of_birth is None


@pytest.mark.parametrize("text", ["3/12/84", "03-12-1984", "3.12.84", "03.12.1984", "It's 3/12/84."])
def test_a_date_shape_with_separators_is_never_the_policy_number(text: str) -> None:
    slots = extract(text, TODAY, "policy_number")
    assert slots.policy_number is None
    assert slots.date_of_birth == dt.date(1984, 3, 12)


def test_bare_numbers_after_a_policy_question_stay_a_policy_number() -> None:
    """Documented ambiguity: "3, 12, 84" with no separator of a date shape, after the agent asked
    for the policy number, is read as the number asked for (policies have 4-8 digits); the
    birth-date question reads the same words as a date."""
    assert extract("3, 12, 84", TODAY, "policy_number").policy_number == "POL-31284"
    assert extract("3, 12, 84", TODAY, "policy_number").date_of_birth is None


@pytest.mark.parametrize("text", ["forty-eight twenty-one", "forty eight twenty one", "48 21", "4 8 2 1"])
def test_a_four_digit_policy_number_said_in_pairs(text: str) -> None:
    assert extract(text, TODAY, "policy_number").policy_number == "POL-4821"


@pytest.mark.parametrize("text, value", [
    ("Two PM, if you have it", dt.time(14, 0)),
    ("three in the afternoon", dt.time(15, 0)),
])
def test_times_said_with_a_part_of_the_day(text: str, value: dt.time) -> None:
    assert extract(text, TODAY).time == value


@pytest.mark.parametrize("text", [
    "could I just speak with one of your realtors instead?",
    "can I talk to one of your agents",
])
def test_a_person_asked_for_in_other_words(text: str) -> None:
    assert "human" in read_turn(text, TODAY).wants


@pytest.mark.parametrize("text, goodbye", [
    ("Bye, my name is Dana Whitfield", False),
    ("Bye, it's 415 555 0192", False),
    ("No, that's all. Thanks, bye.", True),
    ("that will be all for today", True),
])
def test_a_goodbye_that_carries_content_is_no_goodbye(text: str, goodbye: bool) -> None:
    assert ("goodbye" in read_turn(text, TODAY).wants) is goodbye
