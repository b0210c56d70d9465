"""What counts as audible on a recording: RMS in 10 ms blocks against one threshold."""

from __future__ import annotations

import numpy as np
import pytest

from tests.transport.helpers import tone
from worker.transport.levels import AUDIBLE_RMS, BLOCK_S, audible_spans, rms, rms_blocks


def test_rms_is_a_fraction_of_full_scale() -> None:
    assert rms(np.zeros(100, np.int16)) == 0.0
    assert rms(np.zeros(0, np.int16)) == 0.0
    square = np.array([32767, -32768] * 50, np.int16)
    assert rms(square) == pytest.approx(1.0, abs=1e-4)
    assert rms(tone(0.1, 16000, amp=1.0)) == pytest.approx(2**-0.5, abs=1e-3)


def test_the_threshold_sits_between_quiet_speech_and_dither() -> None:
    # about -46 dBFS: a tone 6 dB above it is audible, one 6 dB below and ±1 LSB dither are not
    assert 20 * np.log10(AUDIBLE_RMS) == pytest.approx(-46.0, abs=0.1)
    loud = tone(0.1, 16000, amp=2 * AUDIBLE_RMS * 2**0.5)
    soft = tone(0.1, 16000, amp=0.5 * AUDIBLE_RMS * 2**0.5)
    dither = np.random.default_rng(0).integers(-1, 2, 1600).astype(np.int16)
    assert rms(loud) > AUDIBLE_RMS > rms(soft) > rms(dither)


def test_blocks_are_ten_milliseconds() -> None:
    assert BLOCK_S == 0.010
    x = np.concatenate([tone(0.05, 24000), np.zeros(int(0.035 * 24000), np.int16)])
    levels = rms_blocks(x, 24000)
    assert len(levels) == 8  # 85 ms: eight whole blocks, the partial one dropped
    assert (levels[:5] > 0.3).all() and (levels[5:] == 0.0).all()


def test_spans_merge_short_gaps_and_split_long_ones() -> None:
    rate = 16000
    gap = lambda s: np.zeros(int(s * rate), np.int16)  # noqa: E731
    x = np.concatenate([gap(0.2), tone(0.3, rate), gap(0.05), tone(0.2, rate), gap(0.4), tone(0.1, rate)])
    spans = audible_spans(x, rate)
    assert len(spans) == 2
    assert spans[0] == pytest.approx((0.2, 0.75), abs=0.011)
    assert spans[1] == pytest.approx((1.15, 1.25), abs=0.011)
    assert audible_spans(x, rate, min_gap=0.01)[0][1] == pytest.approx(0.5, abs=0.011)
