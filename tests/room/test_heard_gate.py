"""The heard gate: a reply interrupted before the caller subscribes no longer kills the room's audio.

These drive livekit-agents' real room audio output (`_ParticipantAudioOutput`, its real
`rtc.AudioSource`) over a minimal room whose publication "gets subscribed" when the test says so,
and livekit's own audio forwarding (`perform_audio_forwarding`, the task a speech runs and an
interruption cancels). No server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from livekit import rtc
from livekit.agents.voice import io, room_io
from livekit.agents.voice.generation import perform_audio_forwarding
from livekit.agents.voice.room_io._output import _ParticipantAudioOutput
from livekit.agents.voice.transcription import TranscriptSynchronizer

from worker.room.heard_gate import HeardGate, hold_until_heard
from worker.transport.worker_ear import PublishedAudioTap

RATE = 24_000


class _Publication:
    """The agent's track publication; `subscribe()` is the caller subscribing to it."""

    sid = "TR_agent"

    def __init__(self) -> None:
        self._subscribed = asyncio.Event()

    def subscribe(self) -> None:
        self._subscribed.set()

    async def wait_for_subscription(self) -> None:
        await self._subscribed.wait()


class _Room:
    """As much of `rtc.Room` as the room audio output uses: publishing its track."""

    def __init__(self) -> None:
        self.publication = _Publication()
        self.local_participant = SimpleNamespace(publish_track=self._publish_track)

    async def _publish_track(self, track: rtc.LocalAudioTrack, options: rtc.TrackPublishOptions) -> _Publication:
        return self.publication


