"""When the caller heard the agent: the started/stopped timeline and the one test of "quiet".

:class:`~worker.transport.agent_output.CapturingAgentOutput` plays the agent's audio and
reports here each time the agent becomes audible to the caller or silent again. Everything
that times a simulated call off the agent (the scenario runner's ``after_agent`` and
``barge_in`` lines, the tests) reads this one record instead of keeping its own idea of
when the agent talks.

"Speaking" is a playback state, not a sound level: it starts with the first played sample
of a reply segment and ends when the segment finishes, is interrupted or is paused. A TTS
underrun inside a segment (a gap while synthesis catches up) does not end it: the agent
has not finished its sentence. The level test for the same thing after the fact, on the
recording, is :mod:`worker.transport.levels`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from livekit import rtc

from .clock import CallClock

__all__ = [
    "QUIET_AGENT_STATES",
    "STATE_POLL_S",
    "AgentAudioEvent",
    "AgentSpeech",
]

AudioEventKind = Literal["started", "stopped"]
AudioEventReason = Literal["segment_start", "resumed", "finished", "interrupted", "paused"]
AgentAudioEventName = Literal["agent_audio_started", "agent_audio_stopped"]

QUIET_AGENT_STATES: frozenset[str] = frozenset({"listening", "idle"})
"""``AgentSession.agent_state`` values in which the agent is not about to talk.

"thinking" (planning a reply, running tools) and "speaking" (audio queued or playing) are
not quiet: a caller who talks then talks over a reply that is on its way.
"""

STATE_POLL_S = 0.020
"""How often :meth:`AgentSpeech.wait_quiet` reads the session's state, in seconds.

