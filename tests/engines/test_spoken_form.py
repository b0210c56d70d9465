"""The agent says amounts and a card's last four as a person would, not as espeak-ng reads them."""

from __future__ import annotations

from worker.engines.piper_tts import PiperTTS
from worker.engines.spoken_form import spoken_form


def test_amounts_are_said_unit_last_and_cents_only_when_there_are_some() -> None:
    assert spoken_form("I'll charge $1,284.00 today.") == "I'll charge 1,284 dollars today."
    assert spoken_form("It is $1,234.50 this year.") == "It is 1,234 dollars and 50 cents this year."
    assert spoken_form("412 Grand Ave for $725,000, and $1.01 or $1.") == \
        "412 Grand Ave for 725,000 dollars, and 1 dollar and 1 cent or 1 dollar."


def test_a_cards_last_four_is_said_digit_by_digit_and_nothing_else_is() -> None:
    assert spoken_form("the card ending in 6467. Shall I") == "the card ending in 6 4 6 7. Shall I"
    assert spoken_form("1420 Lakeshore Ave, ending in 64678, at 2 PM") == "1420 Lakeshore Ave, ending in 64678, at 2 PM"


def test_the_voice_says_the_spoken_form(piper: PiperTTS) -> None:
    written = piper.render_clause("I'll charge $1,284.00 to the card ending in 6467.")
    said = piper.render_clause("I'll charge 1,284 dollars to the card ending in 6 4 6 7.")
    assert written.tobytes() == said.tobytes()
    # "dollar one thousand two hundred eighty four point zero zero ... six thousand four hundred
    # sixty seven" was ~7 s
    assert len(written) / piper.sample_rate < 6.0
