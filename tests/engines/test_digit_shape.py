"""A dictated number of the wrong length is decoded again: the slot's digit shape.

After "what's your phone number?" ten digits are right (eleven after a leading 1); a greedy
spelled-out decode that drops an "oh", adds a fifth "five" or stops after four words is
certainly wrong, so the decoder tries a beam and a few samples and keeps the likeliest
alternative of the right shape (`WhisperTranscriber._with_digit_count`; figures per voice in
docs/recognition.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.hearing_score import read_value
from tests.support.hearing_set import hearing_lines
from worker.engines.whisper_digits import DIGIT_SHAPES, spoken_digits
from worker.engines.whisper_hints import decode_hint
from worker.engines.whisper_stt import WhisperSTT
from worker.simulate.voices import Voice, speak


@pytest.mark.parametrize("text, digits", [
    ("My number is four oh eight, double six one four.", "4086614"),
    ("seven oh seven, five five five, seventy nine, thirty five", "7075557935"),
    ("seventeen nine", "179"),
    ("five hundred", "500"),
    ("It's 415-555-0192.", "4155550192"),
    ("triple oh", "000"),
    ("It's", ""),
])
def test_spoken_digits_as_the_decoder_writes_them(text: str, digits: str) -> None:
    assert spoken_digits(text) == digits


@pytest.mark.parametrize("text, fits", [
    ("four one five, five five five, oh one nine two", True),
    ("one four one five five five five oh one nine two", True),  # with the country code
    ("nine two five five five five five zero seven zero zero", False),  # a fifth five, no leading 1
    ("four eight five five five four one three five", False),  # an "oh" dropped
    ("My number is three oh three two,", False),  # stopped early
])
def test_a_phone_has_ten_digits_or_eleven_after_a_one(text: str, fits: bool) -> None:
    assert DIGIT_SHAPES["phone"].fits(text) is fits


def test_cards_have_fifteen_or_sixteen_digits_and_policy_numbers_no_shape() -> None:
    card = DIGIT_SHAPES["card_number"]
    assert card.fits("four two four two, " * 3 + "four two four two") and card.fits("378282246310005")
    assert not card.fits("four two four two, " * 3 + "four two")
    assert "policy_number" not in DIGIT_SHAPES  # "P O L" holds an "o"


@pytest.mark.parametrize("text", [
    # 4596 0563 0422 2494 with one "two" of "two two, two" lost: 15 digits, an Amex count
    "four five nine six zero five six three zero four two two four nine four",
    # 5258 0034 2238 8225 with "oh oh" heard as one "oh"
    "five two five eight oh three four two two three eight eight two two five",
    # 4113 0756 4492 3425 with "oh" heard as "four": the right count, a wrong digit
    "four one one three four seven five six four four nine two three four two five",
])
def test_a_card_that_fails_luhn_does_not_fit(text: str) -> None:
    """A card decode with a digit lost, doubled or changed fails Luhn, so it is decoded again;
    before, 15 digits fitted (the count of an American Express card) and the card was lost."""
    card = DIGIT_SHAPES["card_number"]
    assert len(spoken_digits(text)) in (15, 16)
    assert not card.fits(text)
    assert card.fits("four five nine six zero five six three zero four two two two four nine four")


#: Lines whose greedy spelled-out decode drops an "oh" or a repeated five, or stops early
#: (bench recognition, tiny.en with hints, before the digit shape: all four wrong).
SHORT = [("espeak-ng:en-us", "phone-digits-7"), ("espeak-ng:en-us", "phone-1"), ("flite:slt", "phone-9"),
         ("flite:kal", "phone-12")]


def test_numbers_of_the_wrong_length_are_decoded_again_to_the_phones_length(whisper: WhisperSTT) -> None:
    lines = {x.id: x for x in hearing_lines(("phone", "phone_digits"))}
    pad = np.zeros(4800, np.float32)
    t = whisper.transcriber
    greedy_right = shaped_right = 0
    heard = []
    for voice, line_id in SHORT:
        line = lines[line_id]
        audio = np.concatenate([pad, speak(Voice.parse(voice), line.say), pad])
        greedy = t.transcribe(audio, prompt=decode_hint("phone"), numeric=True).text
        shaped = t.transcribe(audio, prompt=decode_hint("phone"), numeric=True, digits=DIGIT_SHAPES["phone"]).text
        greedy_right += read_value(line, greedy) == line.value
        shaped_right += read_value(line, shaped) == line.value
        heard.append(f"{voice} {line_id}: {greedy!r} → {shaped!r}")
    assert greedy_right <= 1 and shaped_right >= 3, heard


def test_a_number_padded_to_the_phones_length_says_so(whisper: WhisperSTT) -> None:
    """The first part of a number, said before a pause, can be padded to ten digits by the
    retry ("it's five one oh oh it's five one oh ..."): such a transcript is marked `reshaped`,
    so its digit count never ends the caller's turn (the stream only ends a turn early on a
    transcript that was not reshaped)."""
    pad = np.zeros(4800, np.float32)
    t = whisper.transcriber
    for voice, said in (("espeak-ng:en-us@1.0", "It's five one oh,"), ("flite:slt@1.0", "It's five one oh,")):
        audio = np.concatenate([pad, speak(Voice.parse(voice), said), pad])
        plain = t.transcribe(audio, prompt=decode_hint("phone"), numeric=True)
        shaped = t.transcribe(audio, prompt=decode_hint("phone"), numeric=True, digits=DIGIT_SHAPES["phone"])
        assert not plain.reshaped
        assert shaped.reshaped == (shaped.text != plain.text), (voice, plain.text, shaped.text)
        if len(spoken_digits(shaped.text)) >= 10:
            assert shaped.reshaped, (voice, shaped.text)


def test_the_distance_of_a_decode_to_the_phones_count() -> None:
    phone = DIGIT_SHAPES["phone"]
    assert phone.distance("nine two five five five five five zero seven zero zero") == 1  # a fifth five
    assert phone.distance("one four one five five five five oh one nine two") == 0  # a leading 1
    assert phone.distance("four one five five five five oh one nine two") == 0
    assert phone.distance("three three five five five oh four one") == 2
    assert phone.distance("nine two five five five five five five zero seven zero zero") == 2
