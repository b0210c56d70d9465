"""Misheard digit words in answers to a digit question ("five" heard as "fine"), and
"double" before a written group ("double 614"): what Whisper writes for espeak-ng and flite
callers (issue 10), read back into the digits the caller said."""

from __future__ import annotations

import datetime as dt

import pytest

from worker.reading.slots import extract

TODAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("heard", "expecting", "field", "value"),
    [
        ("My number is 415, fine fine fine, 4192", "phone", "phone", "4155554192"),
        ("for one five 555 0192", "phone", "phone", "4155550192"),
        ("It's 408 double 614 double 61", "phone", "phone", "4086614661"),
        ("5105-W5-W7-W0.", "phone", "phone", "5105557700"),
        ("510 owe 12 to 456", "phone", "phone", "5100122456"),
        ("policy for eight to one", "policy_number", "policy_number", "POL-4821"),
        ("4242 4242 4242 fore 242", "card_number", "card_number", "4242424242424242"),
    ],
)
def test_misheard_digits_read_as_digits_when_a_number_was_asked(
    heard: str, expecting: str, field: str, value: str
) -> None:
    assert getattr(extract(heard, TODAY, expecting=expecting), field) == value


@pytest.mark.parametrize(
    ("heard", "expecting"),
    [
        ("I'm fine, thanks", "phone"),  # no digit beside "fine"
        ("For the tour, 415 555", "phone"),  # "for" far from a full number: nine digits at most
        ("Fine, 415 555 019", None),  # no digit question: homophones stay words
    ],
)
def test_homophones_stay_words_without_digits_around_or_without_a_digit_question(
    heard: str, expecting: str | None
) -> None:
    assert extract(heard, TODAY, expecting=expecting).phone is None


def test_homophone_is_read_only_for_digit_questions() -> None:
    heard = "four one fine 555 0192"
    assert extract(heard, TODAY, expecting="phone").phone == "4155550192"
    assert extract(heard, TODAY, expecting="name").phone is None


def test_double_before_a_written_group_doubles_its_first_digit() -> None:
    assert extract("It's 408 double 614 double 61", TODAY).phone == "4086614661"
    assert extract("double 0 seven", TODAY, expecting="policy_number").policy_number is None  # 3 digits


def test_a_misheard_hour_before_a_clock_word_after_what_time() -> None:
    assert extract("Free in the afternoon if you have it.", TODAY, expecting="time").time == dt.time(15, 0)
    assert extract("to pm", TODAY, expecting="time").time == dt.time(14, 0)
    assert extract("Free in the afternoon if you have it.", TODAY).time is None  # no time question


@pytest.mark.parametrize("said", ["To win the afternoon, please.", "To admit afternoon, please.",
                                  "two win the afternoon, please"])
def test_a_misheard_in_the_afternoon_after_which_time(said: str) -> None:
    # espeak-ng en-gb's "Two in the afternoon, please." (bench robustness): "in the" misheard
    assert extract(said, TODAY, expecting="time").time == dt.time(14, 0)
    assert extract(said, TODAY).time is None  # no time question: no time


@pytest.mark.parametrize("said", ["I'd like to come in the afternoon.", "I want to see it in the afternoon."])
def test_to_before_other_words_and_the_afternoon_is_no_hour(said: str) -> None:
    assert extract(said, TODAY, expecting="time").time is None


@pytest.mark.parametrize(("said", "value"), [("1130, please.", dt.time(11, 30)), ("How about 430?", dt.time(16, 30)),
                                             ("The 1245. Please.", dt.time(12, 45))])
def test_an_hour_and_minutes_written_as_one_number_after_which_time(said: str, value: dt.time) -> None:
    # Whisper writes "eleven thirty" and "four thirty" as 1130 and 430 (bench hearing, five voices)
    assert extract(said, TODAY, expecting="time").time == value
    assert extract(said, TODAY).time is None  # no time question: a number
    assert extract("My budget is 900.", TODAY, expecting="time").time is None  # nine hundred, no minutes
