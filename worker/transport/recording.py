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

A card read aloud is in the recording as surely as in the transcript, so the file is protected
like the number: the caller's channel is silenced over every span the trace masked a card (or
another long number) in (`silence=`, with a margin for the VAD's late start), and the file is
created readable by its owner only (mode 0600), because a number the recogniser misheard
beyond recognition is never masked but is still audible. Only simulated calls record (the
LiveKit worker does not), so no real caller's voice is ever written here.
"""

from __future__ import annotations

import os
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from livekit import rtc
from loguru import logger

from .clock import CallClock
from .levels import AUDIBLE_RMS, audible_spans, rms
from .pcm import frame_to_mono, resample_mono

__all__ = ["AGENT", "CALLER", "CallRecorder", "Channel"]

Channel = Literal["caller", "agent"]
CALLER: Channel = "caller"
AGENT: Channel = "agent"

_CHANNEL_INDEX: dict[str, int] = {"caller": 0, "agent": 1, "left": 0, "right": 1}

# Two chunks whose boundary is off by less than this are treated as one continuous run.
# Both sides stamp frames from a schedule (not from wake-up times), so real boundaries
# line up to floating-point error; this only absorbs rounding.
_CONTIGUITY_TOLERANCE_S = 0.002
#: Silence this much more on each side of a secret span (VAD edges lag the speech).
SECRET_MARGIN_S = 0.5
RECORDING_MODE = 0o600


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

    def write(self, path: str | Path, silence: Sequence[tuple[float, float]] = ()) -> Path:
        """Write ``call.wav``: 16-bit PCM, stereo, caller left, agent right, mode 0600.

        ``silence`` lists call-time spans where the caller said a secret: the caller's channel
        is zero there (``SECRET_MARGIN_S`` wider on each side).
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pcm = self.render()
        if silence:
            pcm = pcm.copy()
            for t0, t1 in silence:
                i0 = max(int((t0 - SECRET_MARGIN_S) * self.sample_rate), 0)
                i1 = min(int(np.ceil((t1 + SECRET_MARGIN_S) * self.sample_rate)), len(pcm))
                pcm[i0:i1, _CHANNEL_INDEX[CALLER]] = 0
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, RECORDING_MODE)
        os.fchmod(fd, RECORDING_MODE)  # an older file keeps its mode through O_CREAT
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as wf:
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
        return rms(data[i0:i1])

    def active_spans(
        self, channel: Channel | str, *, threshold: float = AUDIBLE_RMS, min_gap: float = 0.1
    ) -> list[tuple[float, float]]:
        """Call-time spans where ``channel`` is audible (:func:`~worker.transport.levels.audible_spans`).

        Useful to check overlap and gaps from the audio itself rather than from events.
        """
        return audible_spans(
            self.channel_samples(channel), self.sample_rate, threshold=threshold, min_gap=min_gap
        )


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
