"""Barge-in at the caller's ear: how fast the agent goes quiet, and whether false ones resume.

Runs the barge-in scenarios through the real pipeline (Silero VAD, Whisper, planner, Piper) in
real time and reads every figure off the recording (`call.wav`, caller left, agent right), the
way a listener would time it, with the one level test of `worker.transport.levels`:

* onset → quiet: for each caller line said over the agent (`barge_in:`; audible within the last
  300 ms), from the caller's first audible 10 ms block to the start of the first run of
  `QUIET_RUN_S` inaudible agent blocks (a pause between two words of the agent is not "quiet");
  beside it, onset → the instant the output paused or cut the reply (its own record). Words
  (`say:`) and sounds (`sound:` cough, breath) are reported apart: the 150 ms goal is for speech
  onsets; a sound is no speech, the VAD may take it for speech late or never, and what matters
  for it is that the reply goes on;
* false interruptions (lines whose scenario expects `turn: false`: backchannels, coughs): how
  many paused and resumed, and the resume delay from the caller's last audible block to the
  agent's next audible block; a sound the agent did not even pause for is counted apart;
* echo false triggers: times the agent's audio paused or was cut while no caller line was
  playing (±1 s): with an echoing line that is the agent interrupting itself.

Each scenario gets one row (its expectations pass or fail, onset → quiet p50/p95, false
interruptions resumed of paused, resume delay p50/p95, self-interruptions), then the figures
over all of them.

    uv run mediabloom bench bargein [--runs N] [scenario.yaml ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import wave
from pathlib import Path

import numpy as np

from worker.bench_runner import pct
from worker.logs import setup_logging
from worker.settings import load_settings
from worker.simulate.expectations import reply_went_on
from worker.simulate.runner import CallResult, SimulatedCall
from worker.simulate.scenario import Scenario, load_scenario
from worker.transport.levels import AUDIBLE_RMS, BLOCK_S, rms_blocks

ROOT = Path(__file__).resolve().parents[1]
QUIET_RUN_S = 0.2
"""Agent silence shorter than this (a gap between words) does not count as having stopped."""
DEFAULT = ["bargein_backchannel.yaml", "bargein_mmhmm.yaml", "bargein_cough.yaml", "bargein_echo.yaml",
           "bargein_correction.yaml", "bargein_redirect.yaml", "bargein_argument.yaml", "bargein_in_a_row.yaml",
           "bargein_outcome.yaml", "bargein_slow_tool.yaml", "barge_in.yaml"]
COUNTS = ["not over the agent", "false: paused", "false: resumed", "false: no pause (ignored)",
          "self-interruptions (no caller speech)"]
FIGURES = (("onset_to_quiet", "speech onset → agent quiet (at the ear)"),
           ("sound_to_quiet", "a sound (cough, breath) → agent quiet"),
           ("onset_to_stop", "  speech onset → playback paused/cut"),
           ("resume_delay", "false interruption: noise end → resumed"))



def levels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Audible (bool) per 10 ms block, caller and agent channels of a call.wav."""
    with wave.open(str(path)) as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2)
    return rms_blocks(data[:, 0], rate) > AUDIBLE_RMS, rms_blocks(data[:, 1], rate) > AUDIBLE_RMS


def first_true(mask: np.ndarray, start: int, end: int | None = None) -> int | None:
    hits = np.flatnonzero(mask[start:end])
    return start + int(hits[0]) if len(hits) else None


def quiet_from(agent: np.ndarray, start: int) -> int | None:
    """First block at/after `start` that begins `QUIET_RUN_S` of agent silence."""
    run = int(round(QUIET_RUN_S / BLOCK_S))
    i = start
    while i < len(agent):
        if not agent[i:i + run].any():
            return i
        i += int(np.flatnonzero(agent[i:i + run])[-1]) + 1
    return len(agent)


