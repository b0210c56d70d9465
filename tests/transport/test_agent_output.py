"""CapturingAgentOutput: real-time playout, exactly-once playback_finished, pause/resume,
and what it reports to ``out.speech`` (the started/stopped timeline)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.transport.helpers import make_output, push
from worker.transport import AGENT


async def test_segment_plays_in_real_time_and_finishes_once() -> None:
    out, finished, started = make_output()
    t0 = time.monotonic()
    wall0 = time.time()
    await push(out, 1.0)
    ev = await out.wait_for_playout()
    elapsed = time.monotonic() - t0
    await asyncio.sleep(0.1)

    assert 0.95 <= elapsed <= 1.2
    assert len(finished) == 1
    assert ev.interrupted is False
    assert ev.playback_position == pytest.approx(1.0, abs=1e-6)
    assert ev.synchronized_transcript is None
    assert len(started) == 1 and abs(started[0] - wall0) < 0.1
    assert [e.kind for e in out.speech.timeline] == ["started", "stopped"]
    assert out.speech.timeline[1].reason == "finished"
    assert out.speech.timeline[1].at - out.speech.timeline[0].at == pytest.approx(1.0, abs=1e-3)
    assert not out.speech.speaking
    await out.aclose()


async def test_clear_buffer_mid_segment_truncates_what_was_heard() -> None:
    out, finished, _ = make_output()
    rec = out.recorder
    assert rec is not None
    await push(out, 2.0)
    start = await out.speech.wait_started(timeout=1.0)
    await asyncio.sleep(0.5)
    out.clear_buffer()
    out.clear_buffer()  # a second clear must not finish the segment again
    ev = await asyncio.wait_for(out.wait_for_playout(), 0.2)
    await asyncio.sleep(0.1)

    assert len(finished) == 1
    assert ev.interrupted is True
    assert 0.45 <= ev.playback_position <= 0.6
    stop = out.speech.timeline[-1]
    assert stop.kind == "stopped" and stop.reason == "interrupted"
    assert stop.at - start.at == pytest.approx(ev.playback_position, abs=0.01)
    # the recording holds exactly the heard part
    assert rec.energy_in_window(AGENT, start.at + 0.05, stop.at - 0.05) > 0.3
    assert rec.energy_in_window(AGENT, stop.at + 0.01, stop.at + 1.5) == 0.0
    assert rec.duration == pytest.approx(stop.at, abs=0.01)
    await out.aclose()


async def test_clear_before_flush_finishes_once_and_drops_later_frames() -> None:
    """livekit may clear a segment that is still being captured, then flush it."""
    out, finished, _ = make_output()
    await push(out, 1.0, flush=False)
    await asyncio.sleep(0.3)
    out.clear_buffer()
    await push(out, 1.0, flush=False)  # frames still arriving for the same segment
    out.flush()
    ev = await asyncio.wait_for(out.wait_for_playout(), 0.2)
    assert ev.interrupted and 0.2 <= ev.playback_position <= 0.4
    assert len(finished) == 1
    assert out.segments[0].pushed == pytest.approx(1.0)

    # the next segment is independent and plays fully
    await push(out, 0.3)
    ev2 = await asyncio.wait_for(out.wait_for_playout(), 1.0)
    assert not ev2.interrupted and ev2.playback_position == pytest.approx(0.3)
    assert len(finished) == 2
    await out.aclose()


async def test_queued_segments_play_in_order_and_clear_ends_all() -> None:
    out, finished, started = make_output()
    await push(out, 0.4)
    await push(out, 0.4)
    await push(out, 0.4)
    await asyncio.sleep(0.6)  # first done, second playing, third queued
    out.clear_buffer()
    await asyncio.wait_for(out.wait_for_playout(), 0.2)
    assert len(finished) == 3
    assert finished[0].playback_position == pytest.approx(0.4) and not finished[0].interrupted
    assert finished[1].interrupted and 0.1 <= finished[1].playback_position <= 0.3
    assert finished[2].interrupted and finished[2].playback_position == 0.0
    assert len(started) == 2  # the third never started playing
    await out.aclose()


async def test_pause_holds_the_playhead_and_resume_continues() -> None:
    out, finished, started = make_output()
    assert out.can_pause
    rec = out.recorder
    assert rec is not None
    t0 = time.monotonic()
    await push(out, 1.0)
    await asyncio.sleep(0.3)
    out.pause()
    paused_at = out.clock.now()
    await asyncio.sleep(0.5)
    assert not out.speech.speaking
    out.resume()
    ev = await asyncio.wait_for(out.wait_for_playout(), 2.0)
    elapsed = time.monotonic() - t0

    assert len(finished) == 1 and len(started) == 1  # resume does not re-announce
    assert not ev.interrupted
    assert ev.playback_position == pytest.approx(1.0, abs=1e-6)
    assert 1.45 <= elapsed <= 1.7
    assert [(e.kind, e.reason) for e in out.speech.timeline] == [
        ("started", "segment_start"),
        ("stopped", "paused"),
        ("started", "resumed"),
        ("stopped", "finished"),
    ]
    # silence on the agent channel while paused, audio on both sides of it
    assert rec.energy_in_window(AGENT, paused_at + 0.02, paused_at + 0.45) == 0.0
    assert rec.energy_in_window(AGENT, paused_at - 0.25, paused_at - 0.02) > 0.3
    assert rec.energy_in_window(AGENT, paused_at + 0.55, paused_at + 1.1) > 0.3
    await out.aclose()


async def test_pause_then_clear_reports_interrupted_at_pause_point() -> None:
    out, finished, _ = make_output()
    await push(out, 1.0)
    await asyncio.sleep(0.3)
    out.pause()
    await asyncio.sleep(0.3)
    out.clear_buffer()
    ev = await asyncio.wait_for(out.wait_for_playout(), 0.2)
    assert ev.interrupted and 0.25 <= ev.playback_position <= 0.4
    assert len(finished) == 1
    out.resume()  # livekit resumes before the next reply; nothing stale may play
    await asyncio.sleep(0.1)
    assert not out.speech.speaking
    await out.aclose()


async def test_pause_before_audio_arrives_delays_the_segment() -> None:
    """livekit pauses before forwarding when the user is already talking."""
    out, finished, started = make_output()
    out.pause()
    await push(out, 0.3)
    await asyncio.sleep(0.3)
    assert not started and not out.speech.speaking
    out.resume()
    ev = await asyncio.wait_for(out.wait_for_playout(), 1.0)
    assert not ev.interrupted and ev.playback_position == pytest.approx(0.3)
    assert len(started) == 1 and len(finished) == 1
    await out.aclose()


async def test_aclose_finishes_pending_segments() -> None:
    out, finished, _ = make_output()
    await push(out, 2.0)
    await asyncio.sleep(0.1)
    await out.aclose()
    ev = await asyncio.wait_for(out.wait_for_playout(), 0.2)
    assert ev.interrupted and len(finished) == 1
    # audio arriving after close never hangs wait_for_playout
    await push(out, 0.2)
    ev = await asyncio.wait_for(out.wait_for_playout(), 0.2)
    assert ev.interrupted and len(finished) == 2


async def test_playback_progressed_reports_each_heard_stretch() -> None:
    """Runs across a pause are reported separately and add up to the played position."""
    out, _, _ = make_output()
    runs: list = []
    order: list[str] = []
    out.on("playback_progressed", lambda ev: (runs.append(ev), order.append("progressed")))
    out.on("playback_finished", lambda ev: order.append("finished"))
    await push(out, 0.6)
    await asyncio.sleep(0.2)
    out.pause()
    await asyncio.sleep(0.2)
    out.resume()
    ev = await asyncio.wait_for(out.wait_for_playout(), 2.0)
    assert order == ["progressed", "progressed", "finished"]
    assert runs[0].offset == 0.0
    assert runs[1].offset == pytest.approx(runs[0].duration)
    assert runs[0].duration + runs[1].duration == pytest.approx(ev.playback_position)
    assert runs[1].started_at - (runs[0].started_at + runs[0].duration) == pytest.approx(0.2, abs=0.05)
    await out.aclose()
