"""`mediabloom bench NAME [ARGS...]`: run one of the benchmarks under `bench/` by a short name.

Benchmarks live in `bench/` (they print figures; tests only assert generous bounds), run from a
checkout of the project. This table names them for the CLI, so that `uv run mediabloom bench
turns` and `uv run python bench/turn_latency.py` are the same run. A bench script reads its own
arguments from `sys.argv`; its exit status becomes the command's.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from worker.settings import ConfigError

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"

# short name → (script under bench/, one line for --help)
BENCHES: dict[str, tuple[str, str]] = {
    "turns": ("turn_latency.py", "per-turn latency at the caller's ear and premature cut-offs, per turn-detection mode"),
    "concurrency": ("concurrency.py", "N simulated calls in one process: p95 at the ear and CPU per call-minute"),
    "engines": ("engines_bench.py", "the offline engines alone: VAD, Whisper, Piper"),
    "first-audio": ("tts_first_audio.py", "the agent voice's first audio and mid-reply stalls on long replies, before/after"),
    "journal": ("journal_bench.py", "journal append/verify throughput"),
    "browser": ("browser_latency.py", "latency heard by a real Chromium over the local WebRTC link"),
    "sip": ("sip_answer_latency.py", "a phone call's answer latency through LiveKit SIP"),
    "recognition": ("recognition_bench.py", "WER and exact-value accuracy across caller voices (espeak-ng, flite, Piper)"),
    "bargein": ("bargein.py", "barge-in at the ear: onset → agent quiet, false interruptions resumed, echo"),
    "robustness": ("robustness.py", "persona calls across caller voices: completion, wrong effects, read-backs"),
}


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values` by linear interpolation; NaN when there are none.

    One definition for every bench's p50/p95, so their figures are comparable.
    """
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def run_bench(name: str, argv: list[str]) -> int:
    """Run `bench/<script>` as `__main__` with `argv`; returns its exit status.

    Raises ConfigError for an unknown name or a script missing from this checkout.
    """
    if name not in BENCHES:
        raise ConfigError(f"unknown bench {name!r}: choose one of {', '.join(sorted(BENCHES))}.")
    script = BENCH_DIR / BENCHES[name][0]
    if not script.is_file():
        raise ConfigError(f"bench {name!r} needs {script}, which is not in this checkout (run from the project).")
    saved = sys.argv
    sys.argv = [str(script), *argv]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    return 0
