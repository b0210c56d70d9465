"""The settings choose how a turn ends: by the reading rule inside Whisper's stream (default), by
livekit's turn-detector model, or by the VAD's silence."""

from __future__ import annotations

import pytest

from worker.call.engine_catalog import _turn_pause
from worker.call.turn_end import MEDIUM_PAUSE_S, build_turn_detection, turn_pause
from worker.settings import Settings


def _settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


def test_the_rule_ends_turns_in_the_stt_stream() -> None:
    rule = _settings(turn_detection="rule")
    assert build_turn_detection(rule) == "stt"
    judge = _turn_pause(rule)
    assert judge is not None and judge("Two PM works for me.", None) == 0.0 and judge("I'm looking in, um,", None) is None
    assert judge("Two PM works for me", None) == MEDIUM_PAUSE_S  # no sentence end from the recogniser: wait


def test_vad_and_livekit_modes_keep_silence_based_ends() -> None:
    vad = _settings(turn_detection="vad")
    assert build_turn_detection(vad) == "vad" and vad.vad_silence == 0.45 and _turn_pause(vad) is None
    assert _settings(turn_detection="livekit").vad_silence == 0.25  # livekit-agents refuses less for its detector
    assert _settings(turn_detection="vad", vad_min_silence=0.3).vad_silence == 0.3


@pytest.mark.parametrize(("text", "expecting", "pause"), [
    ("Two PM works for me.", "time", 0.0),
    ("March 12th, 1984.", "date_of_birth", 0.0),  # a year, not a number read in groups
    ("So, I'm looking in Oakland and my budget is about $900,000.", "area", 0.0),
    ("It's five one oh four eight two seven three nine one", "phone", 0.0),  # all ten digits, unclosed
    ("Sure, my policy number is 4 8 2 1.", "policy_number", 0.0),
    ("Four five three nine, one four eight eight, zero three four three, six four six seven.", "card_number", 0.0),
    ("for tomorrow please...", "date", MEDIUM_PAUSE_S),  # reads finished, left open by the recogniser
    ("The one on Grand Avenue", None, MEDIUM_PAUSE_S),
    ("It's 510.", "phone", None),  # three of ten digits: the rest is coming
    ("4539 1488 0343", "card_number", None),
    ("4539 1488 343 6467", "card_number", 0.0),  # a digit lost by the recogniser: the caller is done all the same
    ("Four five three nine, one four eight eight, zero three four three, six four", "card", None),
    ("It's 510.", None, None),  # an unknown question keeps the reading rule's number groups
    ("four five three nine one four eight eight zero three four three six four six seven", None, MEDIUM_PAUSE_S),
    ("So, I'm looking in Oakland and my budget is about $900,000.", None, None),
    ("I'm looking in, um,", "area", None),
    ("My budget is about...", "budget", None),
    ("Hi, my name is, um,", "name", None),
    ("Hmm.", None, None),
    ("", "phone", None),
])
def test_the_pause_that_ends_a_turn_follows_the_words_and_the_question(
        text: str, expecting: str | None, pause: float | None) -> None:
    assert turn_pause(text, expecting) == pause
