"""SimulatedCallerInput: real-time pacing, say() timestamps, recording, close."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from tests.transport.helpers import drain, tone
from worker.transport import CALLER, CallRecorder, SimulatedCallerInput


async def test_frames_are_paced_to_real_time() -> None:
    inp = SimulatedCallerInput()
    t0 = time.monotonic()
    n = 0
    async for frame in inp:
        assert frame.sample_rate == 16000
        assert frame.num_channels == 1
        assert frame.samples_per_channel == 320
        assert not np.frombuffer(frame.data, dtype=np.int16).any()  # silence when idle
        n += 1
        if n == 75:  # 1.5 s of audio
            break
    elapsed = time.monotonic() - t0
    assert 1.4 <= elapsed <= 1.7


async def test_pacing_does_not_drift_after_a_stall() -> None:
    """A slow consumer gets a burst to catch up; total time still equals audio time."""
    inp = SimulatedCallerInput()
    t0 = time.monotonic()
    n = 0
    async for _ in inp:
        n += 1
        if n == 10:
            await asyncio.sleep(0.3)  # stall the consumer (event loop busy elsewhere)
        if n == 50:
            break
    assert 0.95 <= time.monotonic() - t0 <= 1.15


async def test_say_returns_when_played_with_call_time_stamps() -> None:
    rec = CallRecorder(sample_rate=24000)
    inp = SimulatedCallerInput(recorder=rec)
    frames: list = []
    consumer = asyncio.create_task(drain(inp, frames))
    try:
        await asyncio.sleep(0.3)
        before = rec.clock.now()
        # 8 kHz input is resampled to the 16 kHz input rate
        utt = await inp.say(tone(0.8, 8000), 8000)
        after = rec.clock.now()
        assert utt.completed
        assert utt.duration == pytest.approx(0.8, abs=0.01)
        assert utt.end - utt.start == pytest.approx(0.8, abs=0.01)
        assert before <= utt.start <= before + 0.05  # never before say() was called
        assert after - 0.03 <= utt.end <= after + 0.001
        await asyncio.sleep(0.2)
    finally:
        await inp.aclose()
        await consumer

    # what the agent got: 0.8 s of loud frames inside silence
    pcm = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])
    loud = np.flatnonzero(np.abs(pcm) > 1000)
    assert (loud[-1] - loud[0]) / 16000 == pytest.approx(0.8, abs=0.02)

    # and the recording has it on the left channel at the reported time
    assert rec.energy_in_window(CALLER, utt.start + 0.02, utt.end - 0.02) > 0.3
    assert rec.energy_in_window(CALLER, 0.0, utt.start - 0.02) == 0.0
    assert rec.energy_in_window(CALLER, utt.end + 0.02, rec.duration) == 0.0
    assert rec.energy_in_window("agent", 0.0, rec.duration) == 0.0


async def test_queued_utterances_play_back_to_back() -> None:
    inp = SimulatedCallerInput()
    consumer = asyncio.create_task(drain(inp, []))
    try:
        a = inp.enqueue(tone(0.3, 16000), 16000)
        b = inp.enqueue(tone(0.2, 16000, freq=300), 16000)
        ra, rb = await asyncio.gather(a, b)
        assert rb.start == pytest.approx(ra.end, abs=1e-6)
        assert rb.end - ra.start == pytest.approx(0.5, abs=1e-3)
    finally:
        await inp.aclose()
        await consumer


async def test_cancelling_say_stops_the_caller() -> None:
    inp = SimulatedCallerInput()
    frames: list = []
    consumer = asyncio.create_task(drain(inp, frames))
    try:
        task = asyncio.create_task(inp.say(tone(2.0, 16000), 16000))
        await asyncio.sleep(0.4)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert inp.queued_seconds == 0.0
        n_at_cancel = len(frames)
        await asyncio.sleep(0.2)
    finally:
        await inp.aclose()
        await consumer
    tail = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames[n_at_cancel:]])
    assert not tail.any()


async def test_aclose_ends_iteration_and_resolves_pending() -> None:
    inp = SimulatedCallerInput()
    frames: list = []
    consumer = asyncio.create_task(drain(inp, frames))
    await asyncio.sleep(0.1)
    fut = inp.enqueue(tone(5.0, 16000), 16000)
    await asyncio.sleep(0.2)
    await inp.aclose()
    await asyncio.wait_for(consumer, 1.0)  # iterator ended on its own
    utt = await fut
    assert not utt.completed
    assert 0.1 <= utt.duration <= 0.3
    with pytest.raises(RuntimeError):
        inp.enqueue(tone(0.1, 16000), 16000)
