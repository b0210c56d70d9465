"""`mediabloom bench NAME`: names map to scripts under bench/, unknown names get one clear line."""

from __future__ import annotations

import pytest

from worker.bench_runner import BENCH_DIR, BENCHES
from worker.cli import main


def test_every_bench_name_points_at_a_script_in_the_checkout() -> None:
    missing = [name for name, (script, _) in BENCHES.items() if not (BENCH_DIR / script).is_file()]
    assert missing == []


def test_unknown_bench_is_one_line_and_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown bench 'nope'") and "turns" in err and len(err.splitlines()) == 1


def test_arguments_reach_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "turns", "--help"]) == 0
    assert "usage: turn_latency.py" in capsys.readouterr().out
