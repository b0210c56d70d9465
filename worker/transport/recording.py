"""Stereo call recording for simulated calls.

A simulated call is only trustworthy if a person can listen to it and hear what the
caller and the agent actually heard, at the moments they heard it. So the recorder does
not concatenate audio: every chunk is placed at its own timestamp on a shared call
clock, caller on the left channel and agent on the right, and whatever lies between two
chunks is silence. Overlap (barge-in) therefore shows up as both channels being loud at
once, and a truncated agent reply shows up as audio that simply stops.

Chunks are kept at their native sample rate and resampled only when the call is
rendered, one contiguous run at a time. Resampling each 20 ms frame on its own would
either click at every boundary (stateless) or smear timestamps (stateful streaming
resampler with its own latency); resampling whole runs with soxr avoids both.
"""

from __future__ import annotations

import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from livekit import rtc
from loguru import logger

__all__ = [
    "CALLER",
    "AGENT",
    "Channel",
    "CallClock",
    "CallRecorder",
    "frame_to_mono",
    "resample_mono",
]

Channel = Literal["caller", "agent"]
CALLER: Channel = "caller"
AGENT: Channel = "agent"

_CHANNEL_INDEX: dict[str, int] = {"caller": 0, "agent": 1, "left": 0, "right": 1}

# Two chunks whose boundary is off by less than this are treated as one continuous run.
# Both sides stamp frames from a schedule (not from wake-up times), so real boundaries
# line up to floating-point error; this only absorbs rounding.
_CONTIGUITY_TOLERANCE_S = 0.002


class CallClock:
    """The one clock every timestamp of a simulated call is measured on.

    Scenario timing (``after_agent``, ``barge_in``), the recording and the trace all have
    to agree on "when", so they share a monotonic origin instead of each calling
    ``time.monotonic()`` and hoping. Call time is seconds since ``t0``.
    """

    def __init__(self, t0: float | None = None) -> None:
        self.t0: float = time.monotonic() if t0 is None else t0

    def now(self) -> float:
        """Seconds since the call started."""
        return time.monotonic() - self.t0

    def to_call_time(self, monotonic_t: float) -> float:
        """Convert a ``time.monotonic()`` reading to call time."""
        return monotonic_t - self.t0

    def to_monotonic(self, call_t: float) -> float:
        """Convert call time back to a ``time.monotonic()`` reading."""
        return call_t + self.t0


def frame_to_mono(frame: rtc.AudioFrame) -> np.ndarray:
    """Return a frame's samples as a mono int16 array (averaging channels).

    The recording and the energy checks only care about what a listener hears per side,
    so multi-channel TTS output is folded to mono rather than rejected.
    """
    data = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels <= 1:
        return data.copy()
    data = data.reshape(-1, frame.num_channels).astype(np.int32)
    return np.clip(data.mean(axis=1), -32768, 32767).astype(np.int16)


@dataclass
class _Chunk:
    start: float  # call time of the first sample
    samples: np.ndarray  # mono int16
    sample_rate: int

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / self.sample_rate


@dataclass
class _Track:
    chunks: list[_Chunk] = field(default_factory=list)


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