def measure(scenario: Scenario, result: CallResult, rows: dict[str, list[float]], counts: dict[str, int]) -> None:
    caller, agent = levels(result.wav_path)
    spoken = [ln for ln in scenario.caller if ln.silence is None]
    for line, utt in zip(spoken, result.utterances):
        if line.barge_in is None:
            continue
        s, e = int(utt.start / BLOCK_S), int(np.ceil(utt.end / BLOCK_S))
        onset = first_true(caller, s, e + 1)
        # over the agent: it was audible within the last 300 ms (a barge-in can start in a word gap)
        if onset is None or not agent[max(onset - 30, 0):onset + 1].any():
            counts["not over the agent"] += 1
            continue
        false_one = line.expect is not None and line.expect.turn is False
        quiet = quiet_from(agent, onset)
        last = s + int(np.flatnonzero(caller[s:e + 1])[-1]) if caller[s:e + 1].any() else e
        if false_one and (quiet is None or quiet > last + int(0.3 / BLOCK_S)):
            counts["false: no pause (ignored)"] += 1
            continue
        if quiet is not None:
            rows["onset_to_quiet" if line.sound is None else "sound_to_quiet"].append((quiet - onset) * BLOCK_S)
        stop = next((ev for ev in result.agent_audio if ev.kind == "stopped" and ev.at >= utt.start - 0.05), None)
        if stop is not None and stop.reason in ("paused", "interrupted") and stop.at <= utt.end + 0.5 \
                and line.sound is None:
            rows["onset_to_stop"].append(stop.at - onset * BLOCK_S)
        if false_one:
            counts["false: paused"] += 1
            back = first_true(agent, max(last, quiet or last))
            if back is not None and reply_went_on(utt, result.agent_audio, within=5.0) is None:
                counts["false: resumed"] += 1
                rows["resume_delay"].append((back - last) * BLOCK_S)
    for ev in result.agent_audio:
        if ev.kind != "stopped" or ev.reason not in ("paused", "interrupted"):
            continue
        if not any(u.start - 0.2 <= ev.at <= u.end + 1.0 for u in result.utterances):
            counts["self-interruptions (no caller speech)"] += 1


class Tally:
    """The figures of one scenario (or of all of them), over its runs."""

    def __init__(self) -> None:
        self.rows: dict[str, list[float]] = {key: [] for key, _ in FIGURES}
        self.counts: dict[str, int] = dict.fromkeys(COUNTS, 0)
        self.failures: list[str] = []
        self.runs = 0

    def add(self, other: Tally) -> None:
        for key, values in other.rows.items():
            self.rows[key] += values
        for key, n in other.counts.items():
            self.counts[key] += n
        self.failures += other.failures
        self.runs += other.runs


def ms(values: list[float], q: float) -> str:
    return f"{pct(values, q) * 1000:.0f}" if values else "-"


def scenario_line(name: str, t: Tally) -> str:
    """One row of the per-scenario table."""
    quiet, resume = t.rows["onset_to_quiet"] + t.rows["sound_to_quiet"], t.rows["resume_delay"]
    verdict = "pass" if not t.failures else f"FAIL ({len(t.failures)})"
    return (f"{name:22} {verdict:9} {len(quiet):>3} {ms(quiet, .5):>6} {ms(quiet, .95):>6} "
            f"{t.counts['false: resumed']:>3}/{t.counts['false: paused']:<3} {ms(resume, .5):>6} {ms(resume, .95):>6} "
            f"{t.counts['self-interruptions (no caller speech)']:>5}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenarios", nargs="*", default=[str(ROOT / "scenarios" / n) for n in DEFAULT])
    p.add_argument("--runs", type=int, default=1)
    args = p.parse_args()
    setup_logging("WARNING")
    settings = load_settings()
    per: dict[str, Tally] = {}
    load_before = os.getloadavg()[0]
    out = Path(tempfile.mkdtemp(prefix="mb-bargein-"))
    for _ in range(args.runs):
        for path in args.scenarios:
            scenario = load_scenario(Path(path))
            result = asyncio.run(SimulatedCall(scenario, settings, out).run())
            t = per.setdefault(scenario.name, Tally())
            t.runs += 1
            t.failures += [f"{scenario.name}: {f}" for f in result.failures]
            measure(scenario, result, t.rows, t.counts)
    total = Tally()
    for t in per.values():
        total.add(t)
    print(f"scenarios: {len(args.scenarios)} x {args.runs} run(s); load average {load_before:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after; "
          f"interruption min {settings.interrupt_min_duration:.2f} s, false-interruption timeout "
          f"{settings.false_interruption_timeout:.2f} s")
    print(f"{'scenario':22} {'expect':9} {'n':>3} {'q p50':>6} {'q p95':>6} {'resumed':7} {'r p50':>6} {'r p95':>6} "
          f"{'echo':>5}   (q: onset → quiet, words and sounds, ms; r: noise end → resumed; echo: self-interruptions)")
    for name, t in per.items():
        print(scenario_line(name, t))
    print()
    print(f"{'all scenarios (ms)':42} {'n':>3} {'p50':>7} {'p95':>7}")
    for key, label in FIGURES:
        v = total.rows[key]
        print(f"{label:42} {len(v):>3} {ms(v, .5):>7} {ms(v, .95):>7}")
    for name, n in total.counts.items():
        print(f"{name:42} {n:>3}")
    print(f"scenarios passing their expectations: {sum(not t.failures for t in per.values())}/{len(per)}; "
          f"expectation failures: {len(total.failures)}")
    for f in total.failures:
        print("  " + f)
    print(f"calls in {out}")


if __name__ == "__main__":
    main()
