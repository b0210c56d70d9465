"""Sample formats on the simulated line: folding to mono int16, and resampling whole runs."""

from __future__ import annotations

import numpy as np
import pytest
from livekit import rtc

from tests.transport.helpers import tone
from worker.transport.pcm import frame_to_mono, resample_mono, to_int16_mono


def test_resampled_silence_stays_digital_silence() -> None:
    """soxr dithers int16 output; gaps between turns must still be exact zeros."""
    src = np.concatenate([np.zeros(8000, np.int16), tone(0.5, 16000), np.zeros(8000, np.int16)])
    out = resample_mono(src, 16000, 24000)
    assert len(out) == 36000
    assert not out[: int(0.49 * 24000)].any()
    assert not out[int(1.01 * 24000) :].any()
    assert np.abs(out[int(0.55 * 24000) : int(0.95 * 24000)]).max() > 10000


def test_same_rate_is_returned_untouched() -> None:
    src = tone(0.1, 16000)
    assert resample_mono(src, 16000, 16000) is src


def test_stereo_frames_fold_to_their_mean() -> None:
    left = np.full(4, 1000, np.int16)
    right = np.full(4, -3000, np.int16)
    data = np.stack([left, right], axis=1).reshape(-1)
    frame = rtc.AudioFrame(data.tobytes(), 16000, 2, 4)
    assert frame_to_mono(frame).tolist() == [-1000] * 4
    mono = rtc.AudioFrame(left.tobytes(), 16000, 1, 4)
    assert frame_to_mono(mono).tolist() == [1000] * 4


def test_caller_audio_is_accepted_as_int16_or_float_mono() -> None:
    assert to_int16_mono(np.array([[1], [2]], np.int16)).tolist() == [1, 2]
    assert to_int16_mono(np.array([0.5, -2.0], np.float32)).tolist() == [16383, -32767]
    with pytest.raises(ValueError):
        to_int16_mono(np.zeros((4, 2), np.int16))
    with pytest.raises(TypeError):
        to_int16_mono(np.zeros(4, np.int32))
