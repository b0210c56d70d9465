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

Every caller line is voiced once (`bench/peer_lines.py`) and played from the same 16 kHz WAV in
every mode and run, so all figures come from the same samples.

`--peers` also plays those same WAVs, in the same run, through (a) a bare livekit-agents
AgentSession with the same engines and its default turn handling (`bench/peer_livekit.py`) and
(b) Pipecat 1.14 with the same Silero VAD, Whisper tiny.en and Piper voice files and its default
turn handling (Silero VAD stop 0.2 s + Smart Turn v3), installed into its own virtual environment
on first use and run as a subprocess (`bench/peer_pipecat.py`, `bench/peer_pipecat_pipeline.py`).
Neither peer has the runtime's planner: both answer every committed turn at once with the same
fixed question (`peer_lines.FIXED_REPLY`); the runtime's deterministic planner's first token also
takes milliseconds, so planning costs about nothing on every side. Each peer is timed at the ear
exactly as the runtime is (last audible caller sample → first audible agent sample after it, the
blocks of `worker.transport.levels`), and the summary prints runtime/peer ratios of p50 and p95
(< 1: the runtime answers sooner). A line counts as cut off for a peer when the peer committed a
caller turn before the line's last audible sample. The systems take turns scenario by scenario
(runtime modes, bare livekit, Pipecat; then the next scenario), so a change in the machine's load
during the bench falls on all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
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
sys.path.insert(0, str(ROOT / "bench"))  # the peer modules beside this script

from peer_lines import PeerPlan, voice_scenario  # noqa: E402
from peer_result import PeerRun, ratio_lines, summary_line  # noqa: E402
from worker.simulate.scenario import Scenario  # noqa: E402
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


def run_mode(mode: str, scenarios: list[Scenario], runs: int, out: Path) -> dict[str, object]:
    settings = load_settings().model_copy(update={"turn_detection": mode})
    rows: dict[str, list[float]] = {k: [] for k in STAGES}
    lines = cut = failures = 0
    for _ in range(runs):
        for scenario in scenarios:
            result = asyncio.run(SimulatedCall(scenario, settings, out).run())
            failures += len(result.failures)
            spoken = [t for t in result.turns if t.caller is not None]
            for utt in result.utterances:
                lines += 1
                cut += len(turns_of_line(utt, spoken)) > 1
            for t in spoken:
                collect(t, rows)
    return {"rows": rows, "lines": lines, "cut": cut, "failures": failures, "settings": settings}


def run_peers(plans: list[PeerPlan], out: Path, tag: str) -> list[PeerRun]:
    """The bare livekit-agents session, then Pipecat, each once through every plan."""
    from peer_livekit import bare_livekit
    from peer_pipecat import run_pipecat

    settings = load_settings()
    try:
        lk = PeerRun(name="bare-livekit", lines=bare_livekit(plans, settings),
                     note="livekit-agents AgentSession defaults (no turn_handling, aec warm-up, preemptive generation)")
    except Exception as exc:  # a peer that breaks must not hide the runtime's figures
        lk = PeerRun(name="bare-livekit", error=f"{type(exc).__name__}: {exc}")
    print(f"  {tag}: bare livekit-agents done; load average {load()}", flush=True)
    pc = run_pipecat(plans, settings, out, tag)
    print(f"  {tag}: {pc.name} done; load average {load()}", flush=True)
    return [lk, pc]


