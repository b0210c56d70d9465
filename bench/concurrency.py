"""`mediabloom bench concurrency N`: N simulated calls at once in one worker process.

Runs N copies of a scenario concurrently on one event loop with the offline engines (shared, as
a worker shares them between its calls), then 1 call alone for the baseline, and prints p95 of
the turn latency at the caller's ear (`worker.transport.levels`) for both, their ratio (the
issue's bar: within 1.2x of one call), and the process CPU per minute of call. The calls start
together, so their turns tend to fall in lockstep: the worst case for a shared CPU. The load
average is printed beside the figures (the machine is shared).

    uv run mediabloom bench concurrency N [--scenario scenarios/tour_booking.yaml]

Not measured here yet: the same with instant fake engines (runtime overhead alone).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from worker.bench_runner import pct
from worker.logs import setup_logging
from worker.settings import load_settings
from worker.simulate.runner import CallResult, SimulatedCall
from worker.simulate.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]



def ear(results: list[CallResult]) -> list[float]:
    return [t.latencies.eos_to_first_audio for r in results for t in r.turns
            if t.caller is not None and not t.reply.interrupted and t.latencies.eos_to_first_audio is not None
            and (t.latencies.eos_source, t.latencies.first_audio_source) == ("audio", "audio")]


async def calls(n: int, scenario_path: Path, out: Path) -> tuple[list[CallResult], float, float]:
    settings = load_settings()
    scenario = load_scenario(scenario_path)
    cpu, wall = time.process_time(), time.monotonic()
    results = await asyncio.gather(*(SimulatedCall(scenario, settings, out).run() for _ in range(n)))
    return list(results), time.process_time() - cpu, time.monotonic() - wall


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("n", type=int)
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "tour_booking.yaml"))
    args = p.parse_args()
    setup_logging("WARNING")
    out = Path(tempfile.mkdtemp(prefix="mb-bench-conc-"))
    print(f"load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = {}
    for n in (1, args.n):
        results, cpu, wall = asyncio.run(calls(n, Path(args.scenario), out))
        call_minutes = sum(r.duration for r in results) / 60
        e = ear(results)
        failures = sum(len(r.failures) for r in results)
        rows[n] = pct(e, .95)
        print(f"{n:>3} call(s): turns {len(e):>3}  at the ear p50 {pct(e, .5) * 1000:5.0f} ms  "
              f"p95 {pct(e, .95) * 1000:5.0f} ms  CPU {cpu / call_minutes:5.1f} s per call-minute  "
              f"wall {wall:5.1f} s  expectation failures {failures}  "
              f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.n != 1:
        print(f"p95 ratio {args.n} calls / 1 call: {rows[args.n] / rows[1]:.2f} (bar: ≤ 1.2)")


if __name__ == "__main__":
    main()
