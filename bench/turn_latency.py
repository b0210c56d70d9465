"""Per-turn latency of simulated calls with the offline engines: end of speech → first agent audio.

Runs the shipped scenarios through the real pipeline (Silero VAD, Whisper, planner, Piper) in
real time and prints p50/p95 of the turn at the caller's ear with its breakdown: from the
caller's last audible sample to the first audible agent sample the caller heard (levels in
`worker.transport.levels`), not the VAD or the first frame; the framework's own figure is
printed beside it. The premature
cut-off rate (caller lines the VAD split into more than one turn) is printed beside it, since
a shorter silence threshold buys latency with cut-offs.

    uv run python bench/turn_latency.py [--runs N] [scenario.yaml ...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from worker.logs import setup_logging
from worker.settings import load_settings
from worker.simulate.runner import SimulatedCall
from worker.simulate.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("scenarios", nargs="*", default=[str(ROOT / "scenarios/tour_booking.yaml"),
                                                     str(ROOT / "scenarios/insurance_renewal.yaml")])
    p.add_argument("--runs", type=int, default=1)
    args = p.parse_args()
    setup_logging("WARNING")
    settings = load_settings()
    rows: dict[str, list[float]] = {k: [] for k in ("e2e", "framework", "stt", "eot", "plan", "tts")}
    lines = turns = failures = 0
    out = Path(tempfile.mkdtemp(prefix="mb-bench-"))
    for _ in range(args.runs):
        for path in args.scenarios:
            scenario = load_scenario(Path(path))
            result = asyncio.run(SimulatedCall(scenario, settings, out).run())
            failures += len(result.failures)
            lines += sum(1 for ln in scenario.caller if ln.silence is None)
            for t in result.turns:
                if t.caller is None:
                    continue
                turns += 1
                lat = t.latencies
                at_ear = (lat.eos_source, lat.first_audio_source) == ("audio", "audio")
                if at_ear and lat.eos_to_first_audio is not None and not t.reply.interrupted:
                    rows["e2e"].append(lat.eos_to_first_audio)
                for key, value in (("framework", lat.eos_to_first_frame_framework),
                                   ("stt", lat.eos_to_final_transcript), ("eot", lat.end_of_turn_delay),
                                   ("plan", lat.planner_ttft), ("tts", lat.tts_first_audio)):
                    if value is not None:
                        rows[key].append(value)
    print(f"scenarios: {len(args.scenarios)} x {args.runs} run(s); caller lines {lines}, turns {turns}, "
          f"expectation failures {failures}")
    print(f"vad min silence {settings.vad_min_silence:.2f} s; premature cut-offs: {max(0, turns - lines)} "
          f"of {lines} lines ({100 * max(0, turns - lines) / max(1, lines):.0f}%)")
    print(f"{'figure (ms)':44} {'n':>3} {'p50':>7} {'p95':>7}")
    names = {"e2e": "turn at the ear (last → first audible sample)",
             "framework": "  VAD end of speech → first frame (framework)",
             "stt": "  VAD end of speech → final transcript",
             "eot": "  VAD end of speech → turn committed", "plan": "  planner first token",
             "tts": "  synthesis first audio"}
    for key, label in names.items():
        v = rows[key]
        print(f"{label:44} {len(v):>3} {pct(v, .5) * 1000:>7.0f} {pct(v, .95) * 1000:>7.0f}")
    if rows["e2e"]:
        print(f"median e2e {statistics.median(rows['e2e']) * 1000:.0f} ms; target p50 ≤ 1000 ms")


if __name__ == "__main__":
    main()