def merge(into: dict[str, object] | None, r: dict[str, object]) -> dict[str, object]:
    """Add one run's figures of a mode to the ones before."""
    if into is None:
        return r
    for key, values in r["rows"].items():  # type: ignore[attr-defined]
        into["rows"][key] += values  # type: ignore[index]
    for key in ("lines", "cut", "failures"):
        into[key] += r[key]  # type: ignore[operator]
    return into


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("scenarios", nargs="*", default=[str(ROOT / "scenarios" / s) for s in DEFAULT_SCENARIOS])
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--modes", default="rule,vad,livekit", help="comma-separated turn-detection modes")
    p.add_argument("--peers", action="store_true",
                   help="also run the bare livekit-agents and the Pipecat peers on the same caller WAVs")
    args = p.parse_args()
    setup_logging("WARNING")
    out = Path(tempfile.mkdtemp(prefix="mb-bench-"))
    voiced = [voice_scenario(load_scenario(Path(s)), out / "lines") for s in args.scenarios]
    scenarios, plans = [v[0] for v in voiced], [v[1] for v in voiced]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    print(f"scenarios: {', '.join(s.name for s in scenarios)} x {args.runs} run(s), caller WAVs in {out / 'lines'}; "
          f"load average at start {load()}")
    results: dict[str, dict[str, object]] = {}
    peers: dict[str, PeerRun] = {}
    broken: dict[str, str] = {}  # mode → why it failed
    for run in range(args.runs):  # the systems take turns on each scenario, so load drifts hit them alike
        for scenario, plan in zip(scenarios, plans, strict=True):
            tag = f"run{run + 1}-{scenario.name}"
            for mode in [m for m in modes if m not in broken]:
                try:
                    results[mode] = merge(results.get(mode), run_mode(mode, [scenario], 1, out))
                except Exception as exc:  # one broken mode must not lose the other figures
                    broken[mode] = f"{type(exc).__name__}: {exc}"
                    print(f"  {tag}: runtime {mode} FAILED ({broken[mode]}); left out from now on", flush=True)
                    continue
                print(f"  {tag}: runtime {mode} done; load average {load()}", flush=True)
            for peer in run_peers([plan], out, tag) if args.peers else []:
                seen = peers.setdefault(peer.name, PeerRun(name=peer.name, error=peer.error, note=peer.note))
                seen.lines += peer.lines
                seen.error = seen.error or peer.error
    for mode, why in broken.items():
        print(f"\n== turn detection {mode}: FAILED, figures only from runs before the failure: {why}")
    for mode, r in results.items():
        s = r["settings"]
        print(f"\n== turn detection {mode} (session VAD silence {s.vad_silence:.2f} s, "  # type: ignore[attr-defined]
              f"long wait {s.endpointing_max_delay:.2f} s)")  # type: ignore[attr-defined]
        print(f"premature cut-offs: {r['cut']} of {r['lines']} caller lines "
              f"({100 * r['cut'] / max(1, r['lines']):.1f}%); expectation failures {r['failures']}")  # type: ignore[operator]
        print(f"{'figure (ms)':58} {'n':>4} {'p50':>7} {'p95':>7}")
        for key, label in STAGES.items():
            v = r["rows"][key]  # type: ignore[index]
            print(f"{label:58} {len(v):>4} {pct(v, .5) * 1000:>7.0f} {pct(v, .95) * 1000:>7.0f}")
    if peers:
        (out / "peers.json").write_text(json.dumps({n: r.model_dump(mode="json") for n, r in peers.items()}, indent=1))
    for peer in peers.values():
        print(f"\n== peer {peer.name}: " + (f"not measured: {peer.error}" if peer.error else
              f"{len(peer.lines)} caller lines, {peer.unanswered} unanswered (per line: {out / 'peers.json'}); {peer.note}"))
    print(f"\nsummary at the ear, ms (targets: p50 ≤ 500, p95 ≤ 800, ≤ 2% premature cut-offs); load {load()}")
    for mode, r in results.items():
        print(summary_line(f"runtime {mode}", r["rows"]["ear"], r["cut"], r["lines"]))  # type: ignore[index,arg-type]
    for peer in peers.values():
        print(summary_line(peer.name, peer.ear, peer.cut, len(peer.lines)))
    if peers:
        print("ratios runtime / peer (< 1: the runtime answers sooner):")
        print("\n".join(ratio_lines({m: r["rows"]["ear"] for m, r in results.items()},  # type: ignore[index]
                                    list(peers.values()))))


if __name__ == "__main__":
    main()
