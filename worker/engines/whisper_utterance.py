"""One utterance of Whisper's recognition stream (`whisper_stt`): its audio and what was done with it.

Why a module of its own: the stream's state per utterance (buffered audio, the speculative and
interim decodes, the pause heard) is plain data the stream reads and
writes from its event loop; keeping it here keeps `whisper_stt` about the events.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np
from livekit import rtc

from worker.engines.quiet_tail import QuietTail
from worker.engines.whisper_decode import SAMPLE_RATE, Transcript

__all__ = ["Utterance"]


@dataclass
class Utterance:
    request_id: str
    start_sample: int  # stream-relative index of the first buffered sample
    chunks: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    version: int = 0  # bumped by every VAD window that still hears speech
    last_interim_at: int = 0  # `samples` when the last interim was started
    last_interim_text: str = ""
    spec_version: int = -1
    spec_task: asyncio.Task[Transcript] | None = None
    interim_task: asyncio.Task[Transcript] | None = None
    silence: float = 0.0  # the VAD's silence at the end of the audio so far...
    silence_at: float = 0.0  # ...as of this wall time
    spec_pause: float | None = None  # the silence that ends the turn after the speculative transcript
    quiet: QuietTail | None = None  # the pause heard by level (`quiet_tail`)
    heard: float = 0.0  # the pause so far by the VAD or, sooner, by level (`silence` is the VAD's)
    over_agent: bool = False  # it began while the agent was talking (`ExpectedAnswer.agent_talking`)

    @property
    def speech_s(self) -> float:
        """Seconds of audio up to the pause (the utterance without its trailing silence)."""
        return self.samples / SAMPLE_RATE - self.silence

    def append(self, frames: list[rtc.AudioFrame]) -> bool:
        """Buffer `frames`; True when they were all quiet by level (never without a `quiet`)."""
        quiet = bool(frames) and self.quiet is not None
        for f in frames:
            if f.samples_per_channel:
                self.chunks.append(samples := np.frombuffer(f.data, dtype=np.int16).copy())
                self.samples += f.samples_per_channel
                quiet = self.quiet is not None and self.quiet.push(samples) and quiet
        return quiet

    def audio(self) -> np.ndarray:
        if not self.chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self.chunks).astype(np.float32) / 32768.0

    def busy(self) -> bool:
        return any(t is not None and not t.done() for t in (self.spec_task, self.interim_task))
