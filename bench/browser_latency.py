"""Caller stops speaking in the browser → agent audio heard in the browser, p50/p95, per transport.

Runs the browser tests' tour-booking call (tests/browser/calls.py: a Piper caller on Chromium's
fake microphone) `--calls` times in local mode (`mediabloom demo`, aiortc) and/or LiveKit mode
(livekit-server + worker + `mediabloom serve`), and reads the figure the page itself measured
with WebAudio (the widget's LevelProbe: last caller sample above ~300/32768 → first agent
sample above it, 5 ms polling). Each call gives four turns. Short by design: the machine is
shared; this is a figure with its sample count, not a load test.

    uv run python bench/browser_latency.py --mode local --calls 2
    uv run python bench/browser_latency.py --mode both
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = {"local": "tests/browser/test_local_call.py::test_voice_call_books_a_tour_and_the_page_hears_the_agent",
         "livekit": "tests/livekit/test_browser_call.py::test_voice_call_over_livekit_books_a_tour"}
FIGURE = re.compile(r"caller stops → agent audio in the page: \[([0-9, ]*)\] ms")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def run(mode: str, calls: int) -> list[float]:
    samples: list[float] = []
    for n in range(calls):
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", TESTS[mode]],
                             cwd=REPO, capture_output=True, text=True, check=False)
        found = FIGURE.search(out.stdout)
        if out.returncode != 0 or not found:
            print(f"{mode} call {n + 1}: failed\n{out.stdout[-2000:]}", file=sys.stderr)
            continue
        turn_ms = [float(x) for x in found.group(1).split(",") if x.strip()]
        print(f"{mode} call {n + 1}: {turn_ms} ms")
        samples += turn_ms
    return samples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["local", "livekit", "both"], default="both")
    ap.add_argument("--calls", type=int, default=1, help="calls per mode (4 turns each)")
    args = ap.parse_args()
    modes = ["local", "livekit"] if args.mode == "both" else [args.mode]
    for mode in modes:
        samples = run(mode, args.calls)
        if not samples:
            print(f"{mode}: no measurement")
            continue
        print(f"{mode}: caller stops → agent audio heard in the browser: p50 {statistics.median(samples):.0f} ms, "
              f"p95 {percentile(samples, 0.95):.0f} ms, max {max(samples):.0f} ms (n={len(samples)} turns, {args.calls} calls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
