"""Persona calls across caller voices: do callers the product has never heard get exactly the
right effects, and what does the repair dialogue cost?

Runs the persona scenarios (`scenarios/persona_tour.yaml`, `scenarios/persona_renewal.yaml`)
through the real pipeline in real time, once per voice and run, the persona's behaviours
varying by run (plain, a self-correction, hesitations, a barge-in with a backchannel) and its
facts too (the scenario's caller, then two others: `FACTS`). Prints,
per flow and voice and in total: the completion rate (the goal's effect exactly once with every
value right), wrong effects (an effect that contradicts the persona's facts: must be 0),
read-backs and corrections per call, caller turns per call, and the latency at the caller's
ear (end of the caller's speech, from the audio, to the agent's first audio).

    uv run mediabloom bench robustness [--runs N] [--first-run K] [--voices LABEL ...]
        [--flows real_estate insurance] [--out DIR]

Each call's trace, recording (call.wav) and summary.json stay under `--out` (default: a
temporary directory, removed at the end) in `<flow>-<run>/<call id>/`.

Exit status 1 when any call made a wrong effect. One call at a time: calls in parallel on a
2-core machine measure the machine, not the dialogue.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import date
from collections import defaultdict
from pathlib import Path

from worker.bench_runner import pct
from worker.logs import setup_logging
from worker.settings import load_settings
from worker.simulate.persona import Behaviours, Facts
from worker.simulate.runner import CallResult, SimulatedCall
from worker.simulate.scenario import load_scenario
from worker.simulate.voices import Voice

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {"real_estate": ROOT / "scenarios/persona_tour.yaml", "insurance": ROOT / "scenarios/persona_renewal.yaml"}
DEFAULT_VOICES = ["espeak-ng:en-us@1.0", "espeak-ng:en-gb+f3@0.85", "flite:slt@1.0", "flite:rms@1.1", "piper:joe@1.0"]
BEHAVIOURS = [Behaviours(), Behaviours(self_correction=True), Behaviours(hesitation=True),
              Behaviours(barge_in=True, backchannel=True)]
# Callers by run (run % 3): the scenario's own (Sarah, Maria), then others with other names,
# numbers, homes, times and policies from the sandbox's seed, so no one caller's facts make the
# figures. The decoder hints' examples (worker/engines/whisper_hints.py) hold none of them (a test
# keeps it so: they used to be Dana's name and Maria's policy and birth date).
FACTS: dict[str, list[Facts | None]] = {
    "real_estate": [
        None,
        Facts(name="Carlos Mendes", phone="4155550192", area="Oakland", budget=900000, listing="College Avenue",
              time="11 AM"),
        Facts(name="Grace Holloway", phone="2129837465", area="Alameda", budget=980000, listing="Park Street",
              time="4 PM"),
    ],
    "insurance": [
        None,
        Facts(policy_number="1093", date_of_birth=date(1990, 7, 4), card_number="4111111111111111",
              premium_cents=96550),
        Facts(policy_number="7310", date_of_birth=date(1978, 11, 23), card_number="5555555555554444",
              premium_cents=213075),
    ],
}



async def one_call(flow: str, voice: Voice, run: int, out: Path) -> CallResult:
    scenario = load_scenario(SCENARIOS[flow])
    assert scenario.persona is not None
    facts = FACTS[flow][run % len(FACTS[flow])] or scenario.persona.facts
    scenario.persona = scenario.persona.model_copy(
        update={"voice": voice, "behaviours": BEHAVIOURS[run % len(BEHAVIOURS)], "facts": facts})
    settings = load_settings(data_dir=out / "data")
    return await SimulatedCall(scenario, settings, out).run()


def row(label: str, results: list[CallResult]) -> str:
    n = len(results)
    done = sum(1 for r in results if r.persona and r.persona.completed and r.ok)
    wrong = sum(len(r.persona.wrong_effects) for r in results if r.persona)
    reads = sum(r.persona.read_backs for r in results if r.persona) / max(1, n)
    fixes = sum(r.persona.corrections for r in results if r.persona) / max(1, n)
    turns = sum(sum(1 for t in r.turns if t.caller is not None) for r in results) / max(1, n)
    ear = [t.latencies.eos_to_first_audio for r in results for t in r.turns
           if t.caller is not None and t.latencies.eos_to_first_audio is not None]
    return (f"{label:<34} {done:>3}/{n:<3} {100 * done / max(1, n):>5.0f}%  {wrong:>5}  {reads:>9.1f}  {fixes:>11.1f}"
            f"  {turns:>6.1f}  {pct(ear, 0.5):>7.2f}  {pct(ear, 0.95):>7.2f}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=2, help="calls per flow and voice (behaviours vary by run)")
    p.add_argument("--first-run", type=int, default=0,
                   help="first run's index: it picks the behaviours (0 plain, 1 self-correction, 2 hesitation, "
                        "3 barge-in and backchannel)")
    p.add_argument("--voices", nargs="+", default=DEFAULT_VOICES, help="engine:name@speed labels")
    p.add_argument("--flows", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    p.add_argument("--verbose", action="store_true", help="print each call's failures")
    p.add_argument("--out", type=Path, default=None, help="keep each call's trace, call.wav and summary here")
    args = p.parse_args()
    setup_logging("WARNING")
    voices = [Voice.parse(v) for v in args.voices]
    by: dict[tuple[str, str], list[CallResult]] = defaultdict(list)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mb-robustness-") as scratch:
        tmp = args.out or Path(scratch)
        for run in range(args.first_run, args.first_run + args.runs):
            for flow in args.flows:
                for voice in voices:
                    result = asyncio.run(one_call(flow, voice, run, Path(tmp) / f"{flow}-{run}"))
                    by[(flow, voice.label)].append(result)
                    if args.verbose or not result.ok:
                        print(f"  {flow} {voice.label} run {run} ({result.trace_path.parent}): "
                              f"{'ok' if result.ok else '; '.join(result.failures)}", flush=True)
    everything = [r for rs in by.values() for r in rs]
    print(f"\npersona calls: {len(everything)} ({args.runs} run(s) x {len(args.flows)} flow(s) x {len(voices)} voices), "
          f"{time.monotonic() - started:.0f} s; load average {os.getloadavg()[0]:.2f}")
    print(f"{'flow / voice':<34} {'complete':>9} {'%':>6}  {'wrong':>5}  {'readbacks':>9}  {'corrections':>11}"
          f"  {'turns':>6}  {'ear p50':>7}  {'ear p95':>7}")
    for (flow, label), results in sorted(by.items()):
        print(row(f"{flow} {label}", results))
    for flow in args.flows:
        print(row(f"{flow} (all voices)", [r for (f, _), rs in by.items() if f == flow for r in rs]))
    print(row("all", everything))
    wrong = sum(len(r.persona.wrong_effects) for r in everything if r.persona)
    raise SystemExit(1 if wrong else 0)


if __name__ == "__main__":
    main()
