"""`mediabloom bench concurrency N`: up to N simulated calls at once in one worker process.

For each engine set, N = 1, 2, ... up to N calls of a scenario run concurrently on one event loop,
sharing the engines as a worker's calls do, and the bench prints p95 of the turn latency at the
caller's ear (`worker.transport.levels`), its ratio to one call (the issue's bar: within 1.2x),
and the process CPU seconds per minute of call. It stops at the first N over the bar and names
the largest N within it. The calls start together, so their turns tend to fall in lockstep:
the worst case for a shared CPU.

Engine sets (`--engines`):
- `offline`: Whisper, the deterministic planner, Piper (the shipped defaults);
- `instant`: `worker.engines.instant` (an STT told the caller's words, a tone TTS, both at once;
  the same deterministic planner and Silero VAD), so what is left is the runtime's own cost.
  The same caller WAVs also go through a bare livekit-agents `AgentSession` on the same
  engines (`bench/peer_livekit.py`, with its fixed-reply planner) at the same N, and the two CPU
  figures give the runtime's overhead over the bare session (target: ≤ 5%). Both use the VAD's
  silence to end a turn. Part of that overhead is a choice, not plumbing: the runtime wraps its
  output in livekit-agents' `TranscriptSynchronizer` (the chat keeps what the caller heard),
  whose speaking-rate estimator (an STFT per chunk of agent audio) a profile of one call put at
  ~0.9 s of event-loop CPU in 79 s; the bare session here has none (over a room, RoomIO adds
  one to both).

CPU is `time.process_time()` (every thread of the process: the event loop, the VAD, Whisper,
Piper, sqlite) over the calls, divided by the summed call durations; the caller lines are voiced
once before the clock starts (`peer_lines.voice_scenario`, the WAVs `bench turns` uses too), so
the figure is the worker's, not the simulated caller's voice.
The machine is shared: the load average is printed beside every row, and the ratios measured
in the same run are the figures to trust.

    uv run mediabloom bench concurrency 4 [--engines offline|instant|both] [--runs R] [--scenario PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from worker.bench_runner import pct
from worker.call.engine_catalog import build_engines
from worker.engines.instant import caller_words
from worker.logs import setup_logging
from worker.settings import Settings, load_settings
from worker.simulate.runner import CallResult, SimulatedCall, read_wav
from worker.simulate.scenario import CallerLine, Scenario, load_scenario
from worker.transport import CallerUtterance

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # the peer modules beside this script

from peer_lines import PeerPlan, voice_scenario  # noqa: E402

BAR = 1.2
"""p95 at N calls may be at most this many times p95 at one call (the issue's bar)."""

Lines = dict[int, tuple[np.ndarray, int, str]]
"""Scenario line number → the line's audio, its rate, and the words said in it."""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def ear(results: list[CallResult]) -> list[float]:
    """Turn latencies measured at the ear on both ends (answered, not interrupted)."""
    return [t.latencies.eos_to_first_audio for r in results for t in r.turns
            if t.caller is not None and not t.reply.interrupted and t.latencies.eos_to_first_audio is not None
            and (t.latencies.eos_source, t.latencies.first_audio_source) == ("audio", "audio")]


@dataclass
class Run:
    """One measured batch of `n` concurrent calls (the runtime's or the bare session's)."""

    n: int
    ear: list[float]
    cpu_s: float
    call_s: float
    wall_s: float
    failures: int = 0
    load: str = field(default_factory=load)

    @property
    def p50(self) -> float:
        return pct(self.ear, .5)

    @property
    def p95(self) -> float:
        return pct(self.ear, .95)

    @property
    def cpu_per_call_minute(self) -> float:
        """Process CPU seconds per minute of call (NaN when no call time was measured)."""
        return self.cpu_s / (self.call_s / 60) if self.call_s > 0 else float("nan")


def merge(runs: list[Run]) -> Run:
    """Several batches of the same N as one: their turns pooled, their CPU and call time summed."""
    return Run(n=runs[0].n, ear=[v for r in runs for v in r.ear], cpu_s=sum(r.cpu_s for r in runs),
               call_s=sum(r.call_s for r in runs), wall_s=sum(r.wall_s for r in runs),
               failures=sum(r.failures for r in runs), load=runs[-1].load)


def largest_within(runs: list[Run], bar: float = BAR) -> int | None:
    """The largest N whose p95 is within `bar` times the p95 of N = 1 (None without N = 1)."""
    base = next((r for r in runs if r.n == 1), None)
    if base is None or not base.p95 > 0:
        return None
    ok = [r.n for r in runs if r.p95 <= bar * base.p95]
    return max(ok) if ok else None


def sweep_ns(top: int) -> list[int]:
    """N = 1, 2, ... top (1 is always measured: it is the baseline)."""
    return list(range(1, max(1, top) + 1))


def row(engines: str, run: Run, base: Run | None, peer: Run | None) -> str:
    ratio = run.p95 / base.p95 if base is not None and base.p95 > 0 else float("nan")
    cells = (f"{engines:8} {run.n:>2} {len(run.ear):>5} {run.p50 * 1000:>6.0f} {run.p95 * 1000:>6.0f} {ratio:>6.2f}"
             f" {run.cpu_per_call_minute:>8.2f}")
    if peer is not None:
        overhead = run.cpu_per_call_minute / peer.cpu_per_call_minute - 1
        cells += f" {peer.p95 * 1000:>7.0f} {peer.cpu_per_call_minute:>8.2f} {overhead * 100:>+8.1f}%"
    else:
        cells += f" {'-':>7} {'-':>8} {'-':>9}"
    return cells + f" {run.failures:>4} {run.wall_s:>6.1f}  {run.load}"


HEADER = (f"{'engines':8} {'N':>2} {'turns':>5} {'p50':>6} {'p95':>6} {'/N=1':>6} {'CPU/min':>8}"
          f" {'bare95':>7} {'bareCPU':>8} {'overhead':>9} {'fail':>4} {'wall':>6}  load 1/5/15")
LEGEND = ("p50/p95: turn at the caller's ear, ms; /N=1: p95 ratio to one call (bar ≤ 1.2); CPU/min: process CPU s "
          "per call-minute; bare95/bareCPU: the same lines through a bare livekit-agents AgentSession; overhead: "
          "runtime CPU over the bare session's (target ≤ 5%); fail: expectation failures; wall: s")


# ------------------------------------------------------------------ the calls
def engine_settings(base: Settings, engines: str) -> Settings:
    """The settings for an engine set (never a cloud engine: the bench is offline)."""
    if engines == "instant":
        return base.model_copy(update={"stt": "instant", "llm": "offline", "tts": "instant", "turn_detection": "vad"})
    return base.model_copy(update={"stt": "offline", "llm": "offline", "tts": "offline"})


class BenchCall(SimulatedCall):
    """A simulated call of the voiced scenario (`wav:` lines, read once before the clock starts)
    that tells the instant STT what its caller says (harmless with other engines: nobody asks)."""

    def __init__(self, scenario: Scenario, settings: Settings, out: Path, lines: Lines) -> None:
        super().__init__(scenario, settings, out)
        self.lines = lines
        self._words: dict[int, str] = {}  # id of a line's audio → its words
        play = self.mic.say

        async def say(pcm: np.ndarray, rate: int) -> CallerUtterance:
            # told as the line starts playing: the runner voices the next line while the agent
            # still answers the last one, so telling it when voiced would run two lines together
            caller_words().say(self._words.get(id(pcm), ""))
            return await play(pcm, rate)

        self.mic.say = say  # type: ignore[method-assign]

    async def _voice(self, line: CallerLine) -> tuple[np.ndarray, int]:
        pcm, rate, words = self.lines[line.line]
        self._words[id(pcm)] = words
        return pcm, rate


def voice_lines(scenario: Scenario, out: Path) -> tuple[Scenario, PeerPlan, Lines]:
    """Every caller line voiced once (`peer_lines.voice_scenario`: the same WAVs for the runtime
    and the bare session), read back into memory with the words said in it."""
    voiced, plan = voice_scenario(scenario, out / "lines")
    lines: Lines = {}
    for said, line in zip(scenario.caller, voiced.caller):
        if line.wav is not None:
            pcm, rate = read_wav(line.wav)
            lines[line.line] = (pcm, rate, said.say or "")
    return voiced, plan, lines


async def _one(scenario: Scenario, settings: Settings, out: Path, lines: Lines) -> CallResult:
    caller_words()  # this call's words, in the context its session's tasks will copy
    return await BenchCall(scenario, settings, out, lines).run()


async def runtime_calls(n: int, scenario: Scenario, settings: Settings, out: Path, lines: Lines) -> Run:
    cpu, wall = time.process_time(), time.monotonic()
    results = await asyncio.gather(*(_one(scenario, settings, out, lines) for _ in range(n)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return Run(n=n, ear=ear(list(results)), cpu_s=cpu, call_s=sum(r.duration for r in results), wall_s=wall,
               failures=sum(len(r.failures) for r in results))


async def bare_calls(n: int, plan: PeerPlan, settings: Settings) -> Run:
    """The same WAVs through n bare livekit-agents sessions at once (`peer_livekit`, its own code).
    Nobody tells its instant STT the words, so it hears "okay": the bare session's fixed-reply
    planner answers any words alike."""
    from peer_livekit import bare_livekit_call

    async def one() -> tuple[list[float], float]:
        started = time.monotonic()
        results = await bare_livekit_call(plan, settings)
        return [r.ear for r in results if r.ear is not None], time.monotonic() - started

    cpu, wall = time.process_time(), time.monotonic()
    got = await asyncio.gather(*(one() for _ in range(n)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    return Run(n=n, ear=[v for values, _ in got for v in values], cpu_s=cpu, call_s=sum(s for _, s in got),
               wall_s=wall)


def sweep(engines: str, top: int, scenario: Scenario, base_settings: Settings, out: Path, peer: bool,
          repeats: int = 1) -> list[Run]:
    settings = engine_settings(base_settings, engines)
    build_engines(settings)  # loaded and warmed before any clock starts
    voiced, plan, lines = voice_lines(scenario, out / engines)
    runs: list[Run] = []
    for n in sweep_ns(top):
        batches, bares = [], []
        for _ in range(max(1, repeats)):  # the runtime and the bare session take turns
            batches.append(asyncio.run(runtime_calls(n, voiced, settings, out, lines)))
            if peer and engines == "instant":
                bares.append(asyncio.run(bare_calls(n, plan, settings)))
        run, bare = merge(batches), merge(bares) if bares else None
        runs.append(run)
        print(row(engines, run, runs[0], bare), flush=True)
        if n > 1 and run.p95 > BAR * runs[0].p95:
            break
    best = largest_within(runs)
    print(f"{engines}: largest N with p95 within {BAR}x of one call: {best if best is not None else '-'}"
          f" (load {load()})", flush=True)
    return runs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("n", type=int, help="the largest number of concurrent calls to try")
    p.add_argument("--engines", choices=("offline", "instant", "both"), default="both")
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "tour_booking.yaml"))
    p.add_argument("--no-peer", action="store_true", help="instant engines: skip the bare AgentSession")
    p.add_argument("--runs", type=int, default=1, help="batches per N, pooled (more turns for p95)")
    args = p.parse_args()
    setup_logging("WARNING")
    out = Path(tempfile.mkdtemp(prefix="mb-bench-conc-"))
    scenario = load_scenario(Path(args.scenario))
    print(f"scenario {scenario.name}, up to {args.n} concurrent calls; load average at start {load()}")
    print(LEGEND)
    print(HEADER, flush=True)
    sets = ("offline", "instant") if args.engines == "both" else (args.engines,)
    for engines in sets:
        sweep(engines, args.n, scenario, load_settings(), out, peer=not args.no_peer, repeats=args.runs)


if __name__ == "__main__":
    main()
