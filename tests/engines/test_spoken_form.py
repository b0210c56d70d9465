"""The agent says amounts and a card's last four as a person would, not as espeak-ng reads them."""

from __future__ import annotations

from worker.engines.piper_tts import PiperTTS
from worker.engines.piper_tts import split_clauses
from worker.engines.spoken_form import spoken_form
from worker.planner.replies import on_result


def test_amounts_are_said_unit_last_and_cents_only_when_there_are_some() -> None:
    assert spoken_form("I'll charge $1,284.00 today.") == "I'll charge 1,284 dollars today."
    assert spoken_form("It is $1,234.50 this year.") == "It is 1,234 dollars and 50 cents this year."
    assert spoken_form("412 Grand Ave for $725,000, and $1.01 or $1.") == \
        "four twelve Grand Avenue for 725,000 dollars, and 1 dollar and 1 cent or 1 dollar."


def test_a_cards_last_four_is_said_digit_by_digit_and_nothing_else_is() -> None:
    assert spoken_form("the card ending in 6467. Shall I") == "the card ending in 6 4 6 7. Shall I"
    assert spoken_form("Oakland, ending in 64678, at 2 PM on November 27") == \
        "Oakland, ending in 64678, at 2 PM on November 27"


def test_the_voice_says_the_spoken_form(piper: PiperTTS) -> None:
    written = piper.render_clause("I'll charge $1,284.00 to the card ending in 6467.")
    said = piper.render_clause("I'll charge 1,284 dollars to the card ending in 6 4 6 7.")
    assert written.tobytes() == said.tobytes()
    # "dollar one thousand two hundred eighty four point zero zero ... six thousand four hundred
    # sixty seven" was ~7 s
    assert len(written) / piper.sample_rate < 6.0


def test_house_numbers_are_said_as_people_say_them() -> None:
    assert spoken_form("I found 3: 1420 Lakeshore Ave for $489,000 and 412 Grand Ave.") == \
        "I found 3: fourteen twenty Lakeshore Avenue for 489,000 dollars and four twelve Grand Avenue."
    assert spoken_form("2231 Dwight Way, 2107 Central Ave, 88 N 1st St, 1400 Park Blvd, 2000 Elm St") == \
        ("twenty-two thirty-one Dwight Way, twenty-one oh seven Central Avenue, eighty-eight North 1st Street, "
         "fourteen hundred Park Boulevard, two thousand Elm Street")
    # a number that is not a house number stays as it is
    assert spoken_form("I found 3 homes in Oakland at 2 PM on Friday, November 27.") == \
        "I found 3 homes in Oakland at 2 PM on Friday, November 27."


def test_receipt_and_case_codes_are_said_digit_by_digit() -> None:
    assert spoken_form("Your receipt number is CH-1003.") == "Your receipt number is C H 1 0 0 3."
    assert spoken_form("Your case number is CASE-1001. Goodbye!") == "Your case number is case 1 0 0 1. Goodbye!"
    assert spoken_form("Code RC-1234567.") == "Code R C 1 2 3, 4 5 6 7."


def test_the_booking_confirmation_opens_with_a_short_clause() -> None:
    written = on_result("book_tour", {"slot_start": "2026-11-27T14:00:00", "address": "412 Grand Ave, Oakland, CA 94610"},
                        {}, {})
    assert "booked to see 412 Grand Ave on Friday, November 27 at 2 PM" in written  # the written reply keeps it
    first = split_clauses(written)[0]
    assert len(first.split()) <= 6, first
    assert "Grand" not in first and "412" not in first