class CallRecorder:
    """Collects both sides of a simulated call and renders them as a stereo WAV.

    Left = caller (what the agent's microphone received), right = agent (what the
    caller's speaker actually played, truncated on interruption). Timestamps given to
    :meth:`add` are ``time.monotonic()`` readings; they are placed relative to
    ``clock.t0``. Anything before ``t0`` is dropped.
    """

    def __init__(self, *, sample_rate: int = 24000, clock: CallClock | None = None) -> None:
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.sample_rate = sample_rate
        self.clock = clock or CallClock()
        self._tracks: dict[int, _Track] = {0: _Track(), 1: _Track()}
        self._rendered: np.ndarray | None = None

    # -- input ---------------------------------------------------------------------

    def add(
        self,
        channel: Channel | str,
        samples: np.ndarray,
        sample_rate: int,
        at: float,
    ) -> None:
        """Place mono int16 ``samples`` on ``channel`` starting at monotonic time ``at``."""
        idx = _channel_index(channel)
        if len(samples) == 0:
            return
        if samples.dtype != np.int16:
            raise TypeError(f"recorder expects int16 samples, got {samples.dtype}")
        start = self.clock.to_call_time(at)
        if start < 0:
            # audio from before the call started: keep only the part after t0
            skip = int(round(-start * sample_rate))
            if skip >= len(samples):
                return
            samples = samples[skip:]
            start = 0.0
        self._tracks[idx].chunks.append(_Chunk(start, np.asarray(samples), sample_rate))
        self._rendered = None

    def add_frame(self, channel: Channel | str, frame: rtc.AudioFrame, at: float) -> None:
        """Place an ``rtc.AudioFrame`` (folded to mono) at monotonic time ``at``."""
        self.add(channel, frame_to_mono(frame), frame.sample_rate, at)

    # -- output --------------------------------------------------------------------

    @property
    def duration(self) -> float:
        """Call time of the last recorded sample on either channel."""
        ends = [c.end for t in self._tracks.values() for c in t.chunks]
        return max(ends, default=0.0)

    def render(self) -> np.ndarray:
        """Return the call as an ``(n, 2)`` int16 array at :attr:`sample_rate`."""
        if self._rendered is not None:
            return self._rendered
        n_total = int(np.ceil(self.duration * self.sample_rate))
        mix = np.zeros((n_total, 2), dtype=np.int32)
        for idx, track in self._tracks.items():
            for run_start, run_rate, run in _contiguous_runs(track.chunks):
                data = resample_mono(run, run_rate, self.sample_rate).astype(np.int32)
                offset = int(round(run_start * self.sample_rate))
                end = min(offset + len(data), n_total)
                if end <= offset:
                    continue
                # add rather than overwrite: an accidental overlap stays audible
                mix[offset:end, idx] += data[: end - offset]
        self._rendered = np.clip(mix, -32768, 32767).astype(np.int16)
        return self._rendered

    def write(self, path: str | Path) -> Path:
        """Write ``call.wav``: 16-bit PCM, stereo, caller left, agent right."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pcm = self.render()
        with wave.open(str(path), "wb") as wf:
            wf.setnchannels(2)
            wf.setsampwidth(2)
            wf.setframerate(self.sample_rate)
            wf.writeframes(np.ascontiguousarray(pcm).astype("<i2").tobytes())
        logger.debug(
            "call recording written: {} ({:.2f} s, {} Hz stereo)",
            path,
            len(pcm) / self.sample_rate,
            self.sample_rate,
        )
        return path

    def channel_samples(self, channel: Channel | str) -> np.ndarray:
        """One channel of the rendered call (int16, at :attr:`sample_rate`)."""
        return self.render()[:, _channel_index(channel)]

    def energy_in_window(self, channel: Channel | str, t0: float, t1: float) -> float:
        """RMS of ``channel`` between call times ``t0`` and ``t1``, as a fraction of full scale.

        Tests assert "the caller was audible here" / "the agent was silent there" from
        this; 0.0 is digital silence, a full-scale square wave is 1.0.
        """
        if t1 <= t0:
            raise ValueError("t1 must be after t0")
        data = self.channel_samples(channel)
        i0 = max(int(round(t0 * self.sample_rate)), 0)
        i1 = max(int(round(t1 * self.sample_rate)), i0)
        window = data[i0:i1].astype(np.float64)
        if len(window) == 0:
            return 0.0
        return float(np.sqrt(np.mean(window**2)) / 32768.0)

    def energy_dbfs(self, channel: Channel | str, t0: float, t1: float) -> float:
        """Same as :meth:`energy_in_window` in dBFS (``-inf`` for digital silence)."""
        rms = self.energy_in_window(channel, t0, t1)
        return float("-inf") if rms <= 0 else float(20 * np.log10(rms))

    def active_spans(
        self, channel: Channel | str, *, threshold: float = 0.01, min_gap: float = 0.1
    ) -> list[tuple[float, float]]:
        """Call-time spans where ``channel`` is louder than ``threshold`` (10 ms RMS blocks).

        Useful to check overlap and gaps from the audio itself rather than from events.
        """
        data = self.channel_samples(channel).astype(np.float64) / 32768.0
        block = max(self.sample_rate // 100, 1)
        n_blocks = len(data) // block
        if n_blocks == 0:
            return []
        rms = np.sqrt(np.mean(data[: n_blocks * block].reshape(n_blocks, block) ** 2, axis=1))
        spans: list[tuple[float, float]] = []
        for i in np.flatnonzero(rms > threshold):
            s, e = i * block / self.sample_rate, (i + 1) * block / self.sample_rate
            if spans and s - spans[-1][1] <= min_gap:
                spans[-1] = (spans[-1][0], e)
            else:
                spans.append((s, e))
        return spans


def _channel_index(channel: Channel | str) -> int:
    try:
        return _CHANNEL_INDEX[channel]
    except KeyError:
        raise ValueError(f"unknown channel {channel!r}; use 'caller' or 'agent'") from None


def _contiguous_runs(chunks: list[_Chunk]) -> list[tuple[float, int, np.ndarray]]:
    """Merge back-to-back chunks of the same rate into runs ``(start, rate, samples)``."""
    runs: list[tuple[float, int, list[np.ndarray], float]] = []
    for c in sorted(chunks, key=lambda c: c.start):
        if runs:
            start, rate, parts, end = runs[-1]
            if rate == c.sample_rate and abs(c.start - end) <= _CONTIGUITY_TOLERANCE_S:
                parts.append(c.samples)
                runs[-1] = (start, rate, parts, end + len(c.samples) / rate)
                continue
        runs.append((c.start, c.sample_rate, [c.samples], c.end))
    return [(s, r, np.concatenate(p)) for s, r, p, _ in runs]
