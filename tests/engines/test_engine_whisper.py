"""Whisper STT through the real engines: Piper speech in, transcripts and events out."""

from __future__ import annotations

import asyncio

import numpy as np
from livekit import rtc
from livekit.agents import stt

from worker.engines.piper_tts import PiperTTS
from worker.engines.whisper_stt import WhisperSTT, is_looping

from .helpers import silence, to_frames


def _speech(piper: PiperTTS, text: str) -> np.ndarray:
    pcm, _ = piper.synthesize_pcm(text)
    return pcm


async def _run_stream(
    whisper: WhisperSTT, frames: list[rtc.AudioFrame], realtime: bool, end: bool = True
) -> tuple[list[stt.SpeechEvent], object]:
    stream = whisper.stream()
    events: list[stt.SpeechEvent] = []

    async def feed() -> None:
        for index, frame in enumerate(frames):
            stream.push_frame(frame)
            if realtime:
                await asyncio.sleep(frame.duration)
            elif index % 10 == 0:
                await asyncio.sleep(0)
        if end:
            stream.end_input()

    feeder = asyncio.create_task(feed())
    async for ev in stream:
        events.append(ev)
    await feeder
    await stream.aclose()
    return events, stream


def _kinds(events: list[stt.SpeechEvent]) -> list[stt.SpeechEventType]:
    return [e.type for e in events if e.type != stt.SpeechEventType.RECOGNITION_USAGE]


async def test_piper_to_whisper_round_trip(whisper: WhisperSTT, piper: PiperTTS) -> None:
    text = "My name is Dana Whitfield and my phone number is 415 555 0123."
    pcm = _speech(piper, text)
    frame = rtc.AudioFrame(pcm.tobytes(), piper.sample_rate, 1, pcm.size)  # 22.05 kHz in
    event = await whisper.recognize(buffer=frame)
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    alt = event.alternatives[0]
    heard = alt.text.lower()
    for word in ("my name is", "dana", "whitfield", "phone number"):
        assert word in heard, heard
    assert alt.language == "en"
    assert 0.3 < alt.confidence <= 1.0


async def test_streaming_events_in_order(whisper: WhisperSTT, piper: PiperTTS) -> None:
    rate = piper.sample_rate
    speech = _speech(
        piper, "I would like to book a tour of the apartment on Maple Street on Saturday."
    )
    assert speech.size / rate > 3.5
    pcm = np.concatenate([silence(0.5, rate), speech, silence(1.2, rate)])
    events, stream = await _run_stream(whisper, to_frames(pcm, rate), realtime=True)
    kinds = _kinds(events)
    start, interim, final, end = (
        stt.SpeechEventType.START_OF_SPEECH,
        stt.SpeechEventType.INTERIM_TRANSCRIPT,
        stt.SpeechEventType.FINAL_TRANSCRIPT,
        stt.SpeechEventType.END_OF_SPEECH,
    )
    assert kinds[0] == start and kinds[-2:] == [final, end], kinds
    assert kinds.count(start) == kinds.count(final) == kinds.count(end) == 1, kinds
    assert kinds.count(interim) >= 1
    assert set(kinds[1:-2]) == {interim}
    final_text = next(e for e in events if e.type == final).alternatives[0].text.lower()
    assert "tour" in final_text and "apartment" in final_text and "saturday" in final_text
    assert stream.speculative_hits == 1  # type: ignore[attr-defined]
    interims = [e.alternatives[0] for e in events if e.type == interim]
    assert all(a.text for a in interims)
    assert interims[-1].end_time >= interims[0].end_time


async def test_end_of_input_mid_utterance_still_finalises(
    whisper: WhisperSTT, piper: PiperTTS
) -> None:
    rate = piper.sample_rate
    pcm = np.concatenate([silence(0.3, rate), _speech(piper, "Saturday at ten works for me.")])
    events, _ = await _run_stream(whisper, to_frames(pcm, rate), realtime=False)
    kinds = _kinds(events)
    assert kinds[0] == stt.SpeechEventType.START_OF_SPEECH
    assert kinds[-2:] == [stt.SpeechEventType.FINAL_TRANSCRIPT, stt.SpeechEventType.END_OF_SPEECH]
    final_text = [e for e in events if e.type == stt.SpeechEventType.FINAL_TRANSCRIPT][0]
    assert "saturday" in final_text.alternatives[0].text.lower()


async def test_silence_and_noise_do_not_crash_or_hallucinate(whisper: WhisperSTT) -> None:
    quiet = silence(3.0, 16000)
    events, _ = await _run_stream(whisper, to_frames(quiet, 16000), realtime=False)
    assert not any(e.alternatives and e.alternatives[0].text for e in events)
    event = await whisper.recognize(buffer=rtc.AudioFrame(quiet.tobytes(), 16000, 1, quiet.size))
    assert event.alternatives[0].text == ""

    rng = np.random.default_rng(7)
    noise = (rng.standard_normal(16000 * 3) * 1500).astype(np.int16)
    events, _ = await _run_stream(whisper, to_frames(noise, 16000), realtime=False)
    kinds = _kinds(events)
    assert kinds.count(stt.SpeechEventType.START_OF_SPEECH) == kinds.count(
        stt.SpeechEventType.END_OF_SPEECH
    )
    await whisper.recognize(buffer=rtc.AudioFrame(noise.tobytes(), 16000, 1, noise.size))
    empty = await whisper.recognize(buffer=[])
    assert empty.alternatives[0].text == ""


def test_window_and_loop_guard(whisper: WhisperSTT) -> None:
    transcriber = whisper.transcriber
    assert transcriber.window_for(1.0) == 10.0
    assert transcriber.window_for(9.5) == 13.0
    assert transcriber.window_for(40.0) == 30.0
    assert is_looping("Bye. Bye. Bye. Bye. Bye.")
    assert is_looping("Can you charge my card, can you charge my card, can you charge my card")
    assert not is_looping("I said no, no, no, I do not want the extended warranty")
    assert not is_looping("My name is Dana Whitfield.")
