"""Latency bench for the embedded offline engines (run: `uv run python bench/engines_bench.py`).

Prints medians for: Whisper on a 3 s utterance (faster-whisper's own 30 s-padded
`transcribe()`, our decoder on a 30 s window, our short window); end of speech → final
transcript in the streaming STT with and without the speculative final; Piper's first-clause
latency against whole-sentence synthesis; MiniLM load and per-query latency. The machine's
load average is printed too: these engines share 2 cores, so numbers move with load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from livekit import rtc
from livekit.agents import stt
from livekit.plugins import silero
from loguru import logger

from worker.engines.embeddings import SentenceEmbedder
from worker.engines.piper_tts import PiperTTS
from worker.engines.whisper_stt import SAMPLE_RATE, WhisperSTT, WhisperTranscriber, frames_to_float

UTTERANCE = "Can you book me a tour on Saturday morning?"
REPLY = (
    "Sure, I can help with that, let me check the calendar. "
    "I have Saturday at ten or Sunday at two."
)


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _utterance_16k(piper: PiperTTS, seconds: float = 3.0) -> np.ndarray:
    pcm, rate = piper.synthesize_pcm(UTTERANCE)
    audio = frames_to_float(rtc.AudioFrame(pcm.tobytes(), rate, 1, pcm.size))
    pad = max(0, int(seconds * SAMPLE_RATE) - audio.size)
    return np.concatenate(
        [np.zeros(pad // 2, np.float32), audio, np.zeros(pad - pad // 2, np.float32)]
    )


def bench_whisper(piper: PiperTTS, runs: int) -> None:
    audio = _utterance_16k(piper)
    short = WhisperTranscriber()
    full = WhisperTranscriber(full_window=True)
    short.warmup()
    model = short.model
    print(
        f"\nWhisper tiny.en, {audio.size / SAMPLE_RATE:.1f} s utterance, 1 thread, median of {runs}"
    )

    def stock() -> None:
        segments, _ = model.transcribe(
            audio,
            beam_size=1,
            without_timestamps=True,
            condition_on_previous_text=False,
            temperature=0,
            language="en",
        )
        list(segments)

    print(f"  faster-whisper transcribe() (30 s pad): {_median_ms(stock, runs):6.0f} ms")
    full_ms = _median_ms(lambda: full.transcribe(audio), runs)
    print(f"  our decoder, 30 s window              : {full_ms:6.0f} ms")
    result = short.transcribe(audio)
    print(
        f"  our decoder, {result.window_s:.0f} s window              : "
        f"{_median_ms(lambda: short.transcribe(audio), runs):6.0f} ms   -> {result.text!r}"
    )


async def _stream_once(engine: WhisperSTT, pcm: np.ndarray, rate: int) -> float:
    """Feed speech + 1.5 s silence in real time; return audible end of speech → FINAL (ms).

    The end of speech is the last sample above -36 dBFS, not the end of Piper's output
    (which carries ~0.2 s of trailing silence).
    """
    stream = engine.stream()
    step = rate // 50
    audio = np.concatenate([pcm, np.zeros(int(1.5 * rate), np.int16)])
    last_loud = int(np.nonzero(np.abs(pcm) > 500)[0][-1])
    speech_end = 0.0

    async def feed() -> None:
        nonlocal speech_end
        for i in range(0, audio.size, step):
            chunk = audio[i : i + step]
            stream.push_frame(rtc.AudioFrame(chunk.tobytes(), rate, 1, chunk.size))
            if i <= last_loud < i + step:
                speech_end = time.perf_counter() - (i + step - last_loud) / rate
            await asyncio.sleep(step / rate)
        stream.end_input()

    feeder = asyncio.create_task(feed())
    final_at = 0.0
    async for ev in stream:
        if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT and not final_at:
            final_at = time.perf_counter()
    await feeder
    await stream.aclose()
    return (final_at - speech_end) * 1000


async def bench_stream(piper: PiperTTS, runs: int) -> None:
    vad = silero.VAD.load(min_silence_duration=0.55)
    pcm, rate = piper.synthesize_pcm(UTTERANCE)
    silence = np.zeros(int(0.4 * rate), np.int16)
    pcm = np.concatenate([silence, pcm])
    print(f"\nStreaming STT, end of speech -> FINAL (Silero min_silence 0.55 s), median of {runs}")
    for label, pause in (("speculative final on ", 0.2), ("speculative final off", 0.0)):
        engine = WhisperSTT(vad=vad, speculative_pause=pause)
        values = [await _stream_once(engine, pcm, rate) for _ in range(runs)]
        each = ", ".join(f"{v:.0f}" for v in values)
        print(f"  {label}: {statistics.median(values):6.0f} ms  ({each})")


def bench_piper(piper: PiperTTS, runs: int) -> None:
    print(f"\nPiper, reply of {len(piper.clauses(REPLY))} clauses, median of {runs}")
    first = piper.clauses(REPLY)[0]
    first_ms = _median_ms(lambda: piper.render_clause(first), runs)
    print(f"  first clause {first!r}: {first_ms:6.0f} ms")
    sentence = REPLY.split(". ")[0] + "."
    sentence_ms = _median_ms(lambda: piper.render_clause(sentence), runs)
    print(f"  whole first sentence, unsplit   : {sentence_ms:6.0f} ms")
    reply_ms = _median_ms(lambda: piper.synthesize_pcm(REPLY), runs)
    print(f"  whole reply, clause by clause   : {reply_ms:6.0f} ms")


def bench_embeddings(runs: int) -> None:
    started = time.perf_counter()
    embedder = SentenceEmbedder()
    load = (time.perf_counter() - started) * 1000
    query = "I would like to book a tour of the apartment on Saturday"
    embedder.embed([query])
    per_query = _median_ms(lambda: embedder.embed([query]), runs * 4)
    print(f"\nMiniLM embeddings: load {load:.0f} ms, one query {per_query:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-stream", action="store_true", help="skip the real-time stream bench")
    args = parser.parse_args()
    logger.remove()
    logger.add(lambda m: print(m, end=""), level="WARNING")
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cpus)")
    piper = PiperTTS()
    bench_whisper(piper, args.runs)
    if not args.no_stream:
        asyncio.run(bench_stream(piper, max(3, args.runs // 2)))
    bench_piper(piper, args.runs)
    bench_embeddings(args.runs)
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
