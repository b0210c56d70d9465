"""CallRecorder: chunks land at their timestamps, caller left, agent right; both ends of a
simulated line write what was heard into it."""

from __future__ import annotations

import asyncio
import wave

import numpy as np
import pytest

from tests.transport.helpers import SR, drain, frames_of, push, tone
from worker.transport import AGENT, CALLER, CallClock, CallRecorder, CapturingAgentOutput, SimulatedCallerInput


def test_chunks_are_placed_at_their_timestamps_on_their_channel() -> None:
    clock = CallClock(t0=100.0)
    rec = CallRecorder(sample_rate=24000, clock=clock)
    # caller speaks 0.5–1.0 s (16 kHz, resampled), agent speaks 1.5–2.0 s (24 kHz)
    for i, f in enumerate(frames_of(tone(0.5, 16000), 16000, frame_ms=20)):
        rec.add_frame(CALLER, f, at=100.5 + i * 0.02)
    rec.add(AGENT, tone(0.5, 24000, freq=880), 24000, at=101.5)

    pcm = rec.render()
    assert pcm.shape == (48000, 2)
    assert rec.energy_in_window(CALLER, 0.55, 0.95) > 0.3
    assert rec.energy_in_window(CALLER, 0.0, 0.49) == 0.0
    assert rec.energy_in_window(CALLER, 1.05, 2.0) < 0.01
    assert rec.energy_in_window(AGENT, 1.5, 2.0) > 0.3
    assert rec.energy_in_window(AGENT, 0.0, 1.49) == 0.0
    # the resampled caller run is continuous: no clicks or holes at frame boundaries
    caller = pcm[int(0.52 * 24000) : int(0.98 * 24000), 0].astype(float) / 32767
    blocks = np.sqrt(np.mean(caller[: len(caller) // 240 * 240].reshape(-1, 240) ** 2, axis=1))
    assert blocks.min() > 0.3

    spans = rec.active_spans(CALLER)
    assert len(spans) == 1
    assert spans[0][0] == pytest.approx(0.5, abs=0.02)
    assert spans[0][1] == pytest.approx(1.0, abs=0.02)


def test_audio_before_call_start_is_dropped() -> None:
    rec = CallRecorder(sample_rate=16000, clock=CallClock(t0=10.0))
    rec.add(AGENT, tone(1.0, 16000), 16000, at=9.5)  # half of it precedes t0
    assert rec.duration == pytest.approx(0.5, abs=1e-3)


def test_write_produces_stereo_16bit_wav(tmp_path) -> None:
    rec = CallRecorder(sample_rate=24000, clock=CallClock(t0=0.0))
    rec.add(CALLER, tone(0.2, 24000), 24000, at=0.1)
    rec.add(AGENT, tone(0.2, 24000), 24000, at=0.5)
    path = rec.write(tmp_path / "call.wav")
    with wave.open(str(path), "rb") as wf:
        assert wf.getnchannels() == 2
        assert wf.getsampwidth() == 2
        assert wf.getframerate() == 24000
        data = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").reshape(-1, 2)
    left, right = data[:, 0], data[:, 1]
    assert np.abs(left[int(0.1 * 24000) : int(0.3 * 24000)]).max() > 10000
    assert np.abs(left[int(0.35 * 24000) :]).max() == 0
    assert np.abs(right[: int(0.5 * 24000)]).max() == 0
    assert np.abs(right[int(0.5 * 24000) : int(0.7 * 24000)]).max() > 10000


def test_unknown_channel_is_rejected() -> None:
    rec = CallRecorder()
    with pytest.raises(ValueError):
        rec.add("middle", tone(0.1, 16000), 16000, at=rec.clock.t0)


async def test_stereo_call_wav_layout(tmp_path) -> None:
    """Caller left, agent right, each at the time it was heard, barge-in overlap visible."""
    rec = CallRecorder(sample_rate=SR)
    inp = SimulatedCallerInput(recorder=rec)
    out = CapturingAgentOutput(recorder=rec, sample_rate=SR)
    consumer = asyncio.create_task(drain(inp, []))
    try:
        await asyncio.sleep(0.2)
        utt = await inp.say(tone(0.5, 16000, freq=300), 16000)
        await push(out, 1.5)
        agent_start = await out.speech.wait_started(after=utt.end, timeout=1.0)
        await asyncio.sleep(0.6)
        barge = await inp.say(tone(0.3, 16000, freq=300), 16000)  # caller talks over agent
        out.clear_buffer()
        ev = await out.wait_for_playout()
        await asyncio.sleep(0.2)
    finally:
        await inp.aclose()
        await consumer
        await out.aclose()

    stop = out.speech.timeline[-1].at
    assert ev.interrupted and ev.playback_position == pytest.approx(stop - agent_start.at, abs=0.01)
    path = rec.write(tmp_path / "call.wav")
    with wave.open(str(path), "rb") as wf:
        assert (wf.getnchannels(), wf.getsampwidth(), wf.getframerate()) == (2, 2, SR)
        data = np.frombuffer(wf.readframes(wf.getnframes()), dtype="<i2").reshape(-1, 2)

    def rms(ch: int, t0: float, t1: float) -> float:
        seg = data[int(t0 * SR) : int(t1 * SR), ch].astype(float)
        return float(np.sqrt(np.mean(seg**2)) / 32768)

    assert rms(0, utt.start + 0.03, utt.end - 0.03) > 0.3  # caller, left
    assert rms(1, utt.start + 0.03, utt.end - 0.03) == 0.0  # agent silent meanwhile
    assert rms(1, agent_start.at + 0.03, barge.start - 0.03) > 0.3  # agent, right
    assert rms(0, agent_start.at + 0.05, barge.start - 0.05) == 0.0
    # the barge-in overlap: both channels loud at once
    assert rms(0, barge.start + 0.03, barge.end - 0.03) > 0.3
    assert rms(1, barge.start + 0.03, min(barge.end, stop) - 0.03) > 0.3
    assert rms(1, stop + 0.02, len(data) / SR) == 0.0
    assert rec.energy_in_window(CALLER, utt.start + 0.03, utt.end - 0.03) == pytest.approx(
        rms(0, utt.start + 0.03, utt.end - 0.03), rel=0.05
    )
