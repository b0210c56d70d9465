"""Small audio helpers shared by the transport tests: tones, frames, and driving the ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
from livekit import rtc
from livekit.agents.voice.io import PlaybackFinishedEvent

from worker.transport import CallRecorder, CapturingAgentOutput

SR = 24000
"""The agent output's (and the recording's) sample rate in these tests."""


def tone(seconds: float, sample_rate: int, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    """A sine tone as int16 mono."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    return (np.sin(2 * np.pi * freq * t) * amp * 32767).astype(np.int16)


def frames_of(samples: np.ndarray, sample_rate: int, frame_ms: int = 10) -> list[rtc.AudioFrame]:
    """Cut int16 mono samples into real ``rtc.AudioFrame``s, as a TTS would push them."""
    n = sample_rate * frame_ms // 1000
    out = []
    for i in range(0, len(samples), n):
        chunk = samples[i : i + n]
        out.append(
            rtc.AudioFrame(
                data=chunk.tobytes(),
                sample_rate=sample_rate,
                num_channels=1,
                samples_per_channel=len(chunk),
            )
        )
    return out


async def drain(it: AsyncIterator[rtc.AudioFrame], sink: list[rtc.AudioFrame]) -> None:
    """Consume an audio input like AgentSession's forwarding task does."""
    try:
        async for frame in it:
            sink.append(frame)
    except asyncio.CancelledError:
        pass


def make_output() -> tuple[CapturingAgentOutput, list[PlaybackFinishedEvent], list[float]]:
    """An agent output recording at :data:`SR`, with the playback events it reports."""
    out = CapturingAgentOutput(recorder=CallRecorder(sample_rate=SR), sample_rate=SR)
    finished: list[PlaybackFinishedEvent] = []
    started: list[float] = []
    out.on("playback_finished", finished.append)
    out.on("playback_started", lambda ev: started.append(ev.created_at))
    return out, finished, started


async def push(out: CapturingAgentOutput, seconds: float, *, flush: bool = True) -> None:
    """Push TTS audio as livekit does: faster than real time, then flush."""
    for f in frames_of(tone(seconds, SR), SR, frame_ms=10):
        await out.capture_frame(f)
    if flush:
        out.flush()
