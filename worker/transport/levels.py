"""What counts as audible on a recorded line: RMS level in 10 ms blocks.

This is the one level test for "someone could be heard here" on a recording (the
stereo ``call.wav``). The live state "the agent is speaking" is not a level: it is the
playback state kept in :mod:`worker.transport.agent_speech` (from the first played sample
of a reply until it ends or pauses). This module is how a test checks that state
afterwards on the audio itself, e.g. that the agent's channel really went silent soon
after a barge-in.

The figures and where they come from:

* :data:`BLOCK_S` = 10 ms. Short enough to place the end of speech within half a caller
  frame (20 ms, :class:`~worker.transport.caller_input.SimulatedCallerInput`), long
  enough to hold a whole pitch period of a voice (above 100 Hz), so a voiced block never
  measures low just because it caught a zero crossing.
* :data:`AUDIBLE_RMS` = 0.005 of full scale (about -46 dBFS). Measured on the bundled
  Piper voice (``en_US-joe-medium``, three agent lines): voiced 10 ms blocks have a median
  of -25 dBFS, so the threshold sits ~20 dB under normal speech and catches the quiet
  tails of words, and far above the dither soxr leaves on resampled silence (±1 LSB,
  about -90 dBFS). The room tests' caller judges "the agent is quiet" from room audio
  with 150/32768 (-46.8 dBFS), the same level.

Latency "at the caller's ear" is timed on these same blocks: the end of the caller's speech
is the end of the last audible block of the caller's audio (:func:`last_audible`), and the
agent's first audio is the start of the first audible block the caller receives
(:func:`first_audible`). Buffer edges would read 150-370 ms better than a listener hears:
synthesized caller lines end in 90-330 ms of near-silence and Piper clauses start with
35-60 ms of quiet.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AUDIBLE_RMS", "BLOCK_S", "audible_spans", "first_audible", "last_audible", "rms", "rms_blocks"]

BLOCK_S = 0.010
"""Length of one level block, in seconds (see the module docstring for why)."""

AUDIBLE_RMS = 0.005
"""RMS, as a fraction of full scale, above which a block is audible (about -46 dBFS)."""


def rms(samples: np.ndarray) -> float:
    """RMS of int16 ``samples`` as a fraction of full scale (0.0 for none or digital silence).

    A full-scale square wave is 1.0; a full-scale sine about 0.707.
    """
    if len(samples) == 0:
        return 0.0
    x = np.asarray(samples, dtype=np.float64) / 32768.0
    return float(np.sqrt(np.mean(x**2)))


def rms_blocks(samples: np.ndarray, sample_rate: int, block_s: float = BLOCK_S) -> np.ndarray:
    """RMS of each whole ``block_s`` block of int16 ``samples`` (fraction of full scale)."""
    step = max(int(sample_rate * block_s), 1)
    n = len(samples) // step
    x = np.asarray(samples[: n * step], dtype=np.float64) / 32768.0
    return np.sqrt(np.mean(x.reshape(n, step) ** 2, axis=1))


def audible_spans(
    samples: np.ndarray, sample_rate: int, *, threshold: float = AUDIBLE_RMS, min_gap: float = 0.1
) -> list[tuple[float, float]]:
    """Spans (s from the first sample) where ``BLOCK_S`` blocks are louder than ``threshold``.

    Spans separated by at most ``min_gap`` seconds are merged, so the pauses between words
    do not split one utterance.
    """
    levels = rms_blocks(samples, sample_rate)
    step = max(int(sample_rate * BLOCK_S), 1)
    spans: list[tuple[float, float]] = []
    for i in np.flatnonzero(levels > threshold):
        s, e = i * step / sample_rate, (i + 1) * step / sample_rate
        if spans and s - spans[-1][1] <= min_gap:
            spans[-1] = (spans[-1][0], e)
        else:
            spans.append((s, e))
    return spans


def first_audible(samples: np.ndarray, sample_rate: int, *, threshold: float = AUDIBLE_RMS) -> float | None:
    """Seconds from the first sample to the start of the first audible block (None: all quiet).

    A trailing part shorter than one block is judged on its own, so a short chunk of audio
    (a 10-20 ms frame) still counts.
    """
    if len(samples) == 0:
        return None
    step = max(int(sample_rate * BLOCK_S), 1)
    loud = np.flatnonzero(rms_blocks(samples, sample_rate) > threshold)
    if len(loud):
        return float(loud[0] * step / sample_rate)
    n = len(samples) // step * step
    if n < len(samples) and rms(samples[n:]) > threshold:
        return n / sample_rate
    return None


def last_audible(samples: np.ndarray, sample_rate: int, *, threshold: float = AUDIBLE_RMS) -> float | None:
    """Seconds from the first sample to the end of the last audible block (None: all quiet)."""
    if len(samples) == 0:
        return None
    step = max(int(sample_rate * BLOCK_S), 1)
    n = len(samples) // step * step
    if n < len(samples) and rms(samples[n:]) > threshold:
        return len(samples) / sample_rate
    loud = np.flatnonzero(rms_blocks(samples, sample_rate) > threshold)
    if len(loud):
        return float((loud[-1] + 1) * step / sample_rate)
    return None
