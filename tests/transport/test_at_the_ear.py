"""Latency at the caller's ear: the caller's last audible sample and the agent's first audible
sample, timed on the samples (worker.transport.levels), not on buffer edges or first frames."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.transport.helpers import SR, drain, frames_of, make_output, tone
from worker.transport import SimulatedCallerInput
from worker.transport.levels import first_audible, last_audible


def _padded(lead: float, speech: float, tail: float, rate: int) -> np.ndarray:
    quiet = lambda s: np.zeros(int(round(s * rate)), np.int16)  # noqa: E731
    return np.concatenate([quiet(lead), tone(speech, rate), quiet(tail)])


def test_first_and_last_audible_skip_quiet_edges() -> None:
    pcm = _padded(0.05, 0.5, 0.3, 16000)
    assert first_audible(pcm, 16000) == pytest.approx(0.05, abs=0.011)
    assert last_audible(pcm, 16000) == pytest.approx(0.55, abs=0.011)
    assert first_audible(np.zeros(1600, np.int16), 16000) is None
    assert last_audible(np.zeros(0, np.int16), 16000) is None


def test_a_frame_shorter_than_a_block_still_counts() -> None:
    short = tone(0.006, 16000)  # 6 ms: less than one 10 ms block
    assert first_audible(short, 16000) == 0.0
    assert last_audible(short, 16000) == pytest.approx(0.006, abs=1e-4)


async def test_caller_utterance_reports_its_audible_end_before_the_buffer_end() -> None:
    inp = SimulatedCallerInput()
    frames: list = []
    consumer = asyncio.create_task(drain(inp, frames))
    try:
        await asyncio.sleep(0.1)
        utt = await inp.say(_padded(0.1, 0.4, 0.3, 16000), 16000)
    finally:
        await inp.aclose()
        await consumer
    assert utt.audible_start is not None and utt.audible_end is not None
    assert utt.audible_start - utt.start == pytest.approx(0.1, abs=0.011)
    assert utt.end - utt.audible_end == pytest.approx(0.3, abs=0.011)


async def test_first_audible_agent_sample_is_after_a_quiet_lead() -> None:
    out, _, _ = make_output()
    for f in frames_of(_padded(0.06, 0.3, 0.0, SR), SR):
        await out.capture_frame(f)
    out.flush()
    await out.wait_for_playout()
    started = out.speech.timeline[0].at
    heard = out.first_audible_after(started)
    assert heard is not None and heard - started == pytest.approx(0.06, abs=0.011)
    assert out.first_audible_after(heard + 0.5) is None
    await out.aclose()


async def test_a_reply_cut_before_its_first_audible_sample_was_never_heard() -> None:
    out, _, _ = make_output()
    for f in frames_of(_padded(0.5, 0.3, 0.0, SR), SR):
        await out.capture_frame(f)
    out.flush()
    await out.speech.wait_started(timeout=1.0)
    await asyncio.sleep(0.2)
    out.clear_buffer()
    await out.wait_for_playout()
    assert out.audible_onsets == []
    await out.aclose()


async def test_caller_utterance_lists_its_audible_spans_around_a_pause() -> None:
    inp = SimulatedCallerInput()
    frames: list = []
    consumer = asyncio.create_task(drain(inp, frames))
    try:
        await asyncio.sleep(0.1)
        pcm = np.concatenate([_padded(0.1, 0.3, 0.5, 16000), _padded(0.0, 0.2, 0.2, 16000)])
        utt = await inp.say(pcm, 16000)
    finally:
        await inp.aclose()
        await consumer
    assert len(utt.audible) == 2
    (a0, a1), (b0, b1) = utt.audible
    assert a0 == utt.audible_start and b1 == utt.audible_end
    assert a1 - a0 == pytest.approx(0.3, abs=0.011) and b0 - a1 == pytest.approx(0.5, abs=0.011)
