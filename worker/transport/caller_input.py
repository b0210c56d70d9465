"""The agent's microphone in a simulated call: caller audio in, at real-time pace.

A simulated call runs a real ``AgentSession`` (VAD, STT, planner, TTS, interruption
logic) with no LiveKit room. For its timing to mean anything the caller must sound like a
phone line: :class:`SimulatedCallerInput` produces 20 ms frames paced to the wall clock
(frame *k* is scheduled from a fixed origin, so pacing never drifts), plays silence when
the caller says nothing, and plays scripted utterances when a scenario runner calls
:meth:`SimulatedCallerInput.say`. Every frame is written to the caller (left) channel of
the shared :class:`~worker.transport.recording.CallRecorder`; :class:`CallerUtterance`
says when an utterance actually entered the microphone, on the shared
:class:`~worker.transport.clock.CallClock`.

The other direction (agent audio out) is :mod:`worker.transport.agent_output`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from livekit import rtc
from livekit.agents.voice import io
from loguru import logger

from .clock import CallClock
from .echo import ECHO_RATE, Speakerphone
from .levels import audible_spans, first_audible, last_audible
from .pcm import resample_mono, to_int16_mono
from .recording import CALLER, CallRecorder

__all__ = ["CallerUtterance", "SimulatedCallerInput"]


@dataclass(frozen=True)
class CallerUtterance:
    """When a caller utterance actually entered the agent's microphone (call time, s).

    ``completed`` is False when the utterance was cut short (``say()`` cancelled or the
    input closed); ``end`` is then where it stopped. ``start``/``end`` are the buffer's
    edges; ``audible_start``/``audible_end`` are the first and last audible samples in it
    (:mod:`worker.transport.levels`), what a listener would time (None: nothing audible);
    ``audible`` its audible spans (call time; words closer than 0.1 s merged), where a turn
    that ended at a pause inside the line really ended.
    """

    start: float
    end: float
    duration: float
    completed: bool = True
    audible_start: float | None = None
    audible_end: float | None = None
    audible: tuple[tuple[float, float], ...] = ()


@dataclass
class _Pending:
    samples: np.ndarray
    future: asyncio.Future[CallerUtterance]
    queued_mono: float
    pos: int = 0
    start_mono: float | None = None


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
        echo: Speakerphone | None = None,
    ) -> None:
        """
        Args:
            recorder: receives every frame on the caller (left) channel.
            clock: call clock for the timestamps ``say()`` returns; defaults to the
                recorder's so the recording and the timestamps agree.
            max_catchup: if the consumer falls further behind than this many seconds,
                move the schedule forward instead of bursting the backlog. ``None``
                (default) always catches up, which keeps caller audio on the wall clock.
            echo: the agent's voice coming back through the caller's speakerphone, mixed
                into every frame (:mod:`worker.transport.echo`); None: a line without echo.
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
        self.echo = echo

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
    def last_frame_start(self) -> float | None:
        """Monotonic time the first sample of the last delivered frame was captured."""
        if self._t_start is None or self._k == 0:
            return None
        return self._t_start + (self._k - 1) * self.frame_duration

    @property
    def queued_seconds(self) -> float:
        """Caller audio still waiting to be played."""
        return sum(len(p.samples) - p.pos for p in self._queue) / self.sample_rate

    def enqueue(self, pcm: np.ndarray, sample_rate: int) -> asyncio.Future[CallerUtterance]:
        """Queue an utterance and return a future resolved when it has been fully played.

        Use this rather than :meth:`say` when the scenario must keep going while the
        caller talks (e.g. to watch whether the agent stops for a barge-in).
        """
        if self._closed:
            raise RuntimeError("caller input is closed")
        samples = resample_mono(to_int16_mono(pcm), sample_rate, self.sample_rate)
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

        if self.echo is not None and self.sample_rate == ECHO_RATE:
            buf = np.clip(buf + self.echo.echo(frame_start, n), -32768, 32767).astype(np.int16)
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
        start = self.clock.to_call_time(start_mono)
        played = item.samples[: item.pos]
        first, last = first_audible(played, self.sample_rate), last_audible(played, self.sample_rate)
        result = CallerUtterance(
            start=start,
            end=self.clock.to_call_time(end_mono),
            duration=item.pos / self.sample_rate,
            completed=completed,
            audible_start=None if first is None else round(start + first, 4),
            audible_end=None if last is None else round(start + last, 4),
            audible=tuple((round(start + a, 4), round(start + b, 4)) for a, b in audible_spans(played, self.sample_rate)),
        )
        item.future.set_result(result)
        logger.debug(
            "caller utterance {}: {:.3f} → {:.3f}",
            "played" if completed else "cut short",
            result.start,
            result.end,
        )
