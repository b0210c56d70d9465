"""The room's turn latency at the worker (`worker.transport.worker_ear`): the caller's last
audible received sample, and the first audible sample of the agent's published reply."""

from __future__ import annotations

import asyncio

import numpy as np
from livekit import rtc
from livekit.agents.voice import io

from worker.transport.worker_ear import PublishedAudioTap, ReceivedAudioTap, WorkerEar

RATE = 24000


def _frame(level: float, seconds: float = 0.02) -> rtc.AudioFrame:
    n = int(RATE * seconds)
    pcm = (np.sin(np.arange(n) * 2 * np.pi * 200 / RATE) * level * 32767).astype(np.int16)
    return rtc.AudioFrame(pcm.tobytes(), RATE, 1, n)


class _Silent(io.AudioInput):
    def __init__(self) -> None:
        super().__init__(label="silent")


def test_the_callers_end_is_the_last_audible_received_sample_before_the_vad_end() -> None:
    tap = ReceivedAudioTap(_Silent(), t0=0.0)
    t = 10.0
    for level in [0.3] * 50 + [0.0] * 5 + [0.3] * 10 + [0.001] * 40:  # speech, a word gap, speech, near-silence
        t += 0.02
        tap.note(_frame(level), t)
    assert len(tap.spans) == 1, "a 100 ms pause between words does not split the speech"
    assert tap.last_audible_before(vad_end=11.9, started=10.0) == 11.3  # 65 frames of 20 ms after 10.0
    assert tap.last_audible_before(vad_end=9.0) is None, "nothing audible before"
    assert tap.last_audible_before(vad_end=11.9, started=11.5) is None, "the turn's own speech was not heard"


def test_speech_that_goes_on_long_after_the_vad_end_falls_back_to_the_vad() -> None:
    tap = ReceivedAudioTap(_Silent(), t0=0.0)
    for i in range(150):
        tap.note(_frame(0.3), 1.0 + 0.02 * i)  # 3 s of loud audio: noise the VAD did not take for speech
    assert tap.last_audible_before(vad_end=2.0) is None


class _Room(io.AudioOutput):
    """A stand-in for RoomIO's output: keeps frames; the test says when playout happened."""

    def __init__(self) -> None:
        super().__init__(label="room", capabilities=io.AudioOutputCapabilities(pause=True), sample_rate=RATE)
        self.frames: list[rtc.AudioFrame] = []

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        self.frames.append(frame)

    def flush(self) -> None:
        super().flush()

    def clear_buffer(self) -> None:
        pass


async def _reply(tap: PublishedAudioTap, room: _Room, quiet_frames: int, started_at: float) -> None:
    for level in [0.0] * quiet_frames + [0.3] * 5:
        await tap.capture_frame(_frame(level))
    tap.flush()
    room.on_playback_started(created_at=started_at)
    room.on_playback_progressed(started_at=started_at, offset=0.0, duration=0.02 * (quiet_frames + 5))
    room.on_playback_finished(playback_position=0.02 * (quiet_frames + 5), interrupted=False)


async def test_the_agents_first_audio_is_its_first_audible_published_sample() -> None:
    room = _Room()
    tap = PublishedAudioTap(room, t0=100.0)
    await _reply(tap, room, quiet_frames=3, started_at=105.0)  # 60 ms of quiet lead
    await _reply(tap, room, quiet_frames=0, started_at=109.0)
    assert len(room.frames) == 13, "every frame reaches the room unchanged"
    assert tap.first_audible_after(5.0) == 5.06
    assert tap.first_audible_after(5.5) == 9.0, "the next reply, not one that began before"
    assert tap.first_audible_after(9.5) is None
    await tap.wait_for_playout()  # the tap's playout bookkeeping follows the room's


async def test_the_ear_attaches_in_front_of_the_sessions_room_io() -> None:
    class _Session:
        class input:  # noqa: N801 - shaped like AgentSession.input
            audio: io.AudioInput | None = _Silent()

        class output:  # noqa: N801
            audio: io.AudioOutput | None = _Room()

    session = _Session()
    room_in, room_out = session.input.audio, session.output.audio
    ear = WorkerEar(t0=0.0)
    ear.attach(session)
    assert isinstance(session.input.audio, ReceivedAudioTap) and session.input.audio.source is room_in
    assert isinstance(session.output.audio, PublishedAudioTap)
    assert ear.first_audible_after(0.0) is None and ear.source == "audio_at_worker"
    await asyncio.sleep(0)
    assert room_out is not None
