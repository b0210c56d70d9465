"""The end-of-turn rule: a finished sentence ends the turn, a thought cut at a pause does not."""

from __future__ import annotations

import pytest

from worker.reading import turn_end
from worker.reading.turn_end import transcript_ends_turn, turn_looks_complete
from worker.reading.vocabulary import HESITATIONS, THINKING_SOUNDS


@pytest.mark.parametrize("text", [
    "Two PM works for me.", "Two PM works for me", "Hi, my name is Dana Whitfield.", "Yes.", "No, that's all. Thanks, bye.",
    "The one on Grand Avenue, tomorrow please.", "It's 510-482-7391.", "five one oh four eight two seven three nine one",
    "Tomorrow at 10.", "At 2:30.", "About 900 thousand dollars.",
])
def test_finished_turns(text: str) -> None:
    assert turn_looks_complete(text)


@pytest.mark.parametrize("text", [
    "I'm looking in, um,", "I'm looking in", "Um, so,", "I'm looking in, uh", "My budget is about...",
    "and my name is", "It's five one oh,", "It's five one oh.", "It's 510.", "I'd like to", "The one on the",
    "Hmm.", "", "   ",
])
def test_unfinished_turns(text: str) -> None:
    assert not turn_looks_complete(text)


def test_a_quick_end_needs_the_recogniser_to_close_the_sentence() -> None:
    assert transcript_ends_turn("My name is Dana Lee.") and transcript_ends_turn("Is it free on Friday?")
    assert not transcript_ends_turn("The one on Grand Avenue")  # a fragment Whisper left bare
    assert not transcript_ends_turn("tomorrow")
    assert not transcript_ends_turn("I'm looking in...")
    assert not transcript_ends_turn("I'm looking in.")


def test_the_thinking_sounds_are_the_vocabularys_one_list() -> None:
    """One list of hesitation sounds (the vocabulary's); the turn-end rule reads it, never a copy."""
    assert turn_end.FILLERS is THINKING_SOUNDS
    assert THINKING_SOUNDS < HESITATIONS
    assert THINKING_SOUNDS == {"um", "umm", "uh", "uhh", "er", "erm", "hmm", "mm", "ah", "eh"}


@pytest.mark.parametrize("sound", sorted(THINKING_SOUNDS))
def test_a_turn_stopping_on_a_thinking_sound_is_unfinished(sound: str) -> None:
    assert not turn_looks_complete(f"I'm looking in Oakland, {sound}")


@pytest.mark.parametrize("text", ["Uh-huh.", "Mhm.", "Oh.", "Aha."])
def test_a_backchannel_alone_is_a_whole_turn(text: str) -> None:
    """Backchannels are hesitations to the name reader but not thinking sounds: said alone they answer."""
    assert turn_looks_complete(text)
