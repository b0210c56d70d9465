"""CallClock: one origin for every timestamp of a call."""

from __future__ import annotations

import time

import pytest

from worker.transport import CallClock


def test_call_time_is_seconds_since_t0() -> None:
    clock = CallClock(t0=100.0)
    assert clock.to_call_time(100.0) == 0.0
    assert clock.to_call_time(101.25) == pytest.approx(1.25)


def test_now_runs_on_the_monotonic_clock() -> None:
    before = time.monotonic()
    clock = CallClock()
    assert before <= clock.t0 <= time.monotonic()
    first = clock.now()
    time.sleep(0.05)
    assert clock.now() - first == pytest.approx(0.05, abs=0.03)
