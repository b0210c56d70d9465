"""Caller sounds for barge-in scenarios are short, audible and the same on every run."""

from __future__ import annotations

import numpy as np
import pytest

from worker.simulate.sounds import SOUND_RATE, make_sound
from worker.transport.levels import audible_spans


@pytest.mark.parametrize("kind, longest", [("cough", 0.5), ("breath", 0.6), ("noise", 0.4), ("coughing", 1.2)])
def test_sounds_are_short_audible_and_repeatable(kind: str, longest: float) -> None:
    pcm, rate = make_sound(kind)  # type: ignore[arg-type]

    assert rate == SOUND_RATE and pcm.dtype == np.int16 and len(pcm) / rate <= longest
    assert audible_spans(pcm, rate)
    assert np.array_equal(pcm, make_sound(kind)[0])  # type: ignore[arg-type]


def test_a_coughing_fit_is_three_audible_coughs_with_a_voiced_pitch() -> None:
    pcm, rate = make_sound("coughing")
    spans = audible_spans(pcm, rate)
    assert len(spans) == 3, spans  # three coughs, quiet between them
    x = pcm.astype(np.float64) / 32768
    spectrum = np.abs(np.fft.rfft(x[: int(0.2 * rate)]))
    freqs = np.fft.rfftfreq(int(0.2 * rate), 1 / rate)
    low = spectrum[(freqs > 140) & (freqs < 250)].mean()
    assert low > 2 * spectrum[(freqs > 40) & (freqs < 100)].mean()  # the voiced buzz, not just hiss
