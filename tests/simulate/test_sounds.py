"""Caller sounds for barge-in scenarios are short, audible and the same on every run."""

from __future__ import annotations

import numpy as np
import pytest

from worker.simulate.sounds import SOUND_RATE, make_sound
from worker.transport.levels import audible_spans


@pytest.mark.parametrize("kind, longest", [("cough", 0.5), ("breath", 0.6), ("noise", 0.4)])
def test_sounds_are_short_audible_and_repeatable(kind: str, longest: float) -> None:
    pcm, rate = make_sound(kind)  # type: ignore[arg-type]

    assert rate == SOUND_RATE and pcm.dtype == np.int16 and len(pcm) / rate <= longest
    assert audible_spans(pcm, rate)
    assert np.array_equal(pcm, make_sound(kind)[0])  # type: ignore[arg-type]
