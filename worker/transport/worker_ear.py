"""Turn latency on the audio a LiveKit worker receives and publishes ("audio at the worker").

A simulated call hears both sides exactly as the caller does, so its trace times the turn at the
caller's ear (`eos_source` / `first_audio_source` = "audio"). In a room the worker cannot hear
what the caller's device plays; what it has is the caller's audio as received from the room and
its own audio as it publishes it. `WorkerEar` times the turn on those two streams, with the same
level test as everywhere (`worker.transport.levels`: RMS over -46 dBFS in 10 ms blocks):

- the caller's end of speech is the last audible sample of the received caller audio before the
  VAD's end of speech (`ReceivedAudioTap`, an `AudioInput` in front of RoomIO's input; a frame's
  last sample is dated when the session reads it);
- the agent's first audio is the first audible sample of the reply's published audio
  (`PublishedAudioTap`, an `AudioOutput` in front of RoomIO's output chain): the sample's offset
  in the reply's audio, placed on the playout runs the room output reports (a run started when
  its first frame entered the track's source).

The label is "audio_at_worker", not "audio": the figure leaves out the network both ways and the
caller's jitter buffer and playout (on loopback 40-200 ms), so it reads better than a caller
hears. The framework's own figures stay beside it (`*_framework`).

`attach(session)` runs once the room's input and output are set on the session and before it
starts (`worker.room.room_link` opens the RoomIO first), so no frame has been read or written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from .levels import first_audible, last_audible

__all__ = ["PublishedAudioTap", "ReceivedAudioTap", "WorkerEar"]

SOURCE: Final = "audio_at_worker"
"""The trace's label for a figure timed here (`Latencies.eos_source` / `first_audio_source`)."""

MERGE_GAP_S = 0.1
"""Audible stretches this close are one (the pauses between words), as in `levels.audible_spans`."""
LATE_S = 0.6
"""Audio this long after the VAD's end of speech still belongs to the turn (its quiet tail)."""
KEEP_SPANS = 4000


def _samples(frame: rtc.AudioFrame) -> np.ndarray:
    data = np.frombuffer(frame.data, dtype=np.int16)
    return data if frame.num_channels == 1 else data.reshape(-1, frame.num_channels)[:, 0]


class ReceivedAudioTap(io.AudioInput):
    """Passes the caller's frames on unchanged; keeps the audible stretches (call time, s)."""

    def __init__(self, source: io.AudioInput, t0: float) -> None:
        super().__init__(label="WorkerEar", source=source)
        self.t0 = t0
        self.spans: list[list[float]] = []

    async def __anext__(self) -> rtc.AudioFrame:
        frame = await super().__anext__()
        self.note(frame, time.time() - self.t0)
        return frame

    def note(self, frame: rtc.AudioFrame, end: float) -> None:
        """Keep the audible part of `frame`, whose last sample is at call time `end`."""
        samples = _samples(frame)
        first = first_audible(samples, frame.sample_rate)
        if first is None:
            return
        last = last_audible(samples, frame.sample_rate) or first
        start = end - frame.duration
        s, e = start + first, start + last
        if self.spans and s - self.spans[-1][1] <= MERGE_GAP_S:
            self.spans[-1][1] = e
        else:
            self.spans.append([s, e])
            del self.spans[:-KEEP_SPANS]

    def last_audible_before(self, vad_end: float, started: float | None = None) -> float | None:
        """End of the caller's speech that the VAD ended at `vad_end` (None: not heard clearly).

        The stretch that began before the VAD's end (and not before the turn's start, when
        known); when it goes on past `vad_end + LATE_S`, the caller did not really stop (noise,
        or the next words), and the figure falls back to the VAD.
        """
        for s, e in reversed(self.spans):
            if s > vad_end:
                continue
            if started is not None and e < started:
                return None
            return round(e, 4) if e <= vad_end + LATE_S else None
        return None


