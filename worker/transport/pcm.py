"""Sample formats on the simulated line: mono int16 in, resampled in whole runs.

Both ends of a simulated call, and the recording, work on mono int16 PCM: what a
listener hears per side. Frames from the session are folded to mono, scenario audio is
accepted as int16 or float, and resampling is done on whole contiguous runs with soxr
(via livekit rtc) so there are no clicks at 20 ms frame boundaries.
"""

from __future__ import annotations

import numpy as np
from livekit import rtc

__all__ = ["frame_to_mono", "resample_mono", "to_int16_mono"]


def frame_to_mono(frame: rtc.AudioFrame) -> np.ndarray:
    """Return a frame's samples as a mono int16 array (averaging channels).

    The recording and the level checks only care about what a listener hears per side,
    so multi-channel TTS output is folded to mono rather than rejected.
    """
    data = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels <= 1:
        return data.copy()
    data = data.reshape(-1, frame.num_channels).astype(np.int32)
    return np.clip(data.mean(axis=1), -32768, 32767).astype(np.int16)


def to_int16_mono(pcm: np.ndarray) -> np.ndarray:
    """Accept int16 (or float in [-1, 1]) mono PCM; shape ``(n,)`` or ``(n, 1)``."""
    arr = np.asarray(pcm)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"caller audio must be mono, got shape {arr.shape}")
    if arr.dtype == np.int16:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        return (np.clip(arr, -1.0, 1.0) * 32767.0).astype(np.int16)
    raise TypeError(f"caller audio must be int16 or float, got {arr.dtype}")


def resample_mono(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Resample a whole mono run with soxr (via livekit rtc), flushing the tail."""
    if in_rate == out_rate or len(samples) == 0:
        return samples
    resampler = rtc.AudioResampler(in_rate, out_rate, num_channels=1)
    frame = rtc.AudioFrame(
        data=np.ascontiguousarray(samples, dtype=np.int16).tobytes(),
        sample_rate=in_rate,
        num_channels=1,
        samples_per_channel=len(samples),
    )
    parts = [np.frombuffer(f.data, dtype=np.int16) for f in resampler.push(frame)]
    parts += [np.frombuffer(f.data, dtype=np.int16) for f in resampler.flush()]
    if not parts:
        return np.zeros(0, dtype=np.int16)
    out = np.concatenate(parts)
    _restore_silence(samples, out, in_rate, out_rate)
    return out


def _restore_silence(
    src: np.ndarray, out: np.ndarray, in_rate: int, out_rate: int, margin_s: float = 0.004
) -> None:
    """Zero the output where the input was digital silence (in place).

    soxr (as wrapped by livekit) always dithers its int16 output, which turns the
    silence between turns into ±1 LSB noise. Inaudible, but it would make "the agent
    was silent here" impossible to assert exactly; so stretches of true silence are
    restored, keeping a small margin at their edges for the filter's ringing.
    """
    zero = src == 0
    if not zero.any():
        return
    edges = np.diff(np.concatenate(([0], zero.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    ratio = out_rate / in_rate
    margin = int(margin_s * out_rate)
    min_len = 2 * margin_s * in_rate
    for s, e in zip(starts, ends, strict=True):
        if e - s <= min_len:
            continue
        o0 = int(np.ceil(s * ratio)) + (margin if s > 0 else 0)
        o1 = int(np.floor(e * ratio)) - (margin if e < len(src) else 0)
        if o1 > o0:
            out[o0 : min(o1, len(out))] = 0
