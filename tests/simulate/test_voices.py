"""Synthetic caller voices: each engine speaks, at 16 kHz, and speed changes the length."""

from __future__ import annotations

import numpy as np
import pytest

from worker.simulate.voices import CALLER_VOICES, Voice, speak


def test_the_default_voices_span_three_engines_and_several_speeds() -> None:
    assert len(CALLER_VOICES) >= 5
    assert {v.engine for v in CALLER_VOICES} == {"espeak-ng", "flite", "piper"}
    assert len({v.speed for v in CALLER_VOICES}) >= 3


@pytest.mark.parametrize("label", ["espeak-ng:en-gb+f3@0.85", "flite:slt", "flite:kal@1.2"])
def test_a_voice_speaks_audible_16k_audio(label: str) -> None:
    audio = speak(Voice.parse(label), "four one five")
    assert audio.dtype == np.float32
    assert 0.5 < audio.size / 16000 < 4.0
    assert float(np.abs(audio).max()) > 0.1


def test_faster_is_shorter() -> None:
    slow = speak(Voice(engine="espeak-ng", name="en-us", speed=0.8), "my number is four one five")
    fast = speak(Voice(engine="espeak-ng", name="en-us", speed=1.3), "my number is four one five")
    assert fast.size < 0.8 * slow.size


def test_labels_round_trip() -> None:
    for voice in CALLER_VOICES:
        assert Voice.parse(voice.label) == voice