@dataclass
class _Segment:
    audible: float | None = None
    """Offset (s) of the first audible sample in the segment's audio."""
    captured: float = 0.0
    started_at: float | None = None
    runs: list[tuple[float, float, float]] = field(default_factory=list)
    """(wall time, offset, duration) of each stretch that played."""
    finished: bool = False

    def audible_wall(self) -> float | None:
        if self.audible is None or self.started_at is None:
            return None
        for at, offset, duration in self.runs:
            if offset <= self.audible < offset + duration:
                return at + (self.audible - offset)
        return self.started_at + self.audible  # still in the first run, not reported yet


class PublishedAudioTap(io.AudioOutput):
    """Passes the agent's audio on unchanged; keeps, per segment, when its first audible sample
    was published (wall time)."""

    def __init__(self, next_in_chain: io.AudioOutput, t0: float) -> None:
        super().__init__(label="WorkerEar", capabilities=io.AudioOutputCapabilities(pause=True),
                         next_in_chain=next_in_chain, sample_rate=next_in_chain.sample_rate)
        self.t0 = t0
        self.segments: list[_Segment] = []
        self._capturing: _Segment | None = None

    @property
    def _next(self) -> io.AudioOutput:
        assert self.next_in_chain is not None
        return self.next_in_chain

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        seg = self._capturing
        if seg is None:
            seg = self._capturing = _Segment()
            self.segments.append(seg)
            del self.segments[:-KEEP_SPANS]
        if seg.audible is None:
            offset = first_audible(_samples(frame), frame.sample_rate)
            if offset is not None:
                seg.audible = seg.captured + offset
        seg.captured += frame.duration
        await self._next.capture_frame(frame)

    def flush(self) -> None:
        super().flush()
        self._capturing = None
        self._next.flush()

    def clear_buffer(self) -> None:
        self._next.clear_buffer()

    def _playing(self) -> _Segment | None:
        return next((s for s in self.segments if not s.finished), None)

    def on_playback_started(self, *, created_at: float) -> None:
        seg = next((s for s in self.segments if s.started_at is None and not s.finished), None)
        if seg is not None:
            seg.started_at = created_at
        super().on_playback_started(created_at=created_at)

    def on_playback_progressed(self, *, started_at: float, offset: float, duration: float) -> None:
        seg = self._playing()
        if seg is not None:
            seg.runs.append((started_at, offset, duration))
        super().on_playback_progressed(started_at=started_at, offset=offset, duration=duration)

    def on_playback_finished(self, *, playback_position: float, interrupted: bool,
                             synchronized_transcript: str | None = None) -> None:
        if self._pending_playback_count == 0:
            return  # a segment that went past this tap (one begun before it was attached)
        seg = self._playing()
        if seg is not None:
            seg.finished = True
        super().on_playback_finished(playback_position=playback_position, interrupted=interrupted,
                                     synchronized_transcript=synchronized_transcript)

    def first_audible_after(self, t: float) -> float | None:
        """Call time of the first audible published sample of a segment that began at or after `t`."""
        for seg in self.segments:
            wall = seg.audible_wall()
            if seg.started_at is not None and seg.started_at - self.t0 >= t - 0.005 and wall is not None:
                return round(wall - self.t0, 4)
        return None


class WorkerEar:
    """Both taps of one room call, and the two look-ups the trace asks (`CallAssembly`'s
    `true_eos` / `heard_first_audio`); `t0` is the trace's wall-clock origin."""

    source: Literal["audio_at_worker"] = SOURCE

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.received: ReceivedAudioTap | None = None
        self.published: PublishedAudioTap | None = None

    def attach(self, session: Any) -> None:
        """Put the taps in front of the session's room input and output (see the module doc)."""
        if session.input.audio is not None:
            self.received = ReceivedAudioTap(session.input.audio, self.t0)
            session.input.audio = self.received
        if session.output.audio is not None:
            self.published = PublishedAudioTap(session.output.audio, self.t0)
            session.output.audio = self.published

    def true_eos(self, caller: Any) -> float | None:
        """The caller's last audible sample for a turn (`CallerPart`), or None."""
        if self.received is None or caller.speech_ended_at is None:
            return None
        return self.received.last_audible_before(caller.speech_ended_at, caller.speech_started_at)

    def first_audible_after(self, t: float) -> float | None:
        return None if self.published is None else self.published.first_audible_after(t)
