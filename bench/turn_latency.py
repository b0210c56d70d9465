"""`mediabloom bench turns`: per-turn latency at the caller's ear, and premature cut-offs, per way of
ending a turn.

Runs scenarios through the real pipeline (Silero VAD, Whisper, the deterministic planner, Piper)
in real time, several times, once per turn-detection mode (`MB_TURN_DETECTION`: "rule" = the
reading rule in Whisper's stream, "livekit" = livekit-agents' local v1-mini turn detector,
"vad" = the VAD's silence alone), in the same process and run, and prints for each mode p50/p95
of the whole turn at the ear (the caller's last audible sample → the first audible agent sample
the caller heard, `worker.transport.levels`) and of every stage, with the premature cut-off rate
beside it: caller lines that became more than one caller turn (a turn ended at a pause inside
the line). The machine's load average is printed with the figures: the figures mean little
without it on a shared machine.

    uv run mediabloom bench turns [--runs N] [--modes rule,livekit,vad] [--peers] [scenario.yaml ...]

`--peers` also plays the same caller lines through a bare livekit-agents AgentSession with the same
engines and its default turn handling (`bench/peer_livekit.py`) and prints the ratio. Not measured
here yet: Pipecat (the issue's second peer).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from worker.bench_runner import pct
from worker.logs import setup_logging
from worker.settings import load_settings
from worker.simulate.expectations import turns_of_line
from worker.simulate.runner import SimulatedCall
from worker.simulate.scenario import load_scenario
from worker.trace.records import TurnTrace

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIOS = ("tour_booking.yaml", "insurance_renewal.yaml", "long_sentences.yaml")
STAGES = {
    "ear": "turn at the ear (last → first audible sample)",
    "detect": "  caller's last audible sample → end of speech (STT/VAD)",
    "stt": "  end of speech → final transcript",
    "eot": "  end of speech → turn committed",
    "plan": "  planner first token",
    "tts": "  synthesis first audio",
    "framework": "  framework: VAD end of speech → first frame",
}



def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def collect(turn: TurnTrace, rows: dict[str, list[float]]) -> None:
    lat, caller = turn.latencies, turn.caller
    if caller is None or turn.reply.interrupted:
        return
    if (lat.eos_source, lat.first_audio_source) == ("audio", "audio") and lat.eos_to_first_audio is not None:
        rows["ear"].append(lat.eos_to_first_audio)
    if caller.true_speech_ended_at is not None and caller.speech_ended_at is not None:
        rows["detect"].append(caller.speech_ended_at - caller.true_speech_ended_at)
    for key, value in (("stt", lat.eos_to_final_transcript), ("eot", lat.end_of_turn_delay),
                       ("plan", lat.planner_ttft), ("tts", lat.tts_first_audio),
                       ("framework", lat.eos_to_first_frame_framework)):
        if value is not None:
            rows[key].append(value)


def run_mode(mode: str, paths: list[Path], runs: int, out: Path) -> dict[str, object]:
    settings = load_settings().model_copy(update={"turn_detection": mode})
    rows: dict[str, list[float]] = {k: [] for k in STAGES}
    lines = cut = failures = 0
    for _ in range(runs):
        for path in paths:
            scenario = load_scenario(path)
            result = asyncio.run(SimulatedCall(scenario, settings, out).run())
            failures += len(result.failures)
            spoken = [t for t in result.turns if t.caller is not None]
            for utt in result.utterances:
                lines += 1
                cut += len(turns_of_line(utt, spoken)) > 1
            for t in spoken:
                collect(t, rows)
    return {"rows": rows, "lines": lines, "cut": cut, "failures": failures, "settings": settings}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("scenarios", nargs="*", default=[str(ROOT / "scenarios" / s) for s in DEFAULT_SCENARIOS])
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--modes", default="rule,vad,livekit", help="comma-separated turn-detection modes")
    p.add_argument("--peers", action="store_true", help="also run the bare livekit-agents peer")
    args = p.parse_args()
    setup_logging("WARNING")
    paths = [Path(s) for s in args.scenarios]
    out = Path(tempfile.mkdtemp(prefix="mb-bench-"))
    print(f"scenarios: {', '.join(p.stem for p in paths)} x {args.runs} run(s); load average at start {load()}")
    results = {}
    for mode in args.modes.split(","):
        results[mode] = r = run_mode(mode.strip(), paths, args.runs, out)
        s = r["settings"]
        print(f"\n== turn detection {mode} (session VAD silence {s.vad_silence:.2f} s, "  # type: ignore[attr-defined]
              f"long wait {s.endpointing_max_delay:.2f} s); load average {load()}")  # type: ignore[attr-defined]
        print(f"premature cut-offs: {r['cut']} of {r['lines']} caller lines "
              f"({100 * r['cut'] / max(1, r['lines']):.1f}%); expectation failures {r['failures']}")
        print(f"{'figure (ms)':58} {'n':>4} {'p50':>7} {'p95':>7}")
        for key, label in STAGES.items():
            v = r["rows"][key]  # type: ignore[index]
            print(f"{label:58} {len(v):>4} {pct(v, .5) * 1000:>7.0f} {pct(v, .95) * 1000:>7.0f}")
    if args.peers:
        import runpy

        peer = runpy.run_path(str(ROOT / "bench" / "peer_livekit.py"))
        values = peer["bare_livekit"]([load_scenario(p) for p in paths], load_settings(), args.runs)
        results["bare-lk"] = {"rows": {"ear": values}, "cut": 0, "lines": 0}
        print(f"\n== bare livekit-agents AgentSession, default turn handling; load average {load()}")
        print(f"turn at the ear: n {len(values)}  p50 {pct(values, .5) * 1000:.0f}  p95 {pct(values, .95) * 1000:.0f} ms "
              "(cut-offs not counted for the peer)")
    print(f"\nsummary (targets: at the ear p50 ≤ 500 ms, p95 ≤ 800 ms, ≤ 2% premature cut-offs); load {load()}")
    base = results.get("bare-lk") or results.get("vad")
    base_name = "bare-lk" if "bare-lk" in results else "vad"
    for mode, r in results.items():
        ear = r["rows"]["ear"]  # type: ignore[index]
        ratio = ""
        if base is not None and mode != base_name and base["rows"]["ear"]:  # type: ignore[index]
            ratio = (f"  ratio to {base_name}: p50 {pct(ear, .5) / pct(base['rows']['ear'], .5):.2f}"  # type: ignore[index]
                     f" p95 {pct(ear, .95) / pct(base['rows']['ear'], .95):.2f}")  # type: ignore[index]
        print(f"  {mode:8} p50 {pct(ear, .5) * 1000:5.0f}  p95 {pct(ear, .95) * 1000:5.0f}  "
              f"cut-offs {100 * r['cut'] / max(1, r['lines']):4.1f}%{ratio}")  # type: ignore[operator]


if __name__ == "__main__":
    main()
