"""The caller's pause by level: it starts at the last audible sample, not ~135 ms later with the
VAD, and it is never heard inside soft speech or under line noise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from livekit.agents import stt
from livekit.plugins import silero

from worker.engines.quiet_tail import QuietTail
from worker.engines.whisper_decode import SAMPLE_RATE
from worker.engines.whisper_stt import Transcript, WhisperSTT
from worker.engines.whisper_turn_end import COMPLETE_PAUSE_S
from worker.settings import Settings
from worker.simulate.voices import Voice, speak
from worker.transport.levels import AUDIBLE_RMS, first_audible, last_audible

from .helpers import silence, to_frames

BLOCK = SAMPLE_RATE // 100  # 10 ms


def _tone(db: float, seconds: float = 0.01) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (np.sin(2 * np.pi * 220 * t) * 32767 * 10 ** (db / 20) * np.sqrt(2)).astype(np.int16)


def test_quiet_counts_from_the_first_block_under_the_level_and_resets_on_sound() -> None:
    tail = QuietTail(AUDIBLE_RMS, SAMPLE_RATE)
    assert not tail.push(_tone(-20))
    assert all(tail.push(silence(0.01, SAMPLE_RATE)) for _ in range(15))
    assert abs(tail.seconds - 0.15) < 1e-9
    assert not tail.push(_tone(-30)) and tail.seconds == 0.0


def test_soft_speech_near_the_level_is_not_a_pause() -> None:
    """A caller at -44 dBFS is barely over the level: a dip to -50 dBFS (not 20 dB under the
    caller's own loudest) is still speech."""
    tail = QuietTail(AUDIBLE_RMS, SAMPLE_RATE)
    tail.push(_tone(-44))
    assert not tail.push(_tone(-50)) and tail.seconds == 0.0
    assert tail.push(_tone(-70)) and tail.seconds > 0


def test_line_noise_over_the_level_and_no_level_leave_the_vad_alone() -> None:
    noisy = QuietTail(AUDIBLE_RMS, SAMPLE_RATE)
    noisy.push(_tone(-20))
    assert not any(noisy.push(_tone(-40)) for _ in range(50)) and noisy.seconds == 0.0
    off = QuietTail(None, SAMPLE_RATE)
    assert not off.push(silence(0.5, SAMPLE_RATE)) and off.seconds == 0.0


async def _first_final_audio(quiet_level: float | None, audio: np.ndarray) -> np.ndarray:
    """The audio of the first speculative (non-interim) transcription of `audio`."""
    engine = WhisperSTT(vad=silero.VAD.load(min_silence_duration=1.2, min_speech_duration=0.1),
                        interim_interval=0, quiet_level=quiet_level)
    decoded: list[np.ndarray] = []

    async def transcribe(chunk: np.ndarray, *, interim: bool = False, expecting: str | None = None,
                         offered: str | None = None, stale: Callable[[], bool] | None = None) -> Transcript:
        decoded.append(chunk)
        return Transcript("", audio_s=chunk.size / SAMPLE_RATE)

    engine.transcribe = transcribe  # type: ignore[method-assign]  # the pause is under test, not Whisper
    stream = engine.stream()
    for frame in to_frames(audio, SAMPLE_RATE):
        stream.push_frame(frame)
    stream.end_input()
    async for _ in stream:
        pass
    assert decoded, "no speculative transcription started"
    return decoded[0]


async def test_the_speculative_transcript_starts_at_the_pause_heard_not_the_vads() -> None:
    """espeak-ng's "Two PM works for me." then silence: with the level, the first speculative
    transcription holds ~0.2 s after the last audible sample (the `speculative_pause`); with the
    VAD alone it holds the VAD's lag on top (measured here ~0.13-0.16 s)."""
    speech = (speak(Voice.parse("espeak-ng:en-us"), "Two PM works for me.") * 32767).astype(np.int16)
    audio = np.concatenate([silence(0.3, SAMPLE_RATE), speech, silence(1.5, SAMPLE_RATE)])

    def tail_s(chunk: np.ndarray) -> float:
        pcm = (chunk * 32768).astype(np.int16)
        end = last_audible(pcm, SAMPLE_RATE)
        assert end is not None
        return pcm.size / SAMPLE_RATE - end

    by_level = tail_s(await _first_final_audio(AUDIBLE_RMS, audio))
    by_vad = tail_s(await _first_final_audio(None, audio))
    assert 0.15 <= by_level <= 0.27, by_level
    assert by_vad >= by_level + 0.05, (by_vad, by_level)


def _audible(speech: np.ndarray) -> np.ndarray:
    """int16 `speech` without its quiet edges, so the pauses put between are the pauses heard."""
    pcm = (speech * 32767).astype(np.int16)
    start, end = first_audible(pcm, SAMPLE_RATE), last_audible(pcm, SAMPLE_RATE)
    assert start is not None and end is not None
    return pcm[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]


async def _finals(audio: np.ndarray, complete_pause: float = COMPLETE_PAUSE_S) -> list[float]:
    """Seconds of audio in each final of a stream whose every transcript reads finished."""
    engine = WhisperSTT(vad=silero.VAD.load(min_silence_duration=1.2, min_speech_duration=0.1),
                        interim_interval=0, quiet_level=AUDIBLE_RMS, turn_pause=lambda _text, _slot: 0.0,
                        complete_pause=complete_pause)

    async def transcribe(chunk: np.ndarray, *, interim: bool = False, expecting: str | None = None,
                         offered: str | None = None, stale: Callable[[], bool] | None = None) -> Transcript:
        return Transcript("Two PM works for me.", audio_s=chunk.size / SAMPLE_RATE)

    engine.transcribe = transcribe  # type: ignore[method-assign]  # an instant judge: only the pause decides
    stream = engine.stream()
    for frame in to_frames(audio, SAMPLE_RATE):
        stream.push_frame(frame)
    stream.end_input()
    return [ev.alternatives[0].end_time - ev.alternatives[0].start_time async for ev in stream
            if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT]


async def test_a_finished_sounding_phrase_still_waits_out_a_comma_pause() -> None:
    """The transcript is ready 0.2 s into the pause; the turn still waits `COMPLETE_PAUSE_S` of
    it, so "Oakland, [0.30 s] and my budget is ..." stays one turn, and a real stop ends it."""
    voice = Voice.parse("flite:slt")
    first, rest = (_audible(speak(voice, t)) for t in ("I'm looking in Oakland,", "and my budget is about nine hundred thousand."))
    lead, pause, tail = silence(0.3, SAMPLE_RATE), silence(COMPLETE_PAUSE_S - 0.1, SAMPLE_RATE), silence(1.5, SAMPLE_RATE)
    assert len(await _finals(np.concatenate([lead, first, pause, rest, tail]))) == 1
    stop = silence(COMPLETE_PAUSE_S + 0.25, SAMPLE_RATE)
    assert len(await _finals(np.concatenate([lead, first, stop, rest, tail]))) == 2


async def test_the_complete_pause_setting_is_the_floor_the_stream_waits() -> None:
    """`MB_STT_COMPLETE_PAUSE` (`WhisperSTT.complete_pause`) is the floor the stream holds a
    finished-sounding phrase to: raised, a stop that ends the turn at the default keeps it whole."""
    voice = Voice.parse("flite:slt")
    first, rest = (_audible(speak(voice, t)) for t in ("I'm looking in Oakland,", "and my budget is about nine hundred thousand."))
    lead, stop, tail = silence(0.3, SAMPLE_RATE), silence(COMPLETE_PAUSE_S + 0.25, SAMPLE_RATE), silence(1.5, SAMPLE_RATE)
    audio = np.concatenate([lead, first, stop, rest, tail])
    assert len(await _finals(audio, complete_pause=COMPLETE_PAUSE_S + 0.5)) == 1


def test_the_settings_default_is_the_engines_default() -> None:
    assert Settings.model_fields["stt_complete_pause"].default == COMPLETE_PAUSE_S
