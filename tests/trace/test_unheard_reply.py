"""A reply the caller cut before its first word (she went on right after her turn ended, while
it was being generated) is in the trace as planned, heard as nothing, and cut off."""

from __future__ import annotations

import time

from livekit.agents import llm

from worker.flow.library import load_flow
from worker.flow.machine import ConversationMachine
from worker.trace.collector import TraceCollector


def _collector() -> tuple[TraceCollector, ConversationMachine, float]:
    machine = ConversationMachine(load_flow("insurance"))
    t0 = time.time() - 100.0
    return TraceCollector("call_x", engine="e", model="m", state=machine.snapshot(), started_wall=t0), machine, t0


def _caller(trace: TraceCollector, machine: ConversationMachine, t0: float, text: str) -> None:
    msg = llm.ChatMessage(role="user", content=[text],
                          metrics={"started_speaking_at": t0 + 10.0, "stopped_speaking_at": t0 + 12.0})
    trace.caller_turn(msg, machine.snapshot())


def test_a_reply_cut_before_its_first_word_is_marked_interrupted() -> None:
    trace, machine, t0 = _collector()
    _caller(trace, machine, t0, "Hi, I'd like to renew my policy.")
    trace.on_planned_text("Sorry, I didn't quite get that. Can I have your policy number?")
    trace.finish_turn(machine.snapshot())  # the next caller turn began: nothing of it was played

    reply = trace.turns[-1].reply
    assert reply.segments == 0 and reply.spoken_text == ""
    assert reply.interrupted and reply.planned_text.startswith("Sorry")


def test_a_reply_played_whole_is_not_marked_interrupted() -> None:
    trace, machine, t0 = _collector()
    _caller(trace, machine, t0, "My policy number is 4821.")
    trace.on_planned_text("And your date of birth?")
    trace.on_agent_message(llm.ChatMessage(role="assistant", content=["And your date of birth?"],
                                           metrics={"started_speaking_at": t0 + 12.5}))
    trace.finish_turn(machine.snapshot())

    assert not trace.turns[-1].reply.interrupted


def test_a_turn_with_nothing_planned_is_not_marked_interrupted() -> None:
    trace, machine, t0 = _collector()
    _caller(trace, machine, t0, "mm")
    trace.finish_turn(machine.snapshot())

    assert not trace.turns[-1].reply.interrupted
