"""Speakerphone echo on a simulated line, and the canceller that takes it out before the VAD."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from livekit import rtc
from livekit.agents.voice import io

from worker.engines.piper_tts import synthesize_pcm
from worker.transport.echo import ECHO_RATE, EchoCanceller, PlayedAudio, Speakerphone
from worker.transport.levels import rms
from worker.transport.pcm import resample_mono


def test_played_audio_is_found_by_time_and_cut_where_playback_stopped() -> None:
    played = PlayedAudio()
    played.add(np.full(1600, 1000, np.int16), ECHO_RATE, start=10.0)  # 10.0 → 10.1 s
    assert played.take(9.95, 800)[:800].tolist() == [0.0] * 800
    got = played.take(10.05, 1600)
    assert np.allclose(got[:800], 1000, atol=30) and not got[850:].any()
    played.cut(10.02)
    assert not played.take(10.03, 400).any()
    assert np.allclose(played.take(10.0, 300), 1000, atol=30)


def test_the_speakerphone_sends_it_back_quieter_and_later() -> None:
    played = PlayedAudio()
    played.add(np.full(3200, 10000, np.int16), ECHO_RATE, start=1.0)
    phone = Speakerphone(played, level_db=-20.0, delay=0.15)
    assert not phone.echo(1.0, 1600).any()  # nothing yet: the echo is 150 ms late
    assert np.allclose(phone.echo(1.2, 800), 1000, atol=10)  # 20 dB down


class _Line(io.AudioInput):
    """A microphone that plays the given samples in 20 ms frames and says when each was captured."""

    def __init__(self, samples: np.ndarray, t0: float) -> None:
        super().__init__(label="line")
        self.samples, self.t0, self.k = samples, t0, 0
        self.last_frame_start: float | None = None

    async def __anext__(self) -> rtc.AudioFrame:
        n = ECHO_RATE // 50
        if (self.k + 1) * n > len(self.samples):
            raise StopAsyncIteration
        self.last_frame_start = self.t0 + self.k * n / ECHO_RATE
        chunk = self.samples[self.k * n:(self.k + 1) * n]
        self.k += 1
        return rtc.AudioFrame(chunk.tobytes(), ECHO_RATE, 1, n)


def run_canceller(mic: np.ndarray, played: PlayedAudio, t0: float) -> np.ndarray:
    async def go() -> np.ndarray:
        canceller = EchoCanceller(_Line(mic, t0), played)
        frames = [np.frombuffer(bytes(f.data), np.int16) async for f in canceller]
        return np.concatenate(frames)
    return asyncio.run(go())


@pytest.fixture(scope="module")
def agent_voice() -> np.ndarray:
    pcm, rate = synthesize_pcm("Hi, this is Maya from Bloom Realty. Who am I speaking with?")
    return resample_mono(pcm, rate, ECHO_RATE)


def test_the_agents_own_voice_is_cancelled_and_the_caller_is_not(agent_voice: np.ndarray) -> None:
    t0 = 100.0
    played = PlayedAudio()
    played.add(agent_voice, ECHO_RATE, start=t0)
    phone = Speakerphone(played, level_db=-25.0, delay=0.15)
    n = len(agent_voice) + ECHO_RATE
    echo = np.clip(phone.echo(t0, n), -32768, 32767).astype(np.int16)

    out = run_canceller(echo, played, t0)
    settled = slice(ECHO_RATE, len(out))  # after the canceller's first second
    assert rms(echo[settled]) > 0.003  # the echo is there (about -45 dBFS) ...
    assert rms(out[settled]) < rms(echo[settled]) / 10  # ... and 20 dB less after the canceller

    # a caller who talks over the echo comes through at (nearly) full level
    caller = (np.sin(2 * np.pi * 220 * np.arange(n) / ECHO_RATE) * 6000).astype(np.int16)
    caller[: 2 * ECHO_RATE] = 0
    mixed = np.clip(caller.astype(np.int32) + echo, -32768, 32767).astype(np.int16)
    out = run_canceller(mixed, played, t0)
    talk = slice(2 * ECHO_RATE + 1600, len(out))
    assert rms(out[talk]) > 0.5 * rms(caller[talk])


def test_echo_before_the_canceller_converges_is_gated_from_the_first_frame(agent_voice: np.ndarray) -> None:
    t0 = 50.0
    played = PlayedAudio()
    played.add(agent_voice, ECHO_RATE, start=t0)
    echo = np.clip(Speakerphone(played, level_db=-25.0, delay=0.15).echo(t0, len(agent_voice)),
                   -32768, 32767).astype(np.int16)

    out = run_canceller(echo, played, t0)

    first = slice(int(0.15 * ECHO_RATE), ECHO_RATE // 2)  # AEC3 has not converged yet
    assert rms(echo[first]) > 0.003 and rms(out[first]) < 0.0005
