"""The digit search of a speculative decode stops once the caller goes on (`whisper_branch`).

Why: the recognition stream decodes an utterance again at each pause, one decode after another on
the model's lock. A card read in groups ("four one one one, [pause] one one one one, ...") made a
search at every pause, each for its whole budget, and the final waited behind them (a card of
fifteen ones: 8 s of silence for the caller in `bench robustness`). Here the search is a stand-in
that takes its whole budget unless told its audio went stale, so the test does not depend on
how long the real search of one voice's card takes."""

from __future__ import annotations

import asyncio
import time

import pytest
from livekit.agents import stt
from livekit.plugins import silero

from worker.engines import whisper_decode
from worker.engines.whisper_hints import EXPECTED_ANSWER, ExpectedAnswer
from worker.engines.whisper_stt import WhisperSTT
from worker.simulate.caller_lines import voice_line

from .helpers import silence, to_frames

PAUSE_S = 0.7


async def test_a_search_at_a_pause_stops_when_the_caller_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    searches: list[tuple[float, bool]] = []  # (seconds searched, stopped before its deadline)

    def slow_search(*args: object, deadline: float | None = None, stale: object = None, **kwargs: object) -> None:
        began = time.perf_counter()
        assert deadline is not None
        while time.perf_counter() < deadline and not (callable(stale) and stale()):
            time.sleep(0.01)
        searches.append((time.perf_counter() - began, time.perf_counter() < deadline))
        return None  # no decode fits: the plain one stands

    monkeypatch.setattr(whisper_decode, "fitting_decode", slow_search)
    # the VAD's end of speech as a call has it with the reading rule (1.2 s): the pause is no end
    whisper = WhisperSTT(vad=silero.VAD.load(min_silence_duration=1.2, min_speech_duration=0.1), hints=True)
    speech, rate = voice_line(f"four one one one, [pause {PAUSE_S}] one one one one.", "espeak-ng:en-us")
    token = EXPECTED_ANSWER.set(ExpectedAnswer("card_number"))
    try:
        stream = whisper.stream()
    finally:
        EXPECTED_ANSWER.reset(token)
    finals: list[str] = []

    async def feed() -> None:
        for frame in to_frames(speech, rate) + to_frames(silence(1.6, rate), rate):
            stream.push_frame(frame)
            await asyncio.sleep(frame.duration)
        stream.end_input()

    feeder = asyncio.create_task(feed())
    async for ev in stream:
        if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
            finals.append(ev.alternatives[0].text)
    await feeder
    await stream.aclose()

    stopped = [seconds for seconds, early in searches if early]
    assert stopped, searches  # the search at the pause stopped when the caller went on...
    assert max(stopped) < 1.5, searches  # ...well within its 2.5 s budget
    assert len(finals) == 1 and finals[0].lower().count("one") >= 4, finals  # one utterance, heard whole
