"""Non-speech sounds a caller makes over the agent, for barge-in scenarios (`sound:` lines).

A cough, a breath or a burst of line noise while the agent talks must not become a turn, and
if it pauses the agent, the reply must go on where it stopped. They are generated from a fixed
seed (the same samples on every run, no committed audio): a cough is two short bursts of
band-limited noise under a sharp attack and a decay, a breath a longer, softer hiss, `noise` a
300 ms burst of broadband line noise.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["SOUND_RATE", "SoundKind", "make_sound"]

SoundKind = Literal["cough", "breath", "noise"]
SOUND_RATE = 16_000


def make_sound(kind: SoundKind, seed: int = 7) -> tuple[np.ndarray, int]:
    """A deterministic non-speech sound (see the module docstring): int16 samples and their rate."""
    rng = np.random.default_rng(seed)
    if kind == "cough":
        x = np.concatenate([_burst(rng, 0.16, 0.035, 0.45, (300, 3000)), np.zeros(int(0.06 * SOUND_RATE)),
                            _burst(rng, 0.12, 0.03, 0.3, (300, 3000))])
    elif kind == "breath":
        x = _burst(rng, 0.45, 0.18, 0.06, (500, 5000))
    else:
        x = _burst(rng, 0.30, 0.005, 0.2, (100, 7000))
    return (np.clip(x, -1.0, 1.0) * 32767).astype(np.int16), SOUND_RATE


def _burst(rng: np.random.Generator, seconds: float, attack: float, peak: float,
           band: tuple[float, float]) -> np.ndarray:
    """Band-limited noise with a linear attack and an exponential decay, peaking at `peak`."""
    n = int(seconds * SOUND_RATE)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SOUND_RATE)
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0
    noise = np.fft.irfft(spectrum, n)
    noise /= np.max(np.abs(noise)) or 1.0
    t = np.arange(n) / SOUND_RATE
    env = np.minimum(t / attack, 1.0) * np.exp(-np.maximum(t - attack, 0.0) / (seconds / 3))
    return noise * env * peak
