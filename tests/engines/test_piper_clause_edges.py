"""Piper clauses start on speech and end with a natural pause, by the runtime's level test."""

from __future__ import annotations

import numpy as np
import pytest

from worker.engines import piper_tts
from worker.engines.piper_tts import CLAUSE_PAUSE_S, PiperTTS, trim_clause
from worker.transport import levels
from worker.transport.levels import first_audible, last_audible


def test_the_engine_and_the_transport_share_one_level_test() -> None:
    assert (piper_tts.QUIET_BLOCK_S, piper_tts.QUIET_RMS) == (levels.BLOCK_S, levels.AUDIBLE_RMS)


@pytest.mark.parametrize("text", ["Great, you're booked for Saturday at two.", "What is your name?"])
def test_every_clause_starts_audible_and_pauses_briefly(piper: PiperTTS, text: str) -> None:
    sr = piper.sample_rate
    for clause in piper.clauses(text):
        pcm = piper.render_clause(clause)
        lead, end = first_audible(pcm, sr), last_audible(pcm, sr)
        assert lead is not None and end is not None
        assert lead <= 0.015  # Piper's own lead is 30-60 ms
        assert len(pcm) / sr - end <= CLAUSE_PAUSE_S + 0.011


def test_trim_keeps_a_short_tail_and_leaves_silence_alone() -> None:
    sr = 22050
    t = np.arange(int(0.3 * sr)) / sr
    voiced = (np.sin(2 * np.pi * 200 * t) * 8000).astype(np.int16)
    pcm = np.concatenate([np.zeros(int(0.05 * sr), np.int16), voiced, np.zeros(int(0.5 * sr), np.int16)])
    out = trim_clause(pcm, sr)
    assert len(out) / sr == pytest.approx(0.3 + 0.005 + CLAUSE_PAUSE_S, abs=0.011)
    quiet = np.zeros(sr // 10, np.int16)
    assert trim_clause(quiet, sr) is quiet
