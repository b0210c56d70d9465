"""Offline speech-to-text for livekit-agents: Whisper tiny.en with interim results.

Why it looks like this:
- Decoding lives in `whisper_decode` (short encoder window, loop guard, one model per
  process); this module plugs it into livekit's `stt.STT` and runs it in a worker thread so
  the event loop stays free.
- Whisper is not a streaming model, so `stream()` runs a livekit VAD (Silero) over the
  pushed frames and re-transcribes the growing utterance every `interim_interval` seconds of
  audio for interim results.
- A speculative final starts as soon as the caller has paused (`speculative_pause`, 0.2 s, by
  the VAD or sooner by level: `quiet_tail`); if the utterance then ends with no new speech, that result
  is the final, so it arrives right after the VAD's end of speech instead of a decode later.
- End of turn by meaning (`turn_pause`, given by the call: the reading rule over the words):
  when the speculative transcript of the whole utterance reads as a finished turn, the
  utterance is finalised at once, without waiting for the VAD's (long) end-of-speech
  silence; an unfinished one ("I'm looking in, um,") waits for it, one in between a medium
  silence (`whisper_turn_end`). The session then runs in
  "stt" turn detection, so this END_OF_SPEECH is the end of the caller's turn. Whisper always
  hears the whole utterance, never a fragment cut at a pause. If the caller goes on after an
  early end, a new utterance opens with the speech that re-opened it.
- Events follow what `voice/audio_recognition.py` consumes: START_OF_SPEECH, INTERIM_*,
  FINAL_TRANSCRIPT, then END_OF_SPEECH (in "stt" turn detection the end of speech commits
  the turn with whatever final text arrived before it), then RECOGNITION_USAGE.
- Input must be mono; any sample rate (the base stream resamples to 16 kHz).
- With `hints=True`, an answer to a known question is decoded with that slot's prompt, a digit
  question's with the numeric vocabulary and digit shape (`whisper_hints`, `whisper_digits`): the
  call says what it asked through `EXPECTED_ANSWER`, captured when the stream opens."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents import vad as agents_vad
from livekit.agents.language import LanguageCode
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
    TimedString,
)
from loguru import logger

from worker.engines.whisper_decode import (
    SAMPLE_RATE,
    Transcript,
    WhisperTranscriber,
    frames_to_float,
    is_looping,
    load_whisper_model,
)
from worker.engines.whisper_turn_end import COMPLETE_PAUSE_S, SHORT_SPEECH_S, EndByMeaning, pause_when_finished
from worker.engines.whisper_utterance import Utterance
from worker.engines.whisper_digits import DIGIT_SHAPES
from worker.engines.quiet_tail import QuietTail
from worker.engines.whisper_hints import DIGIT_QUESTIONS, EXPECTED_ANSWER, ExpectedAnswer, decode_hint

__all__ = ["SAMPLE_RATE", "Transcript", "WhisperRecognizeStream", "WhisperSTT", "WhisperTranscriber",
           "frames_to_float", "is_looping", "load_whisper_model"]


class WhisperSTT(stt.STT):
    """livekit-agents STT on Whisper tiny.en; streaming (with partials) when given a VAD."""

    def __init__(
        self,
        *,
        vad: agents_vad.VAD | None = None,
        model_path: str | Path | None = None,
        cpu_threads: int = 1,
        language: str = "en",
        interim_interval: float = 0.8,
        speculative_pause: float = 0.2,
        min_window_s: float = 10.0,
        window_margin_s: float = 3.0,
        full_window: bool = False,
        model_name: str = "tiny.en",
        hints: bool = False,
        end_of_turn: Callable[[str], bool] | None = None,
        turn_pause: Callable[[str, str | None], float | None] | None = None,
        quiet_level: float | None = None,
        complete_pause: float = COMPLETE_PAUSE_S,
        backchannel: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=vad is not None,
                interim_results=vad is not None and interim_interval > 0,
            )
        )
        if not language.lower().startswith("en"):
            logger.warning("whisper tiny.en only knows English; ignoring language={}", language)
        self._vad = vad
        self._language = LanguageCode("en")
        self.interim_interval = interim_interval
        self.speculative_pause = speculative_pause
        self.model_name = model_name
        self.hints = hints
        self.turn_pause = turn_pause or (None if end_of_turn is None else pause_when_finished(end_of_turn))
        """Silence after a transcript (and the slot asked) that ends the turn, None: the VAD's long
        silence (`whisper_turn_end`). Unset: the VAD alone. `end_of_turn`: a yes/no short form."""
        self.quiet_level = quiet_level
        """RMS (fraction of full scale) under which the caller pauses before the VAD says so (`quiet_tail`)."""
        self.complete_pause = complete_pause
        """Seconds of pause (by level or the VAD) before a finished-sounding utterance ends the turn
        (`whisper_turn_end.COMPLETE_PAUSE_S`)."""
        self.backchannel = backchannel
        """Whether a transcript, said over the agent (`ExpectedAnswer.agent_talking`), means "go on"
        ("Mm-hmm.", no words at all; `worker.call.barge_in.means_go_on`): such an utterance ends at
        the short pause, as a finished turn would, instead of the 1.0-1.2 s an unclosed "MMHMM" or
        an empty transcript waits, so the call resumes its paused reply sooner. None: no such rule."""
        self.transcriber = WhisperTranscriber(
            model_path=model_path,
            cpu_threads=cpu_threads,
            min_window_s=min_window_s,
            window_margin_s=window_margin_s,
            full_window=full_window,
        )

    @property
    def model(self) -> str:
        return f"whisper-{self.model_name}"

    @property
    def provider(self) -> str:
        return "faster-whisper"

    def prewarm(self) -> None:
        self.transcriber.warmup()

    async def transcribe(
        self, audio: np.ndarray, *, interim: bool = False, expecting: str | None = None, offered: str | None = None,
        stale: Callable[[], bool] | None = None,
    ) -> Transcript:
        """Transcribe 16 kHz mono float32 audio in a worker thread; never raises.

        `expecting` (the slot the agent just asked for) biases the decoder when `hints` is on;
        `offered` (`whisper_hints.offered_prompt`) replaces the slot's fixed example then. A digit
        answer's search stops once `stale()` (the caller went on, `whisper_branch`).
        """
        prompt = (offered or decode_hint(expecting)) if self.hints else None
        numeric = self.hints and expecting in DIGIT_QUESTIONS
        digits = DIGIT_SHAPES.get(expecting or "") if numeric and not interim else None  # a part has too few
        try:
            return await asyncio.to_thread(self.transcriber.transcribe, audio, retry_loops=not interim,
                                           prompt=prompt, numeric=numeric, digits=digits, stale=stale)
        except Exception:
            logger.exception("whisper transcription failed")
            return Transcript("", audio_s=audio.size / SAMPLE_RATE)

    def speech_data(self, result: Transcript, start: float, end: float) -> stt.SpeechData:
        return stt.SpeechData(
            language=self._language,
            text=result.text,
            start_time=start,
            end_time=end,
            confidence=result.confidence,
            words=[TimedString(w.text, confidence=w.probability) for w in result.words] or None,
        )

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        audio = frames_to_float(buffer)
        result = await self.transcribe(audio)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=utils.shortuuid(),
            alternatives=[self.speech_data(result, 0.0, audio.size / SAMPLE_RATE)],
        )

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> WhisperRecognizeStream:
        if self._vad is None:
            raise NotImplementedError("WhisperSTT streams only when constructed with vad=")
        return WhisperRecognizeStream(stt=self, vad=self._vad, conn_options=conn_options)


class WhisperRecognizeStream(EndByMeaning, stt.RecognizeStream):
    """VAD-segmented streaming recognition with interim re-transcription (16 kHz mono in)."""

    def __init__(
        self, *, stt: WhisperSTT, vad: agents_vad.VAD, conn_options: APIConnectOptions
    ) -> None:
        super().__init__(stt=stt, conn_options=conn_options, sample_rate=SAMPLE_RATE)
        self._whisper = stt
        self._vad = vad
        self._expected: ExpectedAnswer | None = EXPECTED_ANSWER.get()
        self._utt: Utterance | None = None
        self._pushed = 0  # input samples handed to the VAD
        self._consumed = 0  # input samples the VAD has processed
        self._state_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Transcript]] = set()
        self.finals = 0  # utterances finalised
        self.speculative_hits = 0  # ...of which reused the speculative transcription
        self.early_ends = 0  # ...of which ended by meaning before the VAD's end of speech
        self._ended_early = False  # the VAD is still in a speech segment we already closed
        self._recent: deque[np.ndarray] = deque(maxlen=25)  # ~0.8 s of audio heard after an early end

    async def _run(self) -> None:
        vad_stream = self._vad.stream()

        async def _forward() -> None:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    await self._wait_vad_caught_up()
                    async with self._state_lock:
                        await self._finalize(None, reason="flush")
                    vad_stream.flush()
                    continue
                self._pushed += item.samples_per_channel
                vad_stream.push_frame(item)
            vad_stream.end_input()

        async def _consume() -> None:
            async for ev in vad_stream:
                async with self._state_lock:
                    await self._on_vad_event(ev)
            async with self._state_lock:
                await self._finalize(None, reason="end of input")

        tasks = [asyncio.create_task(_forward()), asyncio.create_task(_consume())]
        try:
            await asyncio.gather(*tasks)
        finally:
            await utils.aio.cancel_and_wait(*tasks, *self._tasks)
            await vad_stream.aclose()

    def _expecting(self) -> str | None:
        return self._expected.slot if self._expected is not None else None

    def _offered(self) -> str | None:
        return self._expected.prompt if self._expected is not None else None

    async def _wait_vad_caught_up(self, timeout: float = 1.0) -> None:
        deadline = time.monotonic() + timeout
        while self._pushed - self._consumed >= 1024 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def _send(self, ev: stt.SpeechEvent) -> None:
        self._event_ch.send_nowait(ev)

    async def _on_vad_event(self, ev: agents_vad.VADEvent) -> None:
        if ev.type == agents_vad.VADEventType.START_OF_SPEECH:
            self._ended_early = False
            if self._utt is not None:
                return
            self._open(ev.frames, ev.speech_duration + ev.inference_duration)
        elif ev.type == agents_vad.VADEventType.INFERENCE_DONE:
            self._consumed += sum(f.samples_per_channel for f in ev.frames)
            if (utt := self._utt) is None:
                if self._ended_early:
                    self._reopen_if_speaking(ev)
                return
            quiet = utt.append(ev.frames)
            if ev.raw_accumulated_speech > 0 and not quiet:  # the VAD's lag after the words is no speech
                utt.version += 1
            utt.silence, utt.silence_at = ev.raw_accumulated_silence, time.time()
            utt.heard = max(utt.silence, utt.quiet.seconds if utt.quiet is not None else 0.0)
            if self._pause_ended(utt):
                self._ended_early = True
                self.early_ends += 1
                await self._finalize(None, reason="pause after the words", silence=utt.silence,
                                     result=utt.spec_task.result() if utt.spec_task else None)
                return
            self._maybe_start_background(utt, utt.heard)
        elif ev.type == agents_vad.VADEventType.END_OF_SPEECH:
            self._ended_early = False
            self._recent.clear()
            await self._finalize(ev, reason="vad")

    def _open(self, frames: list[rtc.AudioFrame], ago: float) -> None:
        buffered = sum(f.samples_per_channel for f in frames)
        self._utt = Utterance(utils.shortuuid(), max(0, self._consumed - buffered),
                              quiet=QuietTail(self._whisper.quiet_level, SAMPLE_RATE))
        talking = self._expected.agent_talking if self._expected is not None else None
        self._utt.over_agent = bool(talking is not None and talking())
        self._utt.append(frames)
        self._send(
            stt.SpeechEvent(
                type=stt.SpeechEventType.START_OF_SPEECH,
                request_id=self._utt.request_id,
                speech_start_time=time.time() - ago,
            )
        )

    def _maybe_start_background(self, utt: Utterance, silence: float) -> None:
        pause = self._whisper.speculative_pause
        interval = self._whisper.interim_interval
        if pause > 0 and silence >= pause and utt.spec_version != utt.version:
            utt.spec_version = utt.version
            utt.spec_task = self._spawn(utt, utt.audio(), interim=False)
        elif (
            interval > 0
            and silence == 0
            and utt.samples - utt.last_interim_at >= interval * SAMPLE_RATE
            and not utt.busy()
        ):
            utt.last_interim_at = utt.samples
            utt.interim_task = self._spawn(utt, utt.audio(), interim=True)

    def _spawn(
        self, utt: Utterance, audio: np.ndarray, *, interim: bool
    ) -> asyncio.Task[Transcript]:
        task = asyncio.create_task(self._background(utt, audio, interim))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _background(self, utt: Utterance, audio: np.ndarray, interim: bool) -> Transcript:
        """Transcribe the utterance so far; publish it as an interim if still relevant.

        A speculative transcript that reads as a finished turn, while the caller is still
        silent, ends the utterance now (see the module docstring)."""
        version = utt.version
        result = await self._whisper.transcribe(audio, interim=interim, expecting=self._expecting(),
                                                offered=self._offered(), stale=lambda: utt.version != version)
        if not interim and self._utt is utt and utt.version == version:
            utt.spec_pause = self._judge(result.text, over_agent=utt.over_agent)
            if utt.spec_pause == 0.0 and utt.speech_s >= SHORT_SPEECH_S and not result.reshaped \
                    and utt.heard + (time.time() - utt.silence_at) >= self._whisper.complete_pause:
                async with self._state_lock:
                    if self._utt is utt and utt.version == version:
                        self._ended_early = True
                        self.early_ends += 1
                        silence = utt.silence + (time.time() - utt.silence_at)
                        await self._finalize(None, reason="complete turn", silence=silence, result=result)
                        return result
        if self._utt is utt and result.text and result.text != utt.last_interim_text:
            utt.last_interim_text = result.text
            start = self.start_time_offset + utt.start_sample / SAMPLE_RATE
            end = start + audio.size / SAMPLE_RATE
            self._send(
                stt.SpeechEvent(
                    type=stt.SpeechEventType.INTERIM_TRANSCRIPT,
                    request_id=utt.request_id,
                    alternatives=[self._whisper.speech_data(result, start, end)],
                )
            )
        return result

    async def _finalize(self, ev: agents_vad.VADEvent | None, *, reason: str, silence: float = 0.0,
                        result: Transcript | None = None) -> None:
        """Close the open utterance: FINAL_TRANSCRIPT, END_OF_SPEECH, then usage."""
        utt, self._utt = self._utt, None
        if utt is None:
            return
        ended = time.perf_counter()
        silence = ev.silence_duration if ev is not None else silence
        speech_end = time.time() - silence - (ev.inference_duration if ev is not None else 0.0)
        reused = result is not None or (
            utt.spec_task is not None
            and utt.spec_version == utt.version
            and not utt.spec_task.cancelled()
        )
        self.finals += 1
        if result is not None:
            self.speculative_hits += 1
        elif reused and utt.spec_task is not None:
            self.speculative_hits += 1
            result = await utt.spec_task
        else:
            result = await self._whisper.transcribe(utt.audio(), expecting=self._expecting(), offered=self._offered())
        start = self.start_time_offset + utt.start_sample / SAMPLE_RATE
        end = max(start, start + utt.samples / SAMPLE_RATE - silence)
        logger.debug("whisper final after {:.0f} ms (speculative={}, {}, {:.1f}s audio, window {:.0f}s): {!r}",
                     (time.perf_counter() - ended) * 1000, reused, reason, utt.samples / SAMPLE_RATE,
                     result.window_s, result.text)
        self._send(stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, request_id=utt.request_id,
                                   alternatives=[self._whisper.speech_data(result, start, end)],
                                   speech_end_time=speech_end))
        self._send(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH, request_id=utt.request_id,
                                   speech_end_time=speech_end))
        self._send(stt.SpeechEvent(type=stt.SpeechEventType.RECOGNITION_USAGE, request_id=utt.request_id,
                                   recognition_usage=stt.RecognitionUsage(audio_duration=utt.samples / SAMPLE_RATE)))
