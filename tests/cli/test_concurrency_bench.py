"""`bench concurrency`: the pure parts (the figures and the stopping rule); the calls are the bench's."""

from __future__ import annotations

import math
import runpy
from pathlib import Path
from typing import Any

import pytest

from worker.settings import Settings

BENCH = runpy.run_path(str(Path(__file__).resolve().parents[2] / "bench" / "concurrency.py"), run_name="bench_concurrency")
Run: Any = BENCH["Run"]


def _run(n: int, p95_ms: float, cpu_s: float = 6.0, call_s: float = 120.0) -> Any:
    return Run(n=n, ear=[p95_ms / 1000] * 5, cpu_s=cpu_s, call_s=call_s, wall_s=60.0, load="1.00 1.00 1.00")


def test_cpu_per_call_minute_divides_by_the_summed_call_time() -> None:
    assert _run(2, 700, cpu_s=6.0, call_s=120.0).cpu_per_call_minute == pytest.approx(3.0)
    assert math.isnan(_run(1, 700, call_s=0).cpu_per_call_minute)


def test_the_largest_n_within_the_bar_of_one_call() -> None:
    runs = [_run(1, 700), _run(2, 760), _run(3, 840), _run(4, 900)]
    assert BENCH["largest_within"](runs) == 3  # 840 ≤ 1.2 × 700 < 900
    assert BENCH["largest_within"](runs[1:]) is None, "no baseline, no answer"


def test_the_sweep_always_starts_at_one_call() -> None:
    assert BENCH["sweep_ns"](4) == [1, 2, 3, 4]
    assert BENCH["sweep_ns"](0) == [1]


def test_a_row_shows_the_ratio_and_the_overhead_over_the_bare_session() -> None:
    line = BENCH["row"]("instant", _run(2, 770, cpu_s=10.5), _run(1, 700), _run(2, 690, cpu_s=10.0))
    cells = line.split()
    assert cells[:6] == ["instant", "2", "5", "770", "770", "1.10"]
    assert "+5.0%" in cells and cells[-3:] == ["1.00", "1.00", "1.00"]
    assert "-" in BENCH["row"]("offline", _run(1, 700), _run(1, 700), None).split()


def test_the_instant_set_ends_turns_like_the_bare_session_and_never_goes_to_the_cloud() -> None:
    base = Settings(_env_file=None, openai_api_key="sk-dummy")  # type: ignore[call-arg]
    instant = BENCH["engine_settings"](base, "instant")
    assert [instant.engine(p) for p in ("stt", "llm", "tts")] == ["instant", "offline", "instant"]
    assert instant.turn_detection == "vad"
    offline = BENCH["engine_settings"](base, "offline")
    assert [offline.engine(p) for p in ("stt", "llm", "tts")] == ["offline", "offline", "offline"]


def test_repeated_batches_pool_their_turns_and_their_cpu() -> None:
    merged = BENCH["merge"]([_run(2, 700, cpu_s=6.0, call_s=120.0), _run(2, 900, cpu_s=3.0, call_s=60.0)])
    assert merged.n == 2 and len(merged.ear) == 10
    assert merged.cpu_per_call_minute == pytest.approx(3.0)
    assert merged.p95 == pytest.approx(0.9)