The session does not tell the transport about its state, so it is read; 20 ms is one
caller frame (:class:`~worker.transport.caller_input.SimulatedCallerInput`), the finest
step at which a caller's audio can start anyway.
"""


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


class AgentSpeech:
    """The record of when the agent was speaking to the caller, and waits built on it.

    Read :attr:`speaking` / :meth:`is_quiet` for "now", :attr:`timeline` for the whole call,
    subscribe to :attr:`events` (``agent_audio_started`` / ``agent_audio_stopped``), or
    await :meth:`wait_started`, :meth:`wait_stopped` and :meth:`wait_quiet`.
    """

    def __init__(self, clock: CallClock) -> None:
        self.clock = clock
        self.events: rtc.EventEmitter[AgentAudioEventName] = rtc.EventEmitter()
        self.timeline: list[AgentAudioEvent] = []
        self._speaking = False
        self._segment = 0
        self._changed = asyncio.Event()

    # -- the state -----------------------------------------------------------------

    @property
    def speaking(self) -> bool:
        """Whether the agent is mid-utterance for the caller (see the module docstring)."""
        return self._speaking

    @property
    def segment(self) -> int:
        """Index of the segment that last started or stopped (0 before the agent spoke)."""
        return self._segment

    def is_quiet(self, agent_state: str | None = None) -> bool:
        """The one test of "the agent is quiet": no agent audio is playing and, when the
        session's ``agent_state`` is given, the agent is not about to talk either
        (:data:`QUIET_AGENT_STATES`)."""
        return not self._speaking and (agent_state is None or agent_state in QUIET_AGENT_STATES)

    @property
    def last_stopped_at(self) -> float | None:
        """Call time the agent last went silent, or None if it never spoke."""
        for ev in reversed(self.timeline):
            if ev.kind == "stopped":
                return ev.at
        return None

    def mark(
        self, speaking: bool, reason: AudioEventReason, segment: int, at: float, position: float
    ) -> AgentAudioEvent:
        """Record that the agent's audio started or stopped at monotonic time ``at``.

        Called by the output that plays the audio, at the instant the sample played.
        """
        self._speaking = speaking
        self._segment = segment
        ev = AgentAudioEvent(
            kind="started" if speaking else "stopped",
            reason=reason,
            segment=segment,
            at=self.clock.to_call_time(at),
            monotonic=at,
            position=position,
        )
        self.timeline.append(ev)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        self.events.emit("agent_audio_started" if speaking else "agent_audio_stopped", ev)
        return ev

    # -- waits for scenario runners ------------------------------------------------

    async def wait_started(
        self, *, after: float | None = None, timeout: float | None = None
    ) -> AgentAudioEvent:
        """Wait until agent audio starts playing.

        With ``after`` (call time): the first ``started`` event at or after it, possibly
        one already in the timeline. Without: the start of the audio playing right now,
        or else the next start. Raises ``TimeoutError`` after ``timeout`` seconds.
        """
        if after is None and self._speaking:
            return next(ev for ev in reversed(self.timeline) if ev.kind == "started")
        return await self._wait_event("started", after, timeout)

    async def wait_stopped(
        self, *, after: float | None = None, timeout: float | None = None
    ) -> AgentAudioEvent:
        """Wait until agent audio stops (finished, interrupted or paused).

        With ``after`` (call time): the first ``stopped`` event at or after it. Without:
        the end of the audio playing now; if nothing plays, the latest stop (or the next
        one if the agent never spoke).
        """
        if after is None and not self._speaking:
            for ev in reversed(self.timeline):
                if ev.kind == "stopped":
                    return ev
        return await self._wait_event("stopped", after, timeout)

    async def wait_quiet(
        self,
        quiet: float = 0.0,
        *,
        spoke_after: float | None = None,
        timeout: float | None = None,
        agent_state: Callable[[], str] | None = None,
    ) -> float:
        """Wait until the agent has been seen quiet (:meth:`is_quiet`) for ``quiet`` seconds.

        A reply often arrives as several segments with short gaps (tool calls, sentence
        boundaries), so "the agent stopped talking" for ``after_agent:`` timing means
        "quiet for a while", not "one segment ended". With ``spoke_after`` (call time),
        first wait for agent audio that started at or after it, so a runner does not
        mistake the thinking pause before a reply for the end of it. Paused audio counts
        as silence. With ``agent_state`` (e.g. ``lambda: session.agent_state``), a
        thinking agent is not quiet either; the state is read every :data:`STATE_POLL_S`.

        Quiet counts from the latest of: the agent's last stop, the last time the session
        was seen busy, and the moment this wait began watching; silence from before the
        wait only counts from then on. Returns that call time. Raises ``TimeoutError``
        after ``timeout`` seconds.
        """
        poll = STATE_POLL_S if agent_state is not None else None
        async with asyncio.timeout(timeout):
            if spoke_after is not None:
                await self.wait_started(after=spoke_after)
            seen_busy = self.clock.now()  # the latest time the agent was not (known) quiet
            while True:
                changed = self._changed
                now = self.clock.now()
                if not self.is_quiet(agent_state() if agent_state is not None else None):
                    seen_busy = now
                    await _wait_for(changed, poll)
                    continue
                since = max(self.last_stopped_at or 0.0, seen_busy)
                remaining = since + quiet - now
                if remaining <= 0:
                    return since
                await _wait_for(changed, remaining if poll is None else min(remaining, poll))

    async def _wait_event(
        self, kind: AudioEventKind, after: float | None, timeout: float | None
    ) -> AgentAudioEvent:
        """The first ``kind`` event at or after call time ``after`` (or, without it, the
        first one added from now on)."""
        first = len(self.timeline)
        async with asyncio.timeout(timeout):
            checked = 0 if after is not None else first
            while True:
                changed = self._changed
                for ev in self.timeline[checked:]:
                    if ev.kind == kind and (after is None or ev.at >= after):
                        return ev
                checked = len(self.timeline)
                await changed.wait()


async def _wait_for(event: asyncio.Event, timeout: float | None) -> None:
    """Wait for ``event`` at most ``timeout`` seconds (None: no limit)."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        pass
