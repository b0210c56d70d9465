"""The local WebRTC transport's audio seam, without a browser: what the speaker sends, what it
reports to livekit-agents, and that only loopback candidates are offered."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from livekit import rtc

from worker.transport.recording import CallRecorder
from worker.transport.webrtc_local import FRAME_SAMPLES, WEBRTC_RATE, BrowserSpeaker, offer_loopback_only


def frame(n: int, value: int = 1000) -> rtc.AudioFrame:
    return rtc.AudioFrame(data=np.full(n, value, dtype=np.int16).tobytes(), sample_rate=WEBRTC_RATE,
                          num_channels=1, samples_per_channel=n)


class Events:
    def __init__(self, speaker: BrowserSpeaker) -> None:
        self.started = 0
        self.finished: list[dict[str, Any]] = []
        speaker.on("playback_started", lambda ev: setattr(self, "started", self.started + 1))
        speaker.on("playback_finished", lambda ev: self.finished.append(
            {"position": ev.playback_position, "interrupted": ev.interrupted}))


async def test_a_flushed_segment_plays_out_then_silence_and_reports_once() -> None:
    speaker = BrowserSpeaker()
    events = Events(speaker)
    await speaker.capture_frame(frame(FRAME_SAMPLES + 480))  # 30 ms
    speaker.flush()
    first, second, third = speaker.next_frame(), speaker.next_frame(), speaker.next_frame()
    assert (first == 1000).all()
    assert (second[:480] == 1000).all() and (second[480:] == 0).all()
    assert (third == 0).all()
    await asyncio.sleep(0)
    assert events.started == 1
    assert events.finished == [{"position": 0.03, "interrupted": False}]


async def test_an_unflushed_segment_underruns_without_finishing() -> None:
    speaker = BrowserSpeaker()
    events = Events(speaker)
    await speaker.capture_frame(frame(480))
    speaker.next_frame()
    assert (speaker.next_frame() == 0).all()  # synthesis is behind: silence, the segment goes on
    await asyncio.sleep(0)
    assert events.finished == []


async def test_barge_in_cuts_every_pending_segment_at_what_was_sent() -> None:
    recorder = CallRecorder(sample_rate=24000)
    speaker = BrowserSpeaker(recorder)
    events = Events(speaker)
    await speaker.capture_frame(frame(FRAME_SAMPLES * 5))
    speaker.flush()
    await speaker.capture_frame(frame(FRAME_SAMPLES))  # the next segment, still being captured
    speaker.next_frame()
    speaker.clear_buffer()
    await speaker.capture_frame(frame(FRAME_SAMPLES))  # late audio of the cut segment is dropped
    speaker.flush()
    assert (speaker.next_frame() == 0).all()
    await asyncio.sleep(0)
    assert events.finished == [{"position": 0.02, "interrupted": True}, {"position": 0.0, "interrupted": True}]
    assert speaker.segments_cut == 2 and speaker.segments_played == 0
    assert abs(recorder.duration - 0.02) < 0.01  # the recording holds what was sent, not what was planned


def test_ice_gathers_on_loopback_only() -> None:
    import aioice.ice

    original = aioice.ice.get_host_addresses
    try:
        offer_loopback_only()
        assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1"]
    finally:
        aioice.ice.get_host_addresses = original  # type: ignore[assignment]
