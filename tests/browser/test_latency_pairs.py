"""The page's latency pairs: the caller's last stop before each agent onset, and no other."""

from __future__ import annotations

from tests.browser.harness import latencies_ms


def test_only_the_last_caller_stop_before_an_agent_onset_counts() -> None:
    events = [
        {"kind": "agent_start", "t": 300.0},     # the greeting
        {"kind": "caller_stop", "t": 500.0},     # a blip on the fake microphone (CI: paired 20 s later)
        {"kind": "caller_stop", "t": 19900.0},   # the end of the first line
        {"kind": "agent_start", "t": 20975.0},
        {"kind": "caller_stop", "t": 30000.0},
        {"kind": "agent_start", "t": 30800.0},
        {"kind": "caller_stop", "t": 40000.0},   # the goodbye, never answered with audio
    ]
    assert latencies_ms(events) == [1075.0, 800.0]
