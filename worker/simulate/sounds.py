"""Non-speech sounds a caller makes over the agent, for barge-in scenarios (`sound:` lines).

A cough, a breath or a burst of line noise while the agent talks must not become a turn, and
if it pauses the agent, the reply must go on where it stopped. They are generated from a fixed
seed (the same samples on every run, no committed audio): a cough is two short bursts of
band-limited noise under a sharp attack and a decay, a breath a longer, softer hiss, `noise` a
300 ms burst of broadband line noise. `coughing` is a fit of three louder coughs (~1.1 s), each
an explosive noise burst over a voiced buzz (a falling ~200 Hz pitch with its harmonics, as the
glottis closes), the kind of sound a VAD does take for speech.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["SOUND_RATE", "SoundKind", "make_sound"]

SoundKind = Literal["cough", "breath", "noise", "coughing"]
SOUND_RATE = 16_000


def make_sound(kind: SoundKind, seed: int = 7) -> tuple[np.ndarray, int]:
    """A deterministic non-speech sound (see the module docstring): int16 samples and their rate."""
    rng = np.random.default_rng(seed)
    if kind == "cough":
        x = np.concatenate([_burst(rng, 0.16, 0.035, 0.45, (300, 3000)), np.zeros(int(0.06 * SOUND_RATE)),
                            _burst(rng, 0.12, 0.03, 0.3, (300, 3000))])
    elif kind == "breath":
        x = _burst(rng, 0.45, 0.18, 0.06, (500, 5000))
    elif kind == "coughing":
        gap = np.zeros(int(0.14 * SOUND_RATE))
        x = np.concatenate([_voiced_cough(rng, 0.26, 0.7), gap, _voiced_cough(rng, 0.22, 0.55), gap,
                            _voiced_cough(rng, 0.2, 0.45)])
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


def _voiced_cough(rng: np.random.Generator, seconds: float, peak: float) -> np.ndarray:
    """One cough: a band-limited burst (300-4000 Hz) over a buzz whose pitch falls 230 → 150 Hz."""
    n = int(seconds * SOUND_RATE)
    t = np.arange(n) / SOUND_RATE
    pitch = 230.0 - 80.0 * t / seconds
    phase = 2 * np.pi * np.cumsum(pitch) / SOUND_RATE
    buzz = sum(np.sin(k * phase) / k for k in range(1, 8))
    buzz = buzz / (np.max(np.abs(buzz)) or 1.0)
    noise = _burst(rng, seconds, 0.012, 1.0, (300, 4000))
    env = np.minimum(t / 0.012, 1.0) * np.exp(-np.maximum(t - 0.012, 0.0) / (seconds / 2.5))
    return (0.6 * noise + 0.4 * buzz * env) * peak
