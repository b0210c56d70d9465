"""AgentSpeech: the started/stopped timeline, the one "quiet" test and the waits on it."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.transport.helpers import make_output, push
from worker.transport import AgentSpeech, CallClock
from worker.transport.agent_speech import STATE_POLL_S


async def test_wait_helpers_for_scenario_timing() -> None:
    out, _, _ = make_output()
    speech, clock = out.speech, out.clock
    waiter = asyncio.create_task(speech.wait_started(after=clock.now()))
    await asyncio.sleep(0.1)
    assert not waiter.done()
    await push(out, 0.3)
    started = await asyncio.wait_for(waiter, 0.5)
    assert started.reason == "segment_start"
    # already speaking: returns the current start at once
    assert await asyncio.wait_for(speech.wait_started(), 0.05) is started

    stopped = await speech.wait_stopped(timeout=1.0)
    assert stopped.at - started.at == pytest.approx(0.3, abs=1e-3)

    # two segments with a short gap count as one turn when quiet > gap
    async def reply_in_two_parts() -> None:
        await push(out, 0.3)
        await out.wait_for_playout()
        await asyncio.sleep(0.2)
        await push(out, 0.3)

    t = clock.now()
    task = asyncio.create_task(reply_in_two_parts())
    silent_since = await speech.wait_quiet(quiet=0.4, spoke_after=t, timeout=3.0)
    assert len(out.segments) == 3
    assert silent_since == pytest.approx(out.segments[-1].ended_at, abs=1e-6)
    assert clock.now() - silent_since >= 0.4
    await task
    with pytest.raises(TimeoutError):
        await speech.wait_started(after=clock.now(), timeout=0.1)
    await out.aclose()


async def test_events_emitter_reports_started_and_stopped() -> None:
    out, _, _ = make_output()
    seen: list[tuple[str, float]] = []
    out.speech.events.on("agent_audio_started", lambda ev: seen.append(("started", ev.at)))
    out.speech.events.on("agent_audio_stopped", lambda ev: seen.append(("stopped", ev.at)))
    await push(out, 0.2)
    await out.wait_for_playout()
    assert [k for k, _ in seen] == ["started", "stopped"]
    await out.aclose()


def test_quiet_means_no_audio_and_not_about_to_talk() -> None:
    speech = AgentSpeech(CallClock())
    assert speech.is_quiet() and speech.is_quiet("listening") and speech.is_quiet("idle")
    assert not speech.is_quiet("thinking") and not speech.is_quiet("speaking")
    assert not speech.is_quiet("initializing")
    ev = speech.mark(True, "segment_start", 1, time.monotonic(), 0.0)
    assert ev.kind == "started" and speech.speaking and speech.segment == 1
    assert not speech.is_quiet() and not speech.is_quiet("listening")
    speech.mark(False, "paused", 1, time.monotonic(), 0.5)
    assert speech.is_quiet("listening")  # paused audio is silence
    assert speech.last_stopped_at == speech.timeline[-1].at


async def test_a_thinking_agent_is_not_quiet() -> None:
    """After its audio stops, quiet only starts once the session stops thinking."""
    clock = CallClock()
    speech = AgentSpeech(clock)
    state = "speaking"
    speech.mark(True, "segment_start", 1, time.monotonic(), 0.0)

    async def reply_then_think() -> None:
        nonlocal state
        await asyncio.sleep(0.1)
        speech.mark(False, "finished", 1, time.monotonic(), 0.1)
        state = "thinking"  # e.g. a tool call before the next sentence
        await asyncio.sleep(0.3)
        state = "listening"

    task = asyncio.create_task(reply_then_think())
    since = await speech.wait_quiet(0.2, timeout=2.0, agent_state=lambda: state)
    await task
    stopped_at = speech.last_stopped_at
    assert stopped_at is not None
    # quiet began when the thinking ended (read every STATE_POLL_S), not when audio stopped
    assert since >= stopped_at + 0.3 - STATE_POLL_S
    assert since <= stopped_at + 0.3 + 2 * STATE_POLL_S + 0.05
    assert clock.now() - since >= 0.2


async def test_silence_before_the_wait_does_not_count() -> None:
    """A runner that starts waiting long after the agent stopped still waits `quiet` seconds."""
    clock = CallClock()
    speech = AgentSpeech(clock)
    speech.mark(True, "segment_start", 1, time.monotonic() - 1.0, 0.0)
    speech.mark(False, "finished", 1, time.monotonic() - 0.5, 0.5)
    t0 = time.monotonic()
    since = await speech.wait_quiet(0.3, timeout=2.0)
    waited = time.monotonic() - t0
    assert since > speech.timeline[-1].at + 0.4
    assert 0.29 <= waited <= 0.5


async def test_wait_quiet_times_out_while_the_agent_talks() -> None:
    speech = AgentSpeech(CallClock())
    speech.mark(True, "segment_start", 1, time.monotonic(), 0.0)
    with pytest.raises(TimeoutError):
        await speech.wait_quiet(0.1, timeout=0.2)
    with pytest.raises(TimeoutError):
        await speech.wait_quiet(0.0, timeout=0.2, agent_state=lambda: "listening")
