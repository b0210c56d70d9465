"""Echo on a simulated line, and the echo canceller that keeps it from interrupting the agent.

A caller on a speakerphone sends the agent's own voice back, some 25 dB down and ~150 ms late.
Silero hears speech at that level, so without cancellation the agent "hears the caller" as soon
as it talks, pauses its own greeting and takes its own words for an answer.

* :class:`PlayedAudio` is what the caller's speaker played, by time: the output
  (:class:`~worker.transport.agent_output.CapturingAgentOutput`) adds each chunk as it starts
  and cuts it where a pause or an interruption stopped it.
* :class:`Speakerphone` is the caller's side: that audio, attenuated and delayed, mixed into
  the caller's microphone (:class:`~worker.transport.caller_input.SimulatedCallerInput`).
* :class:`EchoCanceller` is the agent's side: an ``AudioInput`` in front of the session that
  runs WebRTC's echo canceller (AEC3, ``rtc.AudioProcessingModule``, shipped inside the
  livekit wheel) with what the agent played as the far-end reference. It finds the echo's
  delay by itself; on this machine it takes a -45 dBFS echo below -68 dBFS within 0.5 s and
  below -84 dBFS after, for ~1% of one core. While it converges, a residual echo gate silences
  frames far quieter than the agent's own voice; a caller speaking over the echo passes through.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from .pcm import frame_to_mono, resample_mono

__all__ = ["ECHO_RATE", "EchoCanceller", "PlayedAudio", "Speakerphone"]

ECHO_RATE = 16_000
"""The rate echo is kept and cancelled at: the caller microphone's rate."""
_APM_FRAME = ECHO_RATE // 100  # the echo canceller works on 10 ms frames
_KEEP_S = 5.0
GATE_DB = 15.0
"""Residual echo gate: mic frames this far under the agent's recent loudest level are echo."""
_GATE_WINDOW_S = 0.5  # covers echo delays up to half a second


@dataclass
class _Played:
    start: float  # monotonic time of the first sample
    samples: np.ndarray  # float32 at ECHO_RATE

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / ECHO_RATE


class PlayedAudio:
    """What the caller's speaker played, queryable by (monotonic) time, for the last few seconds."""

    def __init__(self) -> None:
        self._chunks: deque[_Played] = deque()

    def add(self, samples: np.ndarray, rate: int, start: float) -> None:
        """A chunk starts playing at ``start``; it plays whole unless :meth:`cut`."""
        if len(samples) == 0:
            return
        mono = resample_mono(np.asarray(samples, dtype=np.int16), rate, ECHO_RATE).astype(np.float32)
        self._chunks.append(_Played(start, mono))
        while self._chunks and self._chunks[0].end < start - _KEEP_S:
            self._chunks.popleft()

    def cut(self, at: float) -> None:
        """Playback stopped at ``at``: nothing after it was heard."""
        while self._chunks and self._chunks[-1].start >= at:
            self._chunks.pop()
        if self._chunks and self._chunks[-1].end > at:
            last = self._chunks[-1]
            last.samples = last.samples[: max(int(round((at - last.start) * ECHO_RATE)), 0)]

    def take(self, t0: float, n: int) -> np.ndarray:
        """The ``n`` samples (float32, int16 scale) that played from ``t0`` on (zeros where none did)."""
        out = np.zeros(n, dtype=np.float32)
        t1 = t0 + n / ECHO_RATE
        for c in self._chunks:
            if c.end <= t0 or c.start >= t1:
                continue
            a = int(round((max(c.start, t0) - t0) * ECHO_RATE))
            b = int(round((max(c.start, t0) - c.start) * ECHO_RATE))
            k = min(n - a, len(c.samples) - b)
            if k > 0:
                out[a:a + k] += c.samples[b:b + k]
        return out


class Speakerphone:
    """The echo a caller's speakerphone sends back: played audio, ``level_db`` down, ``delay`` late."""

    def __init__(self, played: PlayedAudio, *, level_db: float = -25.0, delay: float = 0.150) -> None:
        self.played = played
        self.gain = 10.0 ** (level_db / 20.0)
        self.delay = delay

    def echo(self, t0: float, n: int) -> np.ndarray:
        """Echo (int16 scale, float32) for ``n`` microphone samples at ECHO_RATE from ``t0``."""
        return self.played.take(t0 - self.delay, n) * self.gain


class EchoCanceller(io.AudioInput):
    """The agent's microphone with its own voice taken out (see the module docstring).

    Frames of ``source`` at :data:`ECHO_RATE` are cancelled 10 ms at a time against what
    ``played`` says the agent played at the same moment; frames at other rates pass unchanged.
    """

    def __init__(self, source: io.AudioInput, played: PlayedAudio, *, frame_duration: float = 0.020) -> None:
        super().__init__(label="EchoCanceller", source=source)
        self._source = source
        self._played = played
        self._frame_duration = frame_duration
        self._apm = rtc.AudioProcessingModule(echo_cancellation=True, noise_suppression=False,
                                              high_pass_filter=False, auto_gain_control=False)

    async def __anext__(self) -> rtc.AudioFrame:
        frame = await self._source.__anext__()
        if frame.sample_rate != ECHO_RATE or frame.num_channels != 1:
            return frame
        mic = frame_to_mono(frame).copy()
        # when the frame was captured: the source says so if it knows (a paced simulated line,
        # whose frames can arrive late under load), else it was delivered as its last sample was
        t0 = getattr(self._source, "last_frame_start", None) or time.monotonic() - len(mic) / ECHO_RATE
        for i in range(0, len(mic) - _APM_FRAME + 1, _APM_FRAME):
            ref = np.clip(self._played.take(t0 + i / ECHO_RATE, _APM_FRAME), -32768, 32767).astype(np.int16)
            self._apm.process_reverse_stream(rtc.AudioFrame(ref.tobytes(), ECHO_RATE, 1, _APM_FRAME))
            near = rtc.AudioFrame(mic[i:i + _APM_FRAME].tobytes(), ECHO_RATE, 1, _APM_FRAME)
            self._apm.process_stream(near)
            out = np.frombuffer(bytes(near.data), dtype=np.int16)
            if self._echo_only(out, t0 + i / ECHO_RATE):
                out = np.zeros_like(out)
            mic[i:i + _APM_FRAME] = out
        return rtc.AudioFrame(mic.tobytes(), ECHO_RATE, 1, len(mic))

    def _echo_only(self, frame: np.ndarray, t: float) -> bool:
        """Whether what is left of a 10 ms frame is too quiet to be the caller over the agent.

        AEC3 needs a moment to converge (the first ~0.5 s of each reply, and again when the echo
        path changes), and what it leaves then is echo, some 25 dB under the agent's voice. A
        caller who talks over the agent is about as loud as it: a frame more than
        `GATE_DB` under the agent's loudest 10 ms of the last `_GATE_WINDOW_S` is silenced."""
        ref = self._played.take(t - _GATE_WINDOW_S, int(_GATE_WINDOW_S * ECHO_RATE) + len(frame))
        if not ref.any():
            return False
        blocks = ref[: len(ref) // _APM_FRAME * _APM_FRAME].reshape(-1, _APM_FRAME)
        loudest = float(np.sqrt(np.max(np.mean(blocks.astype(np.float64) ** 2, axis=1))))
        level = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
        return level < loudest * 10 ** (-GATE_DB / 20)

    async def aclose(self) -> None:
        await self._source.aclose()
