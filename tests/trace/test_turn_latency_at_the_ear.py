"""The trace's turn latency is timed at the caller's ear; the framework's figure sits beside it."""

from __future__ import annotations

import time

import pytest
from livekit.agents import llm

from worker.flow.library import load_flow
from worker.flow.machine import ConversationMachine
from worker.trace.collector import TraceCollector


def _collector() -> tuple[TraceCollector, ConversationMachine, float]:
    machine = ConversationMachine(load_flow("real_estate"))
    t0 = time.time() - 100.0
    return TraceCollector("call_x", engine="e", model="m", state=machine.snapshot(), started_wall=t0), machine, t0


def _turn(trace: TraceCollector, machine: ConversationMachine, t0: float) -> None:
    caller = llm.ChatMessage(role="user", content=["two pm works for me"],
                             metrics={"started_speaking_at": t0 + 10.0, "stopped_speaking_at": t0 + 11.4})
    trace.caller_turn(caller, machine.snapshot())
    reply = llm.ChatMessage(role="assistant", content=["Great."],
                            metrics={"started_speaking_at": t0 + 11.9, "e2e_latency": 0.5})
    trace.on_agent_message(reply)
    trace.finish_turn(machine.snapshot())


def test_latency_runs_from_last_audible_caller_sample_to_first_audible_agent_sample() -> None:
    trace, machine, t0 = _collector()
    trace.true_eos = lambda caller: 11.25  # the caller's audio went quiet before the VAD noticed
    trace.heard_first_audio = lambda frame_at: frame_at + 0.05  # the reply's first frame was quiet
    _turn(trace, machine, t0)
    lat = trace.turns[-1].latencies
    assert (lat.eos_source, lat.first_audio_source) == ("audio", "audio")
    assert lat.eos_to_first_audio == pytest.approx(11.95 - 11.25, abs=1e-3)
    assert lat.eos_to_first_frame_framework == pytest.approx(11.9 - 11.4, abs=1e-3)
    assert lat.e2e_latency_framework == 0.5
    assert trace.turns[-1].reply.first_audible_at == pytest.approx(11.95, abs=1e-3)


def test_without_ears_the_latency_falls_back_to_vad_and_first_frame_and_says_so() -> None:
    trace, machine, t0 = _collector()
    _turn(trace, machine, t0)
    lat = trace.turns[-1].latencies
    assert (lat.eos_source, lat.first_audio_source) == ("vad", "frame")
    assert lat.eos_to_first_audio == pytest.approx(0.5, abs=1e-3)
