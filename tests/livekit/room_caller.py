"""A caller participant for room tests: joins with a token, speaks PCM in real time, hears the
agent (energy over time, frames kept for recognition), reads the agent's words as any LiveKit
frontend does (`lk.transcription`) and collects trace messages."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import numpy as np
from livekit import rtc

TRACE_TOPIC = "mediabloom.trace"
TRANSCRIPTION_TOPIC = "lk.transcription"
TRANSCRIBED_TRACK = "lk.transcribed_track_id"


@dataclass
class RoomCaller:
    url: str
    token: str
    room: rtc.Room = field(default_factory=rtc.Room)
    traces: list[dict] = field(default_factory=list)
    agent_audio: list[tuple[float, np.ndarray]] = field(default_factory=list)
    agent_identity: str | None = None
    agent_lines: list[tuple[float, str]] = field(default_factory=list)
    """What the agent said, one finished segment each, with when its text arrived."""
    junk_sent: int = 0
    joined_at: float = 0.0
    _source: rtc.AudioSource | None = None
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def join(self, timeout: float = 15.0) -> None:
        self.room.on("data_received", self._on_data)
        self.room.on("track_subscribed", self._on_track)
        self.room.register_text_stream_handler(TRACE_TOPIC, self._on_text_stream)
        self.room.register_text_stream_handler(TRANSCRIPTION_TOPIC, self._on_transcription)
        await asyncio.wait_for(self.room.connect(self.url, self.token), timeout)
        self.joined_at = time.monotonic()
        self._source = rtc.AudioSource(48000, 1)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self._source)
        await self.room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE))
        self._tasks.append(asyncio.get_event_loop().create_task(self._silence_pump()))

    def _on_data(self, packet: rtc.DataPacket) -> None:
        if packet.topic == TRACE_TOPIC:
            self.traces.append(json.loads(packet.data))

    def _on_text_stream(self, reader: rtc.TextStreamReader, participant: str) -> None:
        async def read() -> None:
            self.traces.append(json.loads(await reader.read_all()))
        self._tasks.append(asyncio.get_event_loop().create_task(read()))

    def _on_transcription(self, reader: rtc.TextStreamReader, participant: str) -> None:
        """Keep the agent's own segments (the caller's words come back on the same topic,
        tagged with the caller's microphone track)."""
        own = {pub.sid for pub in self.room.local_participant.track_publications.values()}
        if reader.info.attributes.get(TRANSCRIBED_TRACK) in own:
            return

        async def read() -> None:
            text = (await reader.read_all()).strip()
            if text:
                self.agent_lines.append((time.monotonic(), text))
        self._tasks.append(asyncio.get_event_loop().create_task(read()))

    def questions_since(self, t: float) -> list[str]:
        """The questions the agent asked in the lines whose text arrived after `t` (each the
        last sentence of a segment that ends in "?")."""
        asked = []
        for at, text in self.agent_lines:
            sentences = [s.strip() for s in text.replace("?", "?\n").splitlines()]
            asked += [s.rsplit(". ", 1)[-1] for s in sentences if at > t and s.endswith("?")]
        return asked

    def agent_gone(self) -> bool:
        """The agent that answered has left the room (its job ended or died)."""
        return self.agent_identity is not None and all(
            p.identity != self.agent_identity for p in self.room.remote_participants.values())

    def _on_track(self, track: rtc.Track, pub: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            self.agent_identity = participant.identity
            self._tasks.append(asyncio.get_event_loop().create_task(self._listen(track)))

    async def _listen(self, track: rtc.Track) -> None:
        async for ev in rtc.AudioStream(track, sample_rate=16000, num_channels=1):
            self.agent_audio.append((time.monotonic(), np.frombuffer(ev.frame.data, dtype=np.int16).copy()))

    _speaking = False

    async def _silence_pump(self) -> None:
        """A real microphone never stops sending: silence between utterances."""
        silence = rtc.AudioFrame(b"\0" * 960 * 2, 48000, 1, 960)
        while True:
            if not self._speaking and self._source is not None:
                await self._source.capture_frame(silence)
            else:
                await asyncio.sleep(0.02)

    async def say(self, pcm: np.ndarray, rate: int) -> float:
        """Play an utterance in real time; returns the monotonic time its audio ended."""
        assert self._source is not None
        from worker.transport.pcm import resample_mono

        data = resample_mono(pcm, rate, 48000)
        self._speaking = True
        try:
            for i in range(0, len(data), 960):
                chunk = data[i:i + 960]
                if len(chunk) < 960:
                    chunk = np.pad(chunk, (0, 960 - len(chunk)))
                await self._source.capture_frame(rtc.AudioFrame(chunk.tobytes(), 48000, 1, 960))
            await self._source.wait_for_playout()
        finally:
            self._speaking = False
        return time.monotonic()

    def agent_rms(self, t0: float, t1: float) -> float:
        chunks = [c for t, c in self.agent_audio if t0 <= t <= t1]
        if not chunks:
            return 0.0
        a = np.concatenate(chunks).astype(np.float64)
        return float(np.sqrt((a ** 2).mean()))

    def first_agent_audio_after(self, t: float, threshold: float = 300.0) -> float | None:
        for ts, c in self.agent_audio:
            if ts >= t and np.sqrt((c.astype(np.float64) ** 2).mean()) > threshold:
                return ts
        return None

    def agent_state(self) -> str | None:
        """The agent's state as standard LiveKit frontends read it (`lk.agent.state`)."""
        for p in self.room.remote_participants.values():
            if p.identity == self.agent_identity or p.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
                return p.attributes.get("lk.agent.state")
        return None

    def agent_done_after(self, after: float, quiet: float) -> bool:
        """The agent spoke after `after`, is listening again (its published state), and its
        audio has been silent for `quiet` seconds."""
        if self.first_agent_audio_after(after) is None or self.agent_state() != "listening":
            return False
        now = time.monotonic()
        return self.agent_rms(now - quiet, now) < 150

    async def wait_agent_quiet(self, quiet: float, timeout: float, after: float) -> None:
        """Wait until `agent_done_after(after, quiet)`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.agent_done_after(after, quiet):
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("the agent did not answer")

    async def leave(self) -> None:
        for t in self._tasks:
            t.cancel()
        await self.room.disconnect()
