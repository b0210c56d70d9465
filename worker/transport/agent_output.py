"""The caller's speaker in a simulated call: agent audio out, at real-time pace.

:class:`CapturingAgentOutput` consumes the agent's synthesized audio at real-time pace,
so an interruption half-way through a sentence truncates what the caller "heard" exactly
as a real call would, and it reports playback to livekit-agents with the precise played
position. It supports ``pause()``/``resume()`` so the framework's false-interruption
resume works. What was heard is written to the agent (right) channel of the shared
:class:`~worker.transport.recording.CallRecorder`, and when it was heard to
:class:`~worker.transport.agent_speech.AgentSpeech`.

The other direction (caller audio in) is :mod:`worker.transport.caller_input`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from livekit import rtc
from livekit.agents.voice import io
from loguru import logger

from .agent_speech import AgentSpeech, AudioEventReason
from .clock import CallClock
from .echo import PlayedAudio
from .levels import first_audible
from .pcm import frame_to_mono
from .recording import AGENT, CallRecorder

__all__ = ["CapturingAgentOutput", "PlayedSegment"]


@dataclass
class PlayedSegment:
    """What happened to one flushed segment of agent audio (one reply, typically)."""

    index: int
    pushed: float
    played: float
    interrupted: bool
    started_at: float | None
    ended_at: float


@dataclass
class _Segment:
    index: int
    chunks: deque[tuple[np.ndarray, int]] = field(default_factory=deque)
    pushed: float = 0.0
    played: float = 0.0
    flushed: bool = False
    finished: bool = False
    started_mono: float | None = None
    audible_mono: float | None = None  # the first audible sample the caller heard


@dataclass
class _InFlight:
    seg: _Segment
    samples: np.ndarray
    rate: int
    start: float  # monotonic

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / self.rate


class CapturingAgentOutput(io.AudioOutput):
    """The caller's speaker: plays agent audio in real time and records what was heard.

    livekit-agents pushes TTS audio faster than real time and then waits for
    ``playback_finished``. This sink holds the audio and releases it chunk by chunk on
    a real-time schedule (a playout task), so ``clear_buffer()`` mid-sentence leaves the
    rest unheard and the reported ``playback_position`` is the audio that really played.
    That position is what livekit uses to truncate the assistant message, so it has to be
    right for interruption tests to mean anything.

    Contract kept with ``io.AudioOutput``: ``on_playback_started`` once per segment when
    its first sample plays; ``on_playback_finished`` exactly once per segment, whether it
    drained, was cleared (before or after ``flush()``), or was queued behind and never
    played (position 0, interrupted). ``pause()`` holds the playhead (the partly played
    chunk keeps its remainder) and ``resume()`` continues, which is what
    ``resume_false_interruption`` needs (``can_pause`` is True).

    When the caller heard the agent is recorded in :attr:`speech`
    (:class:`~worker.transport.agent_speech.AgentSpeech`): the timeline, the "quiet" test
    and the waits scenario runners time their lines by. What happened to each segment is
    in :attr:`segments`.
    """

    def __init__(
        self,
        *,
        recorder: CallRecorder | None = None,
        clock: CallClock | None = None,
        sample_rate: int | None = 24000,
        label: str = "SimulatedCallerSpeaker",
        can_pause: bool = True,
    ) -> None:
        """
        Args:
            sample_rate: rate requested from the session (it resamples TTS audio to it);
                ``None`` accepts any rate. Matching the recorder's rate avoids resampling.
            can_pause: advertise pause support. Set False to exercise livekit's
                no-pause path (false-interruption resume then disabled).
        """
        super().__init__(
            label=label,
            capabilities=io.AudioOutputCapabilities(pause=can_pause),
            next_in_chain=None,
            sample_rate=sample_rate,
        )
        self.recorder = recorder
        self.clock = clock or (recorder.clock if recorder is not None else CallClock())
        self.speech = AgentSpeech(self.clock)
        self.segments: list[PlayedSegment] = []
        self.audible_onsets: list[float] = []
        """Call time of each segment's first audible sample, as heard (see :meth:`first_audible_after`)."""
        self.played = PlayedAudio()
        """What played, by time: the echo a speakerphone sends back and the canceller's reference."""

        self._queue: deque[_Segment] = deque()  # unfinished segments in capture order
        self._capturing: _Segment | None = None
        self._inflight: _InFlight | None = None
        self._next_start: float | None = None  # where a continuous run goes on
        self._last_end: float | None = None  # monotonic end of the last played sample
        self._paused = False
        # the stretch of continuous playback being reported: (segment, offset, start)
        self._run: tuple[_Segment, float, float] | None = None
        self._seg_counter = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # -- io.AudioOutput ------------------------------------------------------------

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._capturing is None:
            self._seg_counter += 1
            self._capturing = _Segment(index=self._seg_counter)
            self._queue.append(self._capturing)
        seg = self._capturing
        if self._closed and not seg.finished:
            # nothing plays after close, but livekit still waits for this segment to end
            self._queue.remove(seg)
            self._finish(seg, interrupted=True, at=time.monotonic())
        if seg.finished:
            # cleared before flush: the rest of this segment is never heard
            return
        samples = frame_to_mono(frame)
        if len(samples) == 0:
            return
        self._ensure_task()
        seg.chunks.append((samples, frame.sample_rate))
        seg.pushed += len(samples) / frame.sample_rate
        self._changed.set()

    def flush(self) -> None:
        super().flush()
        seg, self._capturing = self._capturing, None
        if seg is None or seg.finished:
            return
        seg.flushed = True
        self._ensure_task()
        self._changed.set()

    def clear_buffer(self) -> None:
        """Stop playback now; every unfinished segment ends interrupted, once."""
        now = time.monotonic()
        pending = [s for s in self._queue if not s.finished]
        if not pending:
            return
        for seg in pending:
            at = now
            if self._inflight is not None and self._inflight.seg is seg:
                self._stop_inflight(now, keep_remainder=False)
            elif seg.started_mono is not None and self._last_end is not None:
                # it had run dry (TTS behind) or was paused: silence began earlier
                at = min(now, self._last_end)
            seg.chunks.clear()
            self._close_run()
            self._finish(seg, interrupted=True, at=at)
        self._queue.clear()
        self._next_start = None
        self._changed.set()

    def pause(self) -> None:
        """Hold the playhead where it is; the rest plays on ``resume()``."""
        super().pause()
        if self._paused:
            return
        self._paused = True
        now = time.monotonic()
        if self._inflight is not None:
            self._stop_inflight(now, keep_remainder=True)
        self._close_run()
        self._next_start = None
        if self.speech.speaking:
            seg = self._current_segment()
            self.speech.mark(False, "paused", seg.index, now, seg.played)
        logger.debug("agent audio paused at call time {:.3f}", self.clock.to_call_time(now))
        self._changed.set()

    def resume(self) -> None:
        super().resume()
        if not self._paused:
            return
        self._paused = False
        logger.debug("agent audio resumed at call time {:.3f}", self.clock.now())
        self._changed.set()

    async def aclose(self) -> None:
        """Stop the playout task; anything unfinished ends as interrupted."""
        self._closed = True
        self.clear_buffer()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    # -- playout -------------------------------------------------------------------

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._playout(), name="simulated_agent_playout")

    async def _playout(self) -> None:
        """Advance the playhead in real time; all state changes happen in ``_step``."""
        try:
            while True:
                self._changed.clear()
                wait = self._step(time.monotonic())
                if wait == 0.0:
                    continue
                try:
                    async with asyncio.timeout(wait):
                        await self._changed.wait()
                except TimeoutError:
                    pass
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("simulated agent playout failed")
            raise

    def _step(self, now: float) -> float | None:
        """Make one state transition; return how long to sleep (None: until a change).

        Synchronous on purpose: ``pause()``/``clear_buffer()`` from livekit run between
        steps and always see a consistent playhead.
        """
        inflight = self._inflight
        if inflight is not None:
            if now < inflight.end:
                return inflight.end - now
            self._complete_inflight()
            return 0.0

        while self._queue and self._queue[0].finished:
            self._queue.popleft()
        if not self._queue:
            self._close_run()
            self._next_start = None
            return None

        seg = self._queue[0]
        if seg.chunks:
            if self._paused:
                return None
            samples, rate = seg.chunks.popleft()
            # continue a run back-to-back; after a gap (underrun, pause) start now
            start = self._next_start if self._next_start is not None else now
            self._inflight = _InFlight(seg=seg, samples=samples, rate=rate, start=start)
            self.played.add(samples, rate, start)
            if self._run is None:
                self._run = (seg, seg.played, start)
            if seg.started_mono is None:
                seg.started_mono = start
                self.on_playback_started(created_at=time.time() - (now - start))
                self.speech.mark(True, "segment_start", seg.index, start, seg.played)
            elif not self.speech.speaking:
                self.speech.mark(True, "resumed", seg.index, start, seg.played)
            return 0.0

        if seg.flushed:
            self._queue.popleft()
            self._close_run()
            at = self._last_end if seg.started_mono is not None and self._last_end else now
            self._finish(seg, interrupted=False, at=at)
            return 0.0

        # the TTS is behind real time: the caller hears a gap
        self._close_run()
        self._next_start = None
        return None

    def _complete_inflight(self) -> None:
        f = self._inflight
        assert f is not None
        self._inflight = None
        if self.recorder is not None:
            self.recorder.add(AGENT, f.samples, f.rate, f.start)
        self._note_heard(f.seg, f.samples, f.rate, f.start)
        f.seg.played += len(f.samples) / f.rate
        self._next_start = self._last_end = f.end

    def _stop_inflight(self, now: float, *, keep_remainder: bool) -> None:
        """Cut the chunk being played at ``now``; record only what was heard."""
        f = self._inflight
        assert f is not None
        self._inflight = None
        n = min(max(int(round((now - f.start) * f.rate)), 0), len(f.samples))
        if n and self.recorder is not None:
            self.recorder.add(AGENT, f.samples[:n], f.rate, f.start)
        self._note_heard(f.seg, f.samples[:n], f.rate, f.start)
        f.seg.played += n / f.rate
        self._last_end = f.start + n / f.rate
        self.played.cut(self._last_end)
        if keep_remainder and n < len(f.samples):
            f.seg.chunks.appendleft((f.samples[n:], f.rate))
        self._close_run()

    def _note_heard(self, seg: _Segment, samples: np.ndarray, rate: int, start: float) -> None:
        """Keep the segment's first audible sample once the caller has really heard it."""
        if seg.audible_mono is not None:
            return
        offset = first_audible(samples, rate)
        if offset is not None:
            seg.audible_mono = start + offset
            self.audible_onsets.append(round(self.clock.to_call_time(seg.audible_mono), 4))

    def first_audible_after(self, t: float) -> float | None:
        """Call time of the first audible agent sample in a segment that began at or after ``t``.

        This is "first agent audio at the caller's ear": a segment's first frame may be quiet
        (Piper clauses can start with tens of ms of near-silence), so it is timed on the samples.
        """
        later = [a for a in self.audible_onsets if a >= t - 0.001]
        return min(later) if later else None

    def _close_run(self) -> None:
        """Report the stretch that just stopped playing (``on_playback_progressed``).

        Wrappers such as livekit's own ``RecorderAudioOutput`` place agent audio from
        these reports; without them they would assume the segment played in one piece,
        which is wrong across a pause.
        """
        if self._run is None:
            return
        seg, offset, start = self._run
        self._run = None
        duration = seg.played - offset
        if duration > 0:
            wall = time.time() - (time.monotonic() - start)
            self.on_playback_progressed(started_at=wall, offset=offset, duration=duration)

    def _finish(self, seg: _Segment, *, interrupted: bool, at: float) -> None:
        seg.finished = True
        if self.speech.speaking and self.speech.segment == seg.index:
            reason: AudioEventReason = "interrupted" if interrupted else "finished"
            self.speech.mark(False, reason, seg.index, at, seg.played)
        record = PlayedSegment(
            index=seg.index,
            pushed=seg.pushed,
            played=seg.played,
            interrupted=interrupted,
            started_at=(
                self.clock.to_call_time(seg.started_mono) if seg.started_mono is not None else None
            ),
            ended_at=self.clock.to_call_time(at),
        )
        self.segments.append(record)
        logger.debug(
            "agent segment {} {}: played {:.2f}/{:.2f} s",
            seg.index,
            "interrupted" if interrupted else "finished",
            seg.played,
            seg.pushed,
        )
        self.on_playback_finished(
            playback_position=seg.played, interrupted=interrupted, synchronized_transcript=None
        )

    def _current_segment(self) -> _Segment:
        for seg in self._queue:
            if seg.index == self.speech.segment:
                return seg
        return self._queue[0]
