"""The browser's audio over a direct WebRTC link (aiortc), as livekit-agents audio I/O.

Local mode (`mediabloom demo`) has no LiveKit server: the browser and this process are the two
ends of one peer connection. This module is only the audio seam; the call itself comes from
the one call assembly like every other transport's.

* :class:`BrowserMicrophone` is the session's `AudioInput`: Opus-decoded 48 kHz frames from the
  browser's track, mixed to mono and resampled once to 16 kHz (the rate VAD and STT run at).
Both can write what was heard into a `CallRecorder` (caller left, agent right), so a demo call
has a `call.wav` for `mediabloom trace --html` like a simulated one.

* :class:`BrowserSpeaker` is the session's `AudioOutput`: it queues the agent's audio (asked
  for at 48 kHz) per segment, and :class:`AgentAudioTrack` — the track aiortc sends — takes
  20 ms from it on the wall clock, silence when there is none. Playback is duplex: clearing
  the buffer mid-sentence (barge-in) drops the rest, and `playback_position` reports what was
  really sent. Pause is not offered, so livekit-agents disables false-interruption resume.

aioice leaves 127.0.0.1 out of its host candidates, and a local demo must not listen on the
LAN either: :func:`offer_loopback_only` makes this process gather on loopback only.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections import deque
from dataclasses import dataclass, field

import aioice.ice
import av
import numpy as np
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from livekit import rtc
from livekit.agents.voice import io

from worker.transport.recording import AGENT, CALLER, CallRecorder

WEBRTC_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms at 48 kHz
SESSION_INPUT_RATE = 16000


def offer_loopback_only() -> None:
    """Gather ICE host candidates on 127.0.0.1 only (process-wide; the demo serves loopback only)."""
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]  # type: ignore[assignment]


def _mono_int16(frame: av.AudioFrame) -> np.ndarray:
    """A decoded frame as mono int16 (aiortc's Opus decoder gives packed s16, usually stereo)."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if frame.format.is_planar:
        mono = data.mean(axis=0) if channels > 1 else data[0]
    else:
        mono = data.reshape(-1, channels).mean(axis=1) if channels > 1 else data.reshape(-1)
    if np.issubdtype(mono.dtype, np.floating) and frame.format.name.startswith("flt"):
        mono = mono * 32767.0
    return np.clip(mono, -32768, 32767).astype(np.int16)


class BrowserMicrophone(io.AudioInput):
    """The caller's microphone: frames from the browser's audio track, 16 kHz mono."""

    def __init__(self, track: MediaStreamTrack, sample_rate: int = SESSION_INPUT_RATE,
                 recorder: CallRecorder | None = None) -> None:
        super().__init__(label="BrowserMicrophone")
        self._track = track
        self._recorder = recorder
        self._rate = sample_rate
        self._resampler: rtc.AudioResampler | None = None
        self._in_rate: int | None = None
        self._ready: deque[rtc.AudioFrame] = deque()
        self.frames_received = 0

    async def __anext__(self) -> rtc.AudioFrame:
        while not self._ready:
            try:
                frame = await self._track.recv()
            except MediaStreamError:
                raise StopAsyncIteration from None
            self.frames_received += 1
            samples = _mono_int16(frame)  # type: ignore[arg-type]
            rate = frame.sample_rate  # type: ignore[union-attr]
            if self._recorder is not None:  # the frame ends now: it started one frame ago
                self._recorder.add(CALLER, samples, rate, time.monotonic() - len(samples) / rate)
            out = rtc.AudioFrame(data=samples.tobytes(), sample_rate=rate, num_channels=1, samples_per_channel=len(samples))
            if rate == self._rate:
                self._ready.append(out)
                continue
            if self._resampler is None or self._in_rate != rate:
                self._resampler, self._in_rate = rtc.AudioResampler(rate, self._rate, num_channels=1), rate
            self._ready.extend(self._resampler.push(out))
        return self._ready.popleft()


@dataclass
class _Segment:
    chunks: deque[np.ndarray] = field(default_factory=deque)
    flushed: bool = False
    started: bool = False
    finished: bool = False
    played: int = 0  # samples sent to the browser


class BrowserSpeaker(io.AudioOutput):
    """The caller's speaker: agent audio queued per segment, drained by :class:`AgentAudioTrack`.

    Contract with `io.AudioOutput`: `on_playback_started` once per segment when its first
    sample is sent; `on_playback_finished` exactly once per segment — drained after `flush()`,
    or cut by `clear_buffer()` (even before its flush), with the position actually sent.
    """

    def __init__(self, recorder: CallRecorder | None = None) -> None:
        self._recorder = recorder
        super().__init__(label="BrowserSpeaker", capabilities=io.AudioOutputCapabilities(pause=False),
                         next_in_chain=None, sample_rate=WEBRTC_RATE)
        self._queue: deque[_Segment] = deque()
        self._capturing: _Segment | None = None
        self.track = AgentAudioTrack(self)
        self.segments_played = 0
        self.segments_cut = 0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._capturing is None:
            self._capturing = _Segment()
            self._queue.append(self._capturing)
        seg = self._capturing
        if seg.finished:  # cut before its flush: the rest is never heard
            return
        pcm = np.frombuffer(frame.data, dtype=np.int16)
        if frame.num_channels > 1:
            pcm = pcm.reshape(-1, frame.num_channels).mean(axis=1).astype(np.int16)
        if frame.sample_rate != WEBRTC_RATE:  # the session resamples to our rate; guard anyway
            raise ValueError(f"BrowserSpeaker expects {WEBRTC_RATE} Hz audio, got {frame.sample_rate}")
        seg.chunks.append(pcm.copy())

    def flush(self) -> None:
        super().flush()
        seg, self._capturing = self._capturing, None
        if seg is not None and not seg.finished:
            seg.flushed = True

    def clear_buffer(self) -> None:
        """Barge-in: every unfinished segment ends now, interrupted, at what was sent."""
        for seg in list(self._queue):
            if not seg.finished:
                self._finish(seg, interrupted=True)
        self._queue.clear()

    def _finish(self, seg: _Segment, interrupted: bool) -> None:
        seg.finished = True
        seg.chunks.clear()
        if interrupted:
            self.segments_cut += 1
        else:
            self.segments_played += 1
        self.on_playback_finished(playback_position=seg.played / WEBRTC_RATE, interrupted=interrupted)

    def next_frame(self) -> np.ndarray:
        """The next 20 ms to send: agent audio where there is some, silence elsewhere."""
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        filled = 0
        while filled < FRAME_SAMPLES and self._queue:
            seg = self._queue[0]
            if not seg.chunks:
                if seg.flushed:  # drained
                    self._queue.popleft()
                    self._finish(seg, interrupted=False)
                    continue
                break  # synthesis behind: an underrun, not the end
            chunk = seg.chunks[0]
            take = min(len(chunk), FRAME_SAMPLES - filled)
            out[filled:filled + take] = chunk[:take]
            if take == len(chunk):
                seg.chunks.popleft()
            else:
                seg.chunks[0] = chunk[take:]
            if not seg.started:
                seg.started = True
                self.on_playback_started(created_at=time.time())
            seg.played += take
            filled += take
        if filled and self._recorder is not None:
            self._recorder.add(AGENT, out, WEBRTC_RATE, time.monotonic())
        return out


class AgentAudioTrack(MediaStreamTrack):
    """The audio track aiortc sends to the browser: 20 ms frames paced to the wall clock."""

    kind = "audio"

    def __init__(self, speaker: BrowserSpeaker) -> None:
        super().__init__()
        self._speaker = speaker
        self._start: float | None = None
        self._pts = 0

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            wait = self._start + self._pts / WEBRTC_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        pcm = self._speaker.next_frame()
        frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        frame.planes[0].update(pcm.tobytes())
        frame.sample_rate = WEBRTC_RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, WEBRTC_RATE)
        return frame