def _tone(seconds: float, chunk_ms: int = 20) -> list[rtc.AudioFrame]:
    """Audible frames (a square wave at ~-12 dBFS), `seconds` long."""
    n = RATE * chunk_ms // 1000
    samples = (b"\x00\x20" * 20 + b"\x00\xe0" * 20) * (n // 40)
    return [rtc.AudioFrame(samples, RATE, 1, n) for _ in range(round(seconds * 1000 / chunk_ms))]


async def _frames(frames: list[rtc.AudioFrame]) -> AsyncIterator[rtc.AudioFrame]:
    for frame in frames:
        yield frame


async def _room_output() -> tuple[_Room, _ParticipantAudioOutput, asyncio.Task[None]]:
    room = _Room()
    output = _ParticipantAudioOutput(room, sample_rate=RATE, num_channels=1,  # type: ignore[arg-type]
                                     track_publish_options=rtc.TrackPublishOptions())
    started = asyncio.create_task(output.start())  # publishes, then waits for the subscription
    await asyncio.sleep(0.01)
    assert not output.subscribed.done()
    return room, output, started


async def _interrupted_reply(top: io.AudioOutput) -> None:
    """A reply whose first frame is waiting for the caller, interrupted the way livekit-agents
    interrupts a speech: the forwarding task is cancelled, the buffer cleared, the playout awaited."""
    task, _ = perform_audio_forwarding(audio_output=top, tts_output=_frames(_tone(0.2)),
                                       reconcile_playout_pause=lambda: None)
    await asyncio.sleep(0.05)
    assert not task.done(), "the reply waits for the caller to subscribe"
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    top.clear_buffer()
    await asyncio.wait_for(top.wait_for_playout(), 2)


async def _played_reply(top: io.AudioOutput, seconds: float) -> io.PlaybackFinishedEvent:
    """A reply played to its end; the playout's event."""
    started: list[io.PlaybackStartedEvent] = []
    top.on("playback_started", started.append)
    task, _ = perform_audio_forwarding(audio_output=top, tts_output=_frames(_tone(seconds)),
                                       reconcile_playout_pause=lambda: None)
    await asyncio.wait_for(task, 2)
    event = await asyncio.wait_for(top.wait_for_playout(), seconds + 2)
    top.off("playback_started", started.append)
    assert started, "the reply started playing"
    return event


def _worker_chain(room_output: _ParticipantAudioOutput) -> tuple[SimpleNamespace, Any]:
    """The session's audio output as `worker.room.agent_worker` builds it: RoomIO's transcript
    synchronizer over the room output, the worker's ear tap over that, the gate on top."""
    sync = TranscriptSynchronizer(next_in_chain_audio=room_output, next_in_chain_text=None)  # type: ignore[arg-type]
    session = SimpleNamespace(output=SimpleNamespace(audio=sync.audio_output))
    session.output.audio = PublishedAudioTap(session.output.audio, t0=0.0)
    link = SimpleNamespace(subscribed_fut=room_output.subscribed)
    assert hold_until_heard(session, link) is not None  # type: ignore[arg-type]
    return session, sync


async def test_livekit_room_output_still_loses_its_subscription_to_a_cancelled_wait() -> None:
    """The bug the gate guards against, in livekit-agents itself. When this fails, livekit has
    fixed it: the gate (worker.room.heard_gate) can go."""
    room, output, started = await _room_output()
    waiting = asyncio.create_task(output.capture_frame(_tone(0.02)[0]))
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    room.publication.subscribe()
    await asyncio.wait_for(started, 1)
    assert output.subscribed.cancelled()
    with pytest.raises(asyncio.CancelledError):
        await output.capture_frame(_tone(0.02)[0])
    await output.aclose()


async def test_a_reply_interrupted_before_the_caller_subscribes_leaves_later_replies_playing() -> None:
    room, output, started = await _room_output()
    session, sync = _worker_chain(output)
    top: io.AudioOutput = session.output.audio

    await _interrupted_reply(top)
    room.publication.subscribe()
    await asyncio.wait_for(started, 1)
    assert not output.subscribed.cancelled(), "the interruption cancelled only its own wait"
    assert output.subscribed.done()

    for _ in range(2):  # every later reply plays to its end
        event = await _played_reply(top, 0.2)
        assert not event.interrupted
        assert event.playback_position == pytest.approx(0.2, abs=0.03)
    await sync.aclose()
    await output.aclose()


async def test_the_gate_holds_the_audio_until_the_caller_subscribes_then_passes_it_in_order() -> None:
    room, output, started = await _room_output()
    session, sync = _worker_chain(output)
    top: io.AudioOutput = session.output.audio

    reply = asyncio.create_task(_played_reply(top, 0.1))
    await asyncio.sleep(0.1)
    assert not reply.done() and top.captured_playout_segments == 0, "nothing is captured before the caller listens"
    room.publication.subscribe()
    event = await asyncio.wait_for(reply, 3)
    assert not event.interrupted and event.playback_position == pytest.approx(0.1, abs=0.03)
    assert top.captured_playout_segments == 1
    await sync.aclose()
    await output.aclose()


class _BareRoom(rtc.EventEmitter[str]):
    """A room not yet connected: what `RoomIO.start` touches before the call is linked."""

    name = "room"
    remote_participants: dict[str, rtc.RemoteParticipant] = {}

    def __init__(self) -> None:
        super().__init__()
        self.local_participant = SimpleNamespace(identity="agent")

    def isconnected(self) -> bool:
        return False


class _BareSession(rtc.EventEmitter[str]):
    """What `RoomIO.start` sets and listens to on an `AgentSession`."""

    def __init__(self) -> None:
        super().__init__()
        self.input = SimpleNamespace(audio=None, video=None)
        self.output = SimpleNamespace(audio=None, transcription=None)


async def test_roomio_subscribed_fut_is_the_wait_of_its_own_audio_output() -> None:
    """The gate waits on `RoomIO.subscribed_fut`; that must be the very wait of RoomIO's output,
    or frames the gate lets through could still wait (unshielded) inside it."""
    session = _BareSession()
    link = room_io.RoomIO(agent_session=session, room=_BareRoom(),  # type: ignore[arg-type]
                          options=room_io.RoomOptions(audio_input=False))
    await link.start()
    try:
        heard = link.subscribed_fut
        assert heard is not None and session.output.audio is not None
        capture = asyncio.create_task(session.output.audio.capture_frame(_tone(0.02)[0]))
        await asyncio.sleep(0.05)
        assert not capture.done(), "RoomIO's output waits for the subscription"
        heard.set_result(None)
        await asyncio.wait_for(capture, 1)
    finally:
        await link.aclose()


async def test_the_gate_is_put_on_top_of_the_sessions_output_and_only_when_there_is_a_wait() -> None:
    below = _Leaf()
    heard: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    session = SimpleNamespace(output=SimpleNamespace(audio=below))
    gate = hold_until_heard(session, SimpleNamespace(subscribed_fut=heard))  # type: ignore[arg-type]
    assert isinstance(gate, HeardGate) and session.output.audio is gate and gate.heard is heard
    assert gate.sample_rate == below.sample_rate

    no_wait = SimpleNamespace(output=SimpleNamespace(audio=below))
    assert hold_until_heard(no_wait, SimpleNamespace(subscribed_fut=None)) is None  # type: ignore[arg-type]
    assert no_wait.output.audio is below
    no_output = SimpleNamespace(output=SimpleNamespace(audio=None))
    assert hold_until_heard(no_output, SimpleNamespace(subscribed_fut=heard)) is None  # type: ignore[arg-type]


class _Leaf(io.AudioOutput):
    """A sink that accepts anything (only its sample rate is read here)."""

    def __init__(self) -> None:
        super().__init__(label="leaf", capabilities=io.AudioOutputCapabilities(pause=True), sample_rate=16_000)

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)

    def flush(self) -> None:
        super().flush()

    def clear_buffer(self) -> None:
        pass
