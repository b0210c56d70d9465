"""Slot extraction from Whisper-style transcripts: table-driven cases plus fuzzing.

The cases are written the way Whisper tiny.en renders Piper speech: digits or number
words, stray casing and punctuation, "oh" for zero, hyphens and commas inside numbers,
and misspelled place names. TODAY is a Thursday so weekday arithmetic is visible.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.support.dates import SLOTS_TODAY as TODAY
from tools.cards import luhn_ok
from worker.reading.numbers import digits_from_speech, parse_spoken_number
from worker.reading.names import spelled_word
from worker.reading.slots import Slots, extract
from worker.reading.tokens import read_words

D = dt.date
T = dt.time
VISA = "4242424242424242"

# (text, expecting, field, expected value)
CASES: list[tuple[str, str | None, str, Any]] = [
    # ---------------------------------------------------------------- name
    ("My name is Dana Whitfield.", None, "name", "Dana Whitfield"),
    ("my name is dana whitfield", None, "name", "Dana Whitfield"),
    ("Hi, this is Dana Whitfield calling about a house.", None, "name", "Dana Whitfield"),
    ("It's Dana.", None, "name", "Dana"),
    ("I'm Dana Whitfield and I'm looking for a home.", None, "name", "Dana Whitfield"),
    ("Call me Dana.", None, "name", "Dana"),
    ("My name is Sean O'Brien.", None, "name", "Sean O'Brien"),
    ("This is Mary-Jane Watson.", None, "name", "Mary-Jane Watson"),
    ("MY NAME IS DANA WHITFIELD", None, "name", "Dana Whitfield"),
    ("Dana Whitfield.", "name", "name", "Dana Whitfield"),
    ("dana whitfield", "name", "name", "Dana Whitfield"),
    ("Yeah, Dana Whitfield.", "name", "name", "Dana Whitfield"),
    ("Sure, it's Dana Whitfield.", "name", "name", "Dana Whitfield"),
    ("Dana.", "name", "name", "Dana"),
    ("I'm looking for a house in Oakland.", None, "name", None),
    ("I'm interested in the listing on Maple.", None, "name", None),
    ("I'm calling about my policy.", None, "name", None),
    ("This is great, thanks.", None, "name", None),
    ("It's 415-555-0123.", None, "name", None),
    ("It's Oakland.", None, "name", None),
    ("The house is nice, it's expensive though.", None, "name", None),
    ("I'm pre-approved.", None, "name", None),
    ("Yes, I'm Dana.", None, "name", "Dana"),
    ("Hi, thanks for calling, this is Dana Whitfield.", None, "name", "Dana Whitfield"),
    ("This is Dana's phone.", None, "name", None),
    ("Whitfield. Dana Whitfield.", "name", "name", "Dana Whitfield"),
    ("Dana, Dana Whitfield", "name", "name", "Dana Whitfield"),
    ("Uh, yeah, it's Dana Whitfield, D-A-N-A.", "name", "name", "Dana Whitfield"),
    ("looking", "name", "name", None),
    ("I want to buy a house in Berkeley.", "name", "name", None),
    ("Dana Whitfield.", None, "name", None),
    # ---------------------------------------------------------------- phone
    ("415-555-0123", None, "phone", "4155550123"),
    ("My number is (415) 555-0123.", None, "phone", "4155550123"),
    ("4155550123", None, "phone", "4155550123"),
    ("four one five five five five zero one two three", None, "phone", "4155550123"),
    ("Four one five, five five five, oh one two three.", None, "phone", "4155550123"),
    ("four fifteen, five fifty five, oh one twenty three", None, "phone", "4155550123"),
    ("1-415-555-0123", None, "phone", "4155550123"),
    ("+1 415 555 0123", None, "phone", "4155550123"),
    ("415.555.0123", None, "phone", "4155550123"),
    ("415, 555, 0123", None, "phone", "4155550123"),
    ("four one five five double five oh one two three", None, "phone", "4155550123"),
    ("It's 510 555 0142 and I want 3 bedrooms", None, "phone", "5105550142"),
    ("Four one five. Five five five. Oh one two three.", "phone", "phone", "4155550123"),
    ("415 555 012", None, "phone", None),
    ("call me at 555 0123", None, "phone", None),
    ("4242 4242 4242 4242", None, "phone", None),
    # ---------------------------------------------------------------- email
    ("dana@example.com", None, "email", "dana@example.com"),
    ("My email is Dana.Whitfield@Example.com.", None, "email", "dana.whitfield@example.com"),
    ("dana at example dot com", None, "email", "dana@example.com"),
    ("It's dana dot whitfield at gmail dot com.", None, "email", "dana.whitfield@gmail.com"),
    ("d.whitfield at gmail.com", None, "email", "d.whitfield@gmail.com"),
    ("email me at dana at example dot com", None, "email", "dana@example.com"),
    ("I'm looking at a house", None, "email", None),
    # ---------------------------------------------------------------- budget
    ("My budget is $450,000.", None, "budget", 450_000),
    ("Up to 900 thousand.", None, "budget", 900_000),
    ("budget is $1.2 million", None, "budget", 1_200_000),
    ("Something under 800k.", None, "budget", 800_000),
    ("four hundred fifty thousand dollars", None, "budget", 450_000),
    ("around one point two million", None, "budget", 1_200_000),
    ("somewhere between 800 thousand and 1.2 million", None, "budget", 1_200_000),
    ("nine hundred thousand", "budget", "budget", 900_000),
    ("900,000.", "budget", "budget", 900_000),
    ("About 950K.", None, "budget", 950_000),
    ("a million dollars", None, "budget", 1_000_000),
    ("1 million 200 thousand", "budget", "budget", 1_200_000),
    ("Maybe 750 grand.", None, "budget", 750_000),
    ("I have 3 kids.", None, "budget", None),
    ("415-555-0123", None, "budget", None),
    ("$1,284", None, "budget", None),
    # ---------------------------------------------------------------- area
    ("Oakland", None, "area", "Oakland"),
    ("Somewhere in Alamida.", None, "area", "Alameda"),
    ("berkley please", None, "area", "Berkeley"),
    ("San Hose", None, "area", "San Jose"),
    ("palo alto", None, "area", "Palo Alto"),
    ("Freemont or Oakland", None, "area", "Fremont"),
    ("somewhere in oak land", None, "area", "Oakland"),
    ("I like Hayward", None, "area", None),
    ("in the East Bay", None, "area", None),
    # ---------------------------------------------------------------- bedrooms
    ("three bedrooms", None, "bedrooms", 3),
    ("3 bed", None, "bedrooms", 3),
    ("a 2 bedroom in Oakland", None, "bedrooms", 2),
    ("a two-bedroom condo", None, "bedrooms", 2),
    ("3br", None, "bedrooms", 3),
    ("at least four bedrooms", None, "bedrooms", 4),
    ("a studio", None, "bedrooms", 0),
    ("three or four bedrooms", None, "bedrooms", 3),
    ("3-4 beds", None, "bedrooms", 3),
    ("three", "bedrooms", "bedrooms", 3),
    ("I have 3 kids.", None, "bedrooms", None),
    # ---------------------------------------------------------------- date (TODAY is Thu 2025-11-20)
    ("tomorrow", None, "date", D(2025, 11, 21)),
    ("today works", None, "date", D(2025, 11, 20)),
    ("This Saturday.", None, "date", D(2025, 11, 22)),
    ("on Friday", None, "date", D(2025, 11, 21)),
    ("Thursday", None, "date", D(2025, 11, 27)),
    ("next Monday", None, "date", D(2025, 11, 24)),
    ("November 28th", None, "date", D(2025, 11, 28)),
    ("November twenty eighth", None, "date", D(2025, 11, 28)),
    ("How about the 28th?", None, "date", D(2025, 11, 28)),
    ("how about the twenty-eighth", None, "date", D(2025, 11, 28)),
    ("on the 5th", None, "date", D(2025, 12, 5)),
    ("11/28", None, "date", D(2025, 11, 28)),
    ("11/2", None, "date", D(2026, 11, 2)),
    ("January 3rd", None, "date", D(2026, 1, 3)),
    ("Dec 1st", None, "date", D(2025, 12, 1)),
    ("the day after tomorrow", None, "date", D(2025, 11, 22)),
    ("Saturday the 29th", None, "date", D(2025, 11, 29)),
    ("the second", "date", "date", D(2025, 12, 2)),
    ("the second one", None, "date", None),
    ("the 28", "date", "date", D(2025, 11, 28)),
    ("Nov. 28", None, "date", D(2025, 11, 28)),
    ("the 28th of November", None, "date", D(2025, 11, 28)),
    ("March 3rd 1985", None, "date", None),
    # ---------------------------------------------------------------- time
    ("2 pm", None, "time", T(14, 0)),
    ("2pm", None, "time", T(14, 0)),
    # the "m" of "AM"/"PM" lost, the letter glued to the number (bench robustness, espeak-ng)
    ("11a and works for me.", "time", "time", T(11, 0)),
    ("2p dim", None, "time", T(14, 0)),
    ("Tomorrow at 4p please", None, "time", T(16, 0)),
    ("4 p.n works for me.", "time", "time", T(16, 0)),  # the m of "PM" heard as n
    ("4p n works for me", "time", "time", T(16, 0)),
    ("2 BM works for me.", "time", "time", T(14, 0)),  # the p heard as b
    ("2 pn works for me.", "time", "time", T(14, 0)),
    ("I have 2 a week", None, "time", None),
    ("2:30 in the afternoon", None, "time", T(14, 30)),
    ("at two", None, "time", T(14, 0)),
    ("10 a.m.", None, "time", T(10, 0)),
    ("Noon.", None, "time", T(12, 0)),
    ("two o'clock", None, "time", T(14, 0)),
    ("at 10", None, "time", T(10, 0)),
    ("At 2:30 PM.", None, "time", T(14, 30)),
    ("two thirty pm", None, "time", T(14, 30)),
    ("at four fifteen", None, "time", T(16, 15)),
    ("at two oh five", None, "time", T(14, 5)),
    ("half past three", None, "time", T(15, 30)),
    ("quarter to four", None, "time", T(15, 45)),
    ("nine in the morning", None, "time", T(9, 0)),
    ("at 8 in the evening", None, "time", T(20, 0)),
    ("12 am", None, "time", T(0, 0)),
    ("at 7", None, "time", T(7, 0)),
    ("14:00", None, "time", T(14, 0)),
    ("two thirty", "time", "time", T(14, 30)),
    ("3", "time", "time", T(15, 0)),
    ("tomorrow afternoon at 3", None, "time", T(15, 0)),
    ("Saturday at 11.", None, "time", T(11, 0)),
    ("Good morning, can I see it at 2?", None, "time", T(14, 0)),
    ("Tomorrow morning at 10.", None, "time", T(10, 0)),
    ("at 7 in the evening", None, "time", T(19, 0)),
    ("10.30 a.m.", None, "time", T(10, 30)),
    ("How about 3 o'clock?", None, "time", T(15, 0)),
    ("I'm looking at two houses.", None, "time", None),
    ("three bedrooms", None, "time", None),
    ("at 1234 Maple Street", None, "time", None),
    ("415-555-0123", None, "time", None),
    # ---------------------------------------------------------------- ordinal choice (1-based, -1 = last)
    ("The first one.", None, "ordinal_choice", 1),
    ("second", None, "ordinal_choice", 2),
    ("the last one", None, "ordinal_choice", -1),
    ("number two", None, "ordinal_choice", 2),
    ("Option 3.", None, "ordinal_choice", 3),
    ("I'll take the third.", None, "ordinal_choice", 3),
    ("the 2nd one", None, "ordinal_choice", 2),
    ("the second to last", None, "ordinal_choice", -2),
    ("let's go with option two", None, "ordinal_choice", 2),
    ("two", "ordinal_choice", "ordinal_choice", 2),
    ("wait a second", None, "ordinal_choice", None),
    ("my first name is Dana", None, "ordinal_choice", None),
    ("first time buyer", None, "ordinal_choice", None),
    ("my number is 415 555 0123", None, "ordinal_choice", None),
    # ---------------------------------------------------------------- address
    ("1234 Maple Street", None, "address", "1234 Maple Street"),
    ("12 Oak Ave", None, "address", "12 Oak Ave"),
    ("12 oak ave.", None, "address", "12 Oak Ave"),
    ("I live at 45 West Elm Road.", None, "address", "45 West Elm Road"),
    ("twelve thirty four maple street", None, "address", "1234 Maple Street"),
    ("123 5th Avenue", None, "address", "123 5th Avenue"),
    ("1234 Broadway", "address", "address", "1234 Broadway"),
    ("3 bedrooms by the way", None, "address", None),
    # ---------------------------------------------------------------- amount
    ("$1,284", None, "amount_cents", 128_400),
    ("1284 dollars", None, "amount_cents", 128_400),
    ("one thousand two hundred eighty four dollars", None, "amount_cents", 128_400),
    ("twelve eighty four", "amount", "amount_cents", 128_400),
    ("twelve eighty four", None, "amount_cents", None),
    ("$1,284.50", None, "amount_cents", 128_450),
    ("1284 dollars and 50 cents", None, "amount_cents", 128_450),
    ("1,284", "amount", "amount_cents", 128_400),
    ("twelve hundred and eighty four dollars", None, "amount_cents", 128_400),
    # ---------------------------------------------------------------- policy number
    ("policy number P O L 4821", None, "policy_number", "POL-4821"),
    ("pol-4821", None, "policy_number", "POL-4821"),
    ("P-O-L 4 8 2 1", None, "policy_number", "POL-4821"),
    ("Policy 4821.", None, "policy_number", "POL-4821"),
    ("polly 4821", None, "policy_number", "POL-4821"),
    ("POL4821", None, "policy_number", "POL-4821"),
    ("My policy number is four eight two one.", None, "policy_number", "POL-4821"),
    ("P.O.L. 4821", None, "policy_number", "POL-4821"),
    ("POL dash 4821", None, "policy_number", "POL-4821"),
    ("It's P-O-L, forty eight twenty one.", None, "policy_number", "POL-4821"),
    ("4821", "policy_number", "policy_number", "POL-4821"),
    ("Four. Eight. Two. One.", "policy_number", "policy_number", "POL-4821"),  # one digit at a time
    ("4. 8. 2. 1.", "policy_number", "policy_number", "POL-4821"),
    ("Four. Eight. Two. One.", None, "policy_number", None),
    ("I have 4821 reasons", None, "policy_number", None),
    # a date said when the policy number was asked for is a date, not policy 121984 / 1984
    ("March 12 1984", "policy_number", "policy_number", None),
    ("March 12 1984", "policy_number", "date_of_birth", D(1984, 3, 12)),
    ("12 March 1984", "policy_number", "policy_number", None),
    ("the twelfth of March, 1984", "policy_number", "policy_number", None),
    ("03/12/1984", "policy_number", "policy_number", None),
    ("May 4821", "policy_number", "policy_number", "POL-4821"),  # not a day, not a year
    ("12 March 1984", None, "date_of_birth", D(1984, 3, 12)),  # the day in digits before the month
    ("28 November please", None, "date", D(2025, 11, 28)),
    ("2 may", None, "date", None),  # "may" is a month only with a year after it
    # ---------------------------------------------------------------- date of birth
    ("March 3rd 1985", None, "date_of_birth", D(1985, 3, 3)),
    ("3/3/1985", None, "date_of_birth", D(1985, 3, 3)),
    ("I was born on the third of March, 1985.", None, "date_of_birth", D(1985, 3, 3)),
    ("March 3, 1985", None, "date_of_birth", D(1985, 3, 3)),
    ("march third nineteen eighty five", None, "date_of_birth", D(1985, 3, 3)),
    ("03/03/85", None, "date_of_birth", D(1985, 3, 3)),
    ("1985-03-03", None, "date_of_birth", D(1985, 3, 3)),
    ("the third of march nineteen eighty five", "date_of_birth", "date_of_birth", D(1985, 3, 3)),
    ("March twenty third, two thousand one", None, "date_of_birth", D(2001, 3, 23)),
    ("November 28th, 2025", None, "date_of_birth", None),
    ("November 28th, 2025", None, "date", D(2025, 11, 28)),
    ("March 3rd", "date_of_birth", "date_of_birth", None),
    # ---------------------------------------------------------------- card number
    ("4242 4242 4242 4242", None, "card_number", "4242424242424242"),
    ("4111-1111-1111-1111", None, "card_number", "4111111111111111"),
    ("four two four two, four two four two, four two four two, four two four two", None, "card_number", VISA),
    ("forty two forty two forty two forty two forty two forty two forty two forty two", None, "card_number", VISA),
    ("378282246310005", None, "card_number", "378282246310005"),
    ("4242 4242 4242 4241", None, "card_number", None),
    ("415-555-0123", None, "card_number", None),
    # ---------------------------------------------------------------- affirmation
    ("Yes.", None, "affirmation", True),
    ("Yes, not right.", None, "affirmation", None),  # yes and no at once: a misheard "that's"
    ("Yes, that's not right.", None, "affirmation", False),
    ("Yeah, that's right.", None, "affirmation", True),
    ("yep", None, "affirmation", True),
    ("Sure.", None, "affirmation", True),
    ("correct", None, "affirmation", True),
    ("Go ahead.", None, "affirmation", True),
    ("please do", None, "affirmation", True),
    ("Sounds good!", None, "affirmation", True),
    ("I confirm.", None, "affirmation", True),
    ("No.", None, "affirmation", False),
    ("nope", None, "affirmation", False),
    ("Don't.", None, "affirmation", False),
    ("Cancel that.", None, "affirmation", False),
    ("That's not right.", None, "affirmation", False),
    ("No, that's not right.", None, "affirmation", False),
    ("Wait.", None, "affirmation", False),
    ("Yes, but wait.", None, "affirmation", False),
    ("Hmm, let me think.", None, "affirmation", None),
    ("I'm not sure.", None, "affirmation", None),
    ("no more than 900k", None, "affirmation", None),
    ("yesterday", None, "affirmation", None),
    # ---------------------------------------------------------------- wants_human
    ("Can I talk to a person?", None, "wants_human", True),
    ("I want to speak with a human.", None, "wants_human", True),
    ("Let me talk to an agent.", None, "wants_human", True),
    ("Representative, please.", None, "wants_human", True),
    ("operator", None, "wants_human", True),
    ("can you get me someone", None, "wants_human", True),
    ("connect me to a real person", None, "wants_human", True),
    ("I don't need to talk to a person.", None, "wants_human", False),
    ("I'm looking for a house.", None, "wants_human", False),
    # ---------------------------------------------------------------- goodbye
    ("Bye.", None, "goodbye", True),
    ("That's all.", None, "goodbye", True),
    ("That's it, thanks.", None, "goodbye", True),
    ("No, nothing else.", None, "goodbye", True),
    ("Thanks, bye!", None, "goodbye", True),
    ("Goodbye.", None, "goodbye", True),
    ("I'd like to buy a home.", None, "goodbye", False),
    ("Yes please.", None, "goodbye", False),
]


@pytest.mark.parametrize(
    ("text", "expecting", "slot", "expected"), CASES, ids=[f"{c[2]}:{c[0][:40]}|{c[1]}" for c in CASES]
)
def test_extract_table(text: str, expecting: str | None, slot: str, expected: Any) -> None:
    assert getattr(extract(text, TODAY, expecting=expecting), slot) == expected


# ---------------------------------------------------------------- whole utterances


@pytest.mark.parametrize("text, expecting", [
    ("I have 2 March dates", None), ("I have 2 March dates", "date"), ("I need 3 March times", None),
    ("2 March things to ask", None), ("Can I see 4 June listings?", "date"),
])
def test_a_day_before_a_month_then_a_noun_counts_things(text: str, expecting: str | None) -> None:
    """"2 March dates" counts things named for a month; it is no date (the day-before-month rule)."""
    assert extract(text, TODAY, expecting=expecting).date is None


@pytest.mark.parametrize("text, expected", [
    ("28 November", D(2025, 11, 28)), ("28 November.", D(2025, 11, 28)), ("28 November at 2 pm", D(2025, 11, 28)),
    ("28 November works for me", D(2025, 11, 28)), ("28 November, in the morning", D(2025, 11, 28)),
    ("28th November dates", D(2025, 11, 28)),  # an ordinal is a date whatever follows
])
def test_a_day_before_a_month_that_ends_the_phrase_is_a_date(text: str, expected: dt.date) -> None:
    assert extract(text, TODAY).date == expected


def test_full_real_estate_utterance_fills_several_slots_without_crosstalk() -> None:
    s = extract(
        "Hi, this is Dana Whitfield. I'm looking for a 3 bedroom in Alamida under $900k, "
        "my number is 415-555-0123.",
        TODAY,
    )
    assert (s.name, s.bedrooms, s.area, s.budget, s.phone) == ("Dana Whitfield", 3, "Alameda", 900_000, "4155550123")
    assert s.time is None and s.date is None and s.card_number is None and s.ordinal_choice is None


def test_full_insurance_utterance() -> None:
    s = extract("POL-4821, March 3 1985", TODAY)
    assert s.policy_number == "POL-4821"
    assert s.date_of_birth == D(1985, 3, 3)
    assert s.date is None


def test_tour_request_has_date_time_and_choice() -> None:
    s = extract("The second one, this Saturday at 2:30 please.", TODAY)
    assert (s.ordinal_choice, s.date, s.time) == (2, D(2025, 11, 22), T(14, 30))


def test_address_is_not_also_a_time_or_budget() -> None:
    s = extract("Can we meet at 1234 Maple Street on the 28th at two?", TODAY)
    assert (s.address, s.date, s.time, s.budget) == ("1234 Maple Street", D(2025, 11, 28), T(14, 0), None)


def test_card_is_not_a_phone_or_amount() -> None:
    s = extract("My card is 4242 4242 4242 4242.", TODAY)
    assert (s.card_number, s.phone, s.amount_cents, s.budget) == ("4242424242424242", None, None, None)


def test_custom_known_areas() -> None:
    s = extract("castro vally maybe", TODAY, known_areas=["Hayward", "Castro Valley"])
    assert s.area == "Castro Valley"
    assert extract("Oakland", TODAY, known_areas=["Hayward"]).area is None


def test_bare_answers_need_the_question() -> None:
    # Without being asked, "nine hundred thousand" is just a number, "two" is not a time.
    s = extract("two", TODAY)
    assert (s.time, s.ordinal_choice, s.bedrooms, s.budget) == (None, None, None, None)


def test_defaults_are_empty() -> None:
    s = extract("", TODAY)
    assert s == Slots()
    assert s.wants_human is False and s.goodbye is False and s.affirmation is None


def test_slots_model_is_frozen_and_strict() -> None:
    s = extract("yes", TODAY)
    with pytest.raises(ValidationError):
        s.affirmation = False  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Slots(unknown="x")  # type: ignore[call-arg]


def test_relative_dates_follow_the_reference_day() -> None:
    assert extract("tomorrow", D(2024, 12, 31)).date == D(2025, 1, 1)
    assert extract("Saturday", D(2025, 11, 22)).date == D(2025, 11, 29)  # strictly after
    assert extract("the 31st", D(2025, 11, 20)).date == D(2025, 12, 31)  # November has 30 days


def test_extreme_reference_days_do_not_overflow() -> None:
    assert extract("tomorrow", dt.date.max).date is None
    assert extract("November 28th on Saturday", dt.date.max) is not None
    assert extract("in 3 days, 3/3/85", dt.date.min) is not None


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("415", 415),
        ("four one five", 415),
        ("four fifteen", 415),
        ("$450,000", 450_000),
        ("450 thousand", 450_000),
        ("four hundred fifty thousand dollars", 450_000),
        ("450k", 450_000),
        ("1.2 million", 1_200_000),
        ("one point two million", 1_200_000),
        ("twelve eighty four", 1284),
        ("twelve hundred and eighty four", 1284),
        ("nineteen eighty five", 1985),
        ("two thousand twenty four", 2024),
        ("twenty twenty four", 2024),
        ("a hundred", 100),
        ("one hundred and five", 105),
        ("zero", 0),
        ("twelve oh five", 1205),
        ("hello", None),
        ("", None),
        ("12.5", None),
        ("five apples", None),
        ("four hundred fifty thousand six hundred", 450_600),
    ],
)
def test_parse_spoken_number(text: str, expected: int | None) -> None:
    assert parse_spoken_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("four one five five five five oh one two three", "4155550123"),
        ("415-555-0123", "4155550123"),
        ("(415) 555-0123", "4155550123"),
        ("double five", "55"),
        ("triple seven", "777"),
        ("double oh seven", "007"),
        ("eight hundred", "800"),
        ("four fifteen, five fifty five", "415555"),
        ("my number is four one five", "415"),
        ("oh, hello", ""),
        ("", ""),
    ],
)
def test_digits_from_speech(text: str, expected: str) -> None:
    assert digits_from_speech(text) == expected


@pytest.mark.parametrize(
    ("digits", "ok"),
    [("4242424242424242", True), ("4242424242424241", False), ("378282246310005", True), ("", False), ("abc", False)],
)
def test_luhn_ok(digits: str, ok: bool) -> None:
    assert luhn_ok(digits) is ok


# ---------------------------------------------------------------- robustness

_VOCAB = [
    "my", "name", "is", "it's", "i'm", "this", "dana", "whitfield", "oh", "o", "one", "two", "four",
    "fifteen", "twenty", "eighty", "hundred", "thousand", "million", "point", "and", "a", "double",
    "$", "415", "555-0123", "1.2", "450,000", "k", "pm", "a.m.", "at", "the", "28th", "first", "last",
    "second", "to", "of", "march", "may", "saturday", "tomorrow", "11/28", "3/3/85", "2:30", "o'clock",
    "noon", "half", "past", "quarter", "bedrooms", "bed", "studio", "street", "ave", "policy", "pol",
    "p", "l", "dollars", "cents", "number", "option", "yes", "no", "not", "right", "bye", "person",
    "talk", "dot", "com", "alamida", "san", "hose", "in", "days", "-", ",", ".", "?", "4242", "nineteen",
    "born", "9999999999999999999999999999999", "0", "00", "31st", "february", "29th",
]
_junk = st.text(max_size=80)
_wordy = st.lists(st.sampled_from(_VOCAB), max_size=14).map(" ".join)
_expecting = st.sampled_from([None, "name", "phone", "email", "budget", "area", "bedrooms", "date", "time",
                              "ordinal_choice", "address", "amount", "policy_number", "date_of_birth", "card_number"])


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(_junk, _wordy), expecting=_expecting, today=st.dates())
def test_extract_never_raises_and_is_deterministic(text: str, expecting: str | None, today: dt.date) -> None:
    first = extract(text, today, expecting=expecting)
    assert isinstance(first, Slots)
    assert extract(text, today, expecting=expecting) == first
    if first.phone is not None:
        assert len(first.phone) == 10 and first.phone.isdigit()
    if first.card_number is not None:
        assert luhn_ok(first.card_number) and 13 <= len(first.card_number) <= 19
    if first.policy_number is not None:
        assert first.policy_number.startswith("POL-")
    if first.date_of_birth is not None:
        assert first.date_of_birth < today


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(_junk, _wordy))
def test_helpers_never_raise(text: str) -> None:
    value = parse_spoken_number(text)
    assert value is None or value >= 0
    assert digits_from_speech(text).isdigit() or digits_from_speech(text) == ""
    assert isinstance(luhn_ok(digits_from_speech(text)), bool)


@pytest.mark.parametrize(("said", "word"), [
    ("D, A, N, A.", "Dana"),
    ("M as in Mike, E as in Echo, N as in November, D as in Delta, E as in Echo, S as in Sierra.", "Mendes"),
    ("T as in Echo, M is in Mike, N as in November", "Emn"),  # the key word wins over a misheard letter
    # heard from a flite voice: "A as in Alpha" lost its letter, "Y as in Yankee" gained a word
    ("H as in hotel, O as in Oscar, L as in Lima, L as in Lima, O as in Oscar, W as in Whiskey, as in Alpha, "
     "Y as in New Yankee.", "Holloway"),
    # espeak-ng heard by Whisper: every "as in" lost ("M&M", "I am in"), the key words kept
    ("M&M Mike, I am in Echo, and I am in November, I am in Delta, I am in Echo, S&M Sierra.", "Mendes"),
    # Piper (bench robustness): "E as in Echo" heard as "it is a necko" (the article's n run on), "as in" lost
    ("M.S. and Mike, it is a necko and as in November, D.S. and Delta, it is a necko, S.S. and Sierra.", "Mendes"),
    ("My name is Dana.", None),
    ("Mike and Victor", None),  # two key words spell nothing
    ("I'm looking in Oakland, near the lake, please.", None),  # no word close to a key word
])
def test_a_spelled_word_letter_by_letter_or_with_a_word_per_letter(said: str, word: str | None) -> None:
    assert spelled_word(read_words(said)) == word


@pytest.mark.parametrize(("said", "area"), [
    ("Alameda. A, L, A, M, E, D, A.", "Alameda"),
    ("A, L, A, M, E, D, A.", "Alameda"),  # the name misheard, the spelling heard
    ("S, A, N, J, O, S, E", "San Jose"),
    ("D, A, N, A.", None),
])
def test_a_spelled_area(said: str, area: str | None) -> None:
    assert extract(said, TODAY, expecting="area").area == area


@pytest.mark.parametrize("text, want", [
    ("Actually the one on College Avenue at 10 AM?", T(10, 0)),  # was 1 PM, from "the one"
    ("The one on Grand at two.", T(14, 0)),
    ("The one on College Avenue, tomorrow please.", None),
    ("That one, please.", None),
    ("One, please.", T(13, 0)),  # a bare "one" to "Which time works for you?" is still 1 PM
    ("At two, I work until 11 AM.", T(14, 0)),  # a cued time stays first, as before
])
def test_the_one_is_a_pronoun_and_a_time_said_as_one_wins(text: str, want: dt.time | None) -> None:
    assert extract(text, TODAY, expecting="time").time == want
