"""`mediabloom bench first-audio`: how soon the agent's voice starts a long reply, and whether it
stalls mid-reply, before and after the short-first-clause change, in the same run.

Each reply goes through the session's path (livekit-agents' `StreamAdapter` with the blingfire
sentence tokenizer that `Agent.default.tts_node` builds around a non-streaming TTS, then
`PiperTTS`), the whole text pushed at once as the deterministic planner sends it. Two set-ups
take turns on every reply, so a change in the machine's load falls on both:

* before: the first clause kept whole (`first_clause_words=0`), ONNX Runtime's default 2 threads,
  the written form read by espeak-ng ("$1,284.00" as "dollar one thousand ... point zero zero");
* after: the defaults (a first clause over 6 words cut at its first pause, 1 thread, the spoken
  form of `worker.engines.spoken_form`).

Printed per reply and set-up: the median time from the text to the first audio frame, and the
longest stall (a frame arriving after the audio before it would have finished playing, played
in real time from the first frame). The load average is printed beside the figures.

    uv run mediabloom bench first-audio [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable

from livekit.agents import tokenize, tts

from worker.bench_runner import pct
from worker.engines import piper_tts
from worker.engines.piper_tts import PiperTTS
from worker.logs import setup_logging

REPLIES = {
    "card confirmation": "To confirm, I'll charge $1,284.00 to the card ending in 6467. Shall I go ahead?",
    "charge receipt": "Done. I've charged $1,284.00 to the card ending in 6467. Your receipt number is CH-48213.",
    "quote": "Thanks, Maria, you're verified. Your renewal premium is $1,284.00 for the next year.",
    "booking confirmation": "Shall I book Friday, November 27 at 2 PM for Dana Lee?",
    "booked": "All set. You're booked to see 412 Grand Ave on Friday, November 27 at 2 PM. "
              "Is there anything else I can help you with?",
    "listings": "I found 3: 1420 Lakeshore Ave for $489,000, 412 Grand Ave for $725,000 and "
                "5830 College Ave for $1,150,000.",
    "greeting": "Hello, this is Sam from Bloom Mutual. I can help you renew your policy. What's your policy number?",
}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def speak(engine: PiperTTS, text: str) -> tuple[float, float]:
    """(text → first frame, longest stall) in seconds, through the session's adapter."""
    adapter = tts.StreamAdapter(tts=engine, sentence_tokenizer=tokenize.blingfire.SentenceTokenizer(retain_format=True))
    started = time.perf_counter()
    first: float | None = None
    playout_end = stall = 0.0
    async with adapter.stream() as stream:
        stream.push_text(text)
        stream.end_input()
        async for ev in stream:
            now = time.perf_counter()
            if first is None:
                first = now
                playout_end = now
            stall = max(stall, now - playout_end)
            playout_end = max(playout_end, now) + ev.frame.duration
    await adapter.aclose()
    assert first is not None
    return first - started, stall


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    setup_logging("WARNING")
    written: Callable[[str], str] = lambda text: text  # noqa: E731
    spoken = piper_tts.spoken_form
    setups = {
        "before": (PiperTTS(first_clause_words=0, threads=2), written),
        "after": (PiperTTS(), spoken),
    }
    for engine, _ in setups.values():
        engine.prewarm()
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {(r, s): [] for r in REPLIES for s in setups}
    print(f"{args.runs} run(s) of {len(REPLIES)} replies; load average at start {load()}", flush=True)
    for _ in range(args.runs):
        for name, text in REPLIES.items():
            for setup, (engine, form) in setups.items():
                piper_tts.spoken_form = form  # the before set-up reads the written form
                try:
                    rows[(name, setup)].append(asyncio.run(speak(engine, text)))
                finally:
                    piper_tts.spoken_form = spoken
    print(f"{'reply':22} {'first audio p50 (ms) before → after':>36} {'longest stall (ms) before → after':>36}")
    for name in REPLIES:
        b, a = rows[(name, "before")], rows[(name, "after")]
        print(f"{name:22} {pct([x[0] for x in b], .5) * 1000:>24.0f} → {pct([x[0] for x in a], .5) * 1000:>6.0f}"
              f"   {max(x[1] for x in b) * 1000:>24.0f} → {max(x[1] for x in a) * 1000:>6.0f}")
    every = {s: [x[0] for r in REPLIES for x in rows[(r, s)]] for s in setups}
    print(f"all replies, first audio p50/p95 (ms): before {pct(every['before'], .5) * 1000:.0f}/"
          f"{pct(every['before'], .95) * 1000:.0f}, after {pct(every['after'], .5) * 1000:.0f}/"
          f"{pct(every['after'], .95) * 1000:.0f}; load average at end {load()}")


if __name__ == "__main__":
    main()
