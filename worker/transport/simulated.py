"""In-process audio transport for simulated phone calls.

A simulated call runs a real ``AgentSession`` (VAD, STT, planner, TTS, interruption
logic) with no LiveKit room. For its timing to mean anything, both ends must behave
like a phone line in real time:

* :class:`SimulatedCallerInput` is the agent's microphone. It produces 20 ms frames
  paced to the wall clock (frame *k* is scheduled from a fixed origin, so pacing never
  drifts), plays silence when the caller says nothing, and plays scripted utterances
  when a scenario runner calls :meth:`SimulatedCallerInput.say`.
* :class:`CapturingAgentOutput` is the caller's speaker. It consumes the agent's
  synthesized audio at real-time pace, so an interruption half-way through a sentence
  truncates what the caller "heard" exactly as a real call would, and it reports
  playback to livekit-agents with the precise played position. It supports
  ``pause()``/``resume()`` so the framework's false-interruption resume works.

Both sides write what was actually heard into a shared :class:`CallRecorder`
(caller left, agent right), on a shared :class:`CallClock`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from livekit import rtc
from livekit.agents.voice import io
from loguru import logger

from .recording import AGENT, CALLER, CallClock, CallRecorder, frame_to_mono, resample_mono

__all__ = [
    "AgentAudioEvent",
    "CallerUtterance",
    "CapturingAgentOutput",
    "PlayedSegment",
    "SimulatedCallerInput",
]


# ---------------------------------------------------------------------------------------
# caller → agent
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerUtterance:
    """When a caller utterance actually entered the agent's microphone (call time, s).

    ``completed`` is False when the utterance was cut short (``say()`` cancelled or the
    input closed); ``end`` is then where it stopped.
    """

    start: float
    end: float
    duration: float
    completed: bool = True


@dataclass
class _Pending:
    samples: np.ndarray
    future: asyncio.Future[CallerUtterance]
    queued_mono: float
    pos: int = 0
    start_mono: float | None = None


def _to_int16_mono(pcm: np.ndarray) -> np.ndarray:
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


class SimulatedCallerInput(io.AudioInput):
    """The agent's microphone in a simulated call: real-time paced caller audio.

    Frame *k* covers ``[t_start + k*d, t_start + (k+1)*d)`` and is delivered at its end,
    as a sound card would deliver a captured buffer; ``t_start`` is fixed when the session
    first pulls a frame. Delivery times are computed from that origin rather than by
    sleeping ``d`` after each frame, so event-loop latency never accumulates into drift:
    a late frame is followed by early ones until the schedule is caught up.

    ``say()`` only plays while something iterates this input (the ``AgentSession``).
    """

    def __init__(
        self,
        *,
        recorder: CallRecorder | None = None,
        clock: CallClock | None = None,
        sample_rate: int = 16000,
        frame_ms: int = 20,
        label: str = "SimulatedCaller",
        max_catchup: float | None = None,
    ) -> None:
        """
        Args:
            recorder: receives every frame on the caller (left) channel.
            clock: call clock for the timestamps ``say()`` returns; defaults to the
                recorder's so the recording and the timestamps agree.
            max_catchup: if the consumer falls further behind than this many seconds,
                move the schedule forward instead of bursting the backlog. ``None``
                (default) always catches up, which keeps caller audio on the wall clock.
        """
        super().__init__(label=label)
        if (sample_rate * frame_ms) % 1000:
            raise ValueError("frame_ms must give a whole number of samples per frame")
        self.sample_rate = sample_rate
        self.frame_duration = frame_ms / 1000.0
        self.samples_per_frame = sample_rate * frame_ms // 1000
        self.recorder = recorder
        self.clock = clock or (recorder.clock if recorder is not None else CallClock())
        self._max_catchup = max_catchup

        self._queue: deque[_Pending] = deque()
        self._t_start: float | None = None
        self._k = 0
        self._closed = False
        self._close_ev = asyncio.Event()

    # -- scenario side -------------------------------------------------------------

    @property
    def frames_sent(self) -> int:
        """Frames delivered so far (each ``frame_duration`` long)."""
        return self._k

    @property
    def queued_seconds(self) -> float:
        """Caller audio still waiting to be played."""
        return sum(len(p.samples) - p.pos for p in self._queue) / self.sample_rate

    @property
    def speaking(self) -> bool:
        """Whether caller audio is queued or being played."""
        return bool(self._queue)

    def enqueue(self, pcm: np.ndarray, sample_rate: int) -> asyncio.Future[CallerUtterance]:
        """Queue an utterance and return a future resolved when it has been fully played.

        Use this rather than :meth:`say` when the scenario must keep going while the
        caller talks (e.g. to watch whether the agent stops for a barge-in).
        """
        if self._closed:
            raise RuntimeError("caller input is closed")
        samples = resample_mono(_to_int16_mono(pcm), sample_rate, self.sample_rate)
        fut: asyncio.Future[CallerUtterance] = asyncio.get_running_loop().create_future()
        if len(samples) == 0:
            now = self.clock.now()
            fut.set_result(CallerUtterance(start=now, end=now, duration=0.0))
            return fut
        self._queue.append(
            _Pending(
                samples=np.ascontiguousarray(samples), future=fut, queued_mono=time.monotonic()
            )
        )
        logger.debug(
            "caller utterance queued: {:.2f} s ({} queued)", len(samples) / self.sample_rate,
            len(self._queue),
        )
        return fut

    async def say(self, pcm: np.ndarray, sample_rate: int) -> CallerUtterance:
        """Play ``pcm`` into the agent's microphone; return once it has fully played.

        Cancelling the awaiting task stops the caller mid-utterance (or drops the
        utterance if it had not started), like a person who stops talking.
        """
        fut = self.enqueue(pcm, sample_rate)
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            self._stop_pending(fut)
            raise

    def _stop_pending(self, fut: asyncio.Future[CallerUtterance]) -> None:
        for item in list(self._queue):
            if item.future is fut:
                self._queue.remove(item)
                self._resolve(item, end_mono=self._last_delivered_end(), completed=False)

    # -- AudioInput ----------------------------------------------------------------

    async def aclose(self) -> None:
        """End the stream: the iterator stops and pending utterances resolve incomplete."""
        if self._closed:
            return
        self._closed = True
        self._close_ev.set()
        end = self._last_delivered_end()
        while self._queue:
            self._resolve(self._queue.popleft(), end_mono=end, completed=False)

    async def __anext__(self) -> rtc.AudioFrame:
        if self._closed:
            raise StopAsyncIteration

        now = time.monotonic()
        if self._t_start is None:
            self._t_start = now
            logger.debug("caller input started at call time {:.3f}", self.clock.to_call_time(now))

        due = self._t_start + (self._k + 1) * self.frame_duration
        if self._max_catchup is not None and now - due > self._max_catchup:
            logger.warning("caller input {:.2f} s behind schedule; skipping ahead", now - due)
            self._t_start += now - due
            due = now

        if due > now:
            # nothing is consumed before this point, so a cancelled wait loses no audio
            try:
                async with asyncio.timeout(due - now):
                    await self._close_ev.wait()
            except TimeoutError:
                pass
            if self._closed:
                raise StopAsyncIteration

        return self._build_frame()

    # -- internals -----------------------------------------------------------------

    def _build_frame(self) -> rtc.AudioFrame:
        """Assemble frame k from the queue, record it and resolve finished utterances.

        Runs without awaiting so a frame is either fully emitted or not at all.
        """
        assert self._t_start is not None
        n = self.samples_per_frame
        frame_start = self._t_start + self._k * self.frame_duration
        buf = np.zeros(n, dtype=np.int16)
        filled = 0
        finished: list[tuple[_Pending, float]] = []
        while filled < n and self._queue:
            item = self._queue[0]
            if item.start_mono is None:
                # a caller who starts talking mid-frame is heard from that instant, never
                # earlier: the frame being assembled may have begun before say() was called
                offset = int(np.ceil((item.queued_mono - frame_start) * self.sample_rate))
                if offset >= n:
                    break
                filled = max(filled, offset)
                item.start_mono = frame_start + filled / self.sample_rate
            take = min(n - filled, len(item.samples) - item.pos)
            buf[filled : filled + take] = item.samples[item.pos : item.pos + take]
            item.pos += take
            filled += take
            if item.pos >= len(item.samples):
                self._queue.popleft()
                finished.append((item, frame_start + filled / self.sample_rate))

        self._k += 1
        frame = rtc.AudioFrame(
            data=buf.tobytes(),
            sample_rate=self.sample_rate,
            num_channels=1,
            samples_per_channel=n,
        )
        if self.recorder is not None:
            self.recorder.add(CALLER, buf, self.sample_rate, frame_start)
        for item, end in finished:
            self._resolve(item, end_mono=end, completed=True)
        return frame

    def _last_delivered_end(self) -> float:
        if self._t_start is None:
            return time.monotonic()
        return self._t_start + self._k * self.frame_duration

    def _resolve(self, item: _Pending, *, end_mono: float, completed: bool) -> None:
        if item.future.done():
            return
        start_mono = item.start_mono if item.start_mono is not None else end_mono
        result = CallerUtterance(
            start=self.clock.to_call_time(start_mono),
            end=self.clock.to_call_time(end_mono),
            duration=item.pos / self.sample_rate,
            completed=completed,
        )
        item.future.set_result(result)
        logger.debug(
            "caller utterance {}: {:.3f} → {:.3f}",
            "played" if completed else "cut short",
            result.start,
            result.end,
        )


# ---------------------------------------------------------------------------------------
# agent → caller
# ---------------------------------------------------------------------------------------

AudioEventKind = Literal["started", "stopped"]
AudioEventReason = Literal["segment_start", "resumed", "finished", "interrupted", "paused"]


@dataclass(frozen=True)
class AgentAudioEvent:
    """The agent became audible (``started``) or silent (``stopped``) to the caller.

    ``at`` is call time and ``monotonic`` the same instant on ``time.monotonic()``; both
    are when the audio actually started/stopped playing, not when the event was noticed.
    ``position`` is how much of the segment had played at that instant.
    """

    kind: AudioEventKind
    reason: AudioEventReason
    segment: int
    at: float
    monotonic: float
    position: float


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


@dataclass
class _InFlight:
    seg: _Segment
    samples: np.ndarray
    rate: int
    start: float  # monotonic

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / self.rate


AgentAudioEventName = Literal["agent_audio_started", "agent_audio_stopped"]


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

    Scenario hooks: :attr:`timeline` of :class:`AgentAudioEvent`, the ``events`` emitter
    (``agent_audio_started`` / ``agent_audio_stopped``), and awaitables
    :meth:`wait_speaking_started`, :meth:`wait_speaking_stopped`, :meth:`wait_idle`.
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
        self.events: rtc.EventEmitter[AgentAudioEventName] = rtc.EventEmitter()
        self.timeline: list[AgentAudioEvent] = []
        self.segments: list[PlayedSegment] = []

        self._queue: deque[_Segment] = deque()  # unfinished segments in capture order
        self._capturing: _Segment | None = None
        self._inflight: _InFlight | None = None
        self._next_start: float | None = None  # where a continuous run goes on
        self._last_end: float | None = None  # monotonic end of the last played sample
        self._paused = False
        self._speaking = False
        self._speaking_segment = 0
        # the stretch of continuous playback being reported: (segment, offset, start)
        self._run: tuple[_Segment, float, float] | None = None
        self._seg_counter = 0
        self._changed = asyncio.Event()
        self._timeline_ev = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    # -- state for scenario runners ------------------------------------------------

    @property
    def speaking(self) -> bool:
        """Whether the agent is mid-utterance for the caller.

        True from the first played sample of a segment until it ends or is paused. A
        brief TTS underrun inside a segment does not count as stopping: the agent has not
        finished its sentence, and scenario timing keys off sentences, not sample gaps.
        """
        return self._speaking

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def total_played(self) -> float:
        """Seconds of agent audio the caller heard, over all segments so far."""
        done = sum(s.played for s in self.segments)
        return done + sum(s.played for s in self._queue if not s.finished)

    @property
    def last_stopped_at(self) -> float | None:
        """Call time the agent last went silent, or None if it never spoke."""
        for ev in reversed(self.timeline):
            if ev.kind == "stopped":
                return ev.at
        return None

    async def wait_speaking_started(
        self, *, after: float | None = None, timeout: float | None = None
    ) -> AgentAudioEvent:
        """Wait until agent audio starts playing.

        With ``after`` (call time): the first ``started`` event at or after it, possibly
        one already in the timeline. Without: the start of the audio playing right now,
        or else the next start. Raises ``TimeoutError`` after ``timeout`` seconds.
        """
        if after is None:
            if self._speaking:
                return next(ev for ev in reversed(self.timeline) if ev.kind == "started")
            first_index = len(self.timeline)

            def match(i: int, ev: AgentAudioEvent) -> bool:
                return ev.kind == "started" and i >= first_index
        else:
            after_t: float = after

            def match(i: int, ev: AgentAudioEvent) -> bool:
                return ev.kind == "started" and ev.at >= after_t

        return await self._wait_event(match, timeout)

    async def wait_speaking_stopped(
        self, *, after: float | None = None, timeout: float | None = None
    ) -> AgentAudioEvent:
        """Wait until agent audio stops (finished, interrupted or paused).

        With ``after`` (call time): the first ``stopped`` event at or after it. Without:
        the end of the audio playing now; if nothing plays, the latest stop (or the next
        one if the agent never spoke).
        """
        if after is None:
            if not self._speaking:
                for ev in reversed(self.timeline):
                    if ev.kind == "stopped":
                        return ev
            first_index = len(self.timeline)

            def match(i: int, ev: AgentAudioEvent) -> bool:
                return ev.kind == "stopped" and i >= first_index
        else:
            after_t: float = after

            def match(i: int, ev: AgentAudioEvent) -> bool:
                return ev.kind == "stopped" and ev.at >= after_t

        return await self._wait_event(match, timeout)

    async def wait_idle(
        self,
        quiet: float = 0.0,
        *,
        spoke_after: float | None = None,
        timeout: float | None = None,
    ) -> float:
        """Wait until the agent has been silent for ``quiet`` seconds; return when it went silent.

        A reply often arrives as several segments with short gaps (tool calls, sentence
        boundaries), so "the agent stopped talking" for ``after_agent:`` timing means
        "nothing played for a while", not "one segment ended". With ``spoke_after`` (call
        time), first wait for agent audio that started at or after it, so a runner does not
        mistake the thinking pause before a reply for the end of it. Paused audio counts
        as silence. Returns the call time silence began.
        """
        async with asyncio.timeout(timeout):
            if spoke_after is not None:
                await self.wait_speaking_started(after=spoke_after)
            while True:
                waiter = self._timeline_ev
                if self._speaking:
                    await waiter.wait()
                    continue
                since = self.last_stopped_at or 0.0
                remaining = since + quiet - self.clock.now()
                if remaining <= 0:
                    return since
                try:
                    async with asyncio.timeout(remaining):
                        await waiter.wait()
                except TimeoutError:
                    pass

    async def _wait_event(
        self, match: Callable[[int, AgentAudioEvent], bool], timeout: float | None
    ) -> AgentAudioEvent:
        async with asyncio.timeout(timeout):
            checked = 0
            while True:
                waiter = self._timeline_ev
                for i in range(checked, len(self.timeline)):
                    if match(i, self.timeline[i]):
                        return self.timeline[i]
                checked = len(self.timeline)
                await waiter.wait()

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
        if self._speaking:
            seg = self._current_segment()
            self._set_speaking(False, "paused", seg, now)
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
            if self._run is None:
                self._run = (seg, seg.played, start)
            if seg.started_mono is None:
                seg.started_mono = start
                self.on_playback_started(created_at=time.time() - (now - start))
                self._set_speaking(True, "segment_start", seg, start)
            elif not self._speaking:
                self._set_speaking(True, "resumed", seg, start)
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
        f.seg.played += n / f.rate
        self._last_end = f.start + n / f.rate
        if keep_remainder and n < len(f.samples):
            f.seg.chunks.appendleft((f.samples[n:], f.rate))
        self._close_run()

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
        if self._speaking and self._speaking_segment == seg.index:
            self._set_speaking(False, "interrupted" if interrupted else "finished", seg, at)
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
            if seg.index == self._speaking_segment:
                return seg
        return self._queue[0]

    def _set_speaking(
        self, speaking: bool, reason: AudioEventReason, seg: _Segment, at: float
    ) -> None:
        self._speaking = speaking
        self._speaking_segment = seg.index
        ev = AgentAudioEvent(
            kind="started" if speaking else "stopped",
            reason=reason,
            segment=seg.index,
            at=self.clock.to_call_time(at),
            monotonic=at,
            position=seg.played,
        )
        self.timeline.append(ev)
        waiter, self._timeline_ev = self._timeline_ev, asyncio.Event()
        waiter.set()
        self.events.emit("agent_audio_started" if speaking else "agent_audio_stopped", ev)
