"""`says:` on a caller line: the agent's reply to it must carry those words, as the caller heard
them (a receipt a barge-in cut from the previous reply is said again)."""

from __future__ import annotations

import time

from livekit.agents import llm

from worker.flow.library import load_flow
from worker.flow.machine import ConversationMachine
from worker.simulate.expectations import check_expectations
from worker.simulate.scenario import Scenario
from worker.trace.collector import TraceCollector
from worker.trace.records import TurnTrace
from worker.transport.caller_input import CallerUtterance


def _turns(reply: str, heard: str) -> tuple[list[TurnTrace], ConversationMachine]:
    machine = ConversationMachine(load_flow("insurance"))
    t0 = time.time() - 100.0
    trace = TraceCollector("call_x", engine="e", model="m", state=machine.snapshot(), started_wall=t0)
    trace.caller_turn(llm.ChatMessage(role="user", content=["Did it go through?"],
                                      metrics={"started_speaking_at": t0 + 10.0, "stopped_speaking_at": t0 + 11.0}),
                      machine.snapshot())
    trace.on_planned_text(reply)
    trace.on_agent_message(llm.ChatMessage(role="assistant", content=[heard], interrupted=heard != reply,
                                           metrics={"started_speaking_at": t0 + 11.5}))
    trace.finish_turn(machine.snapshot())
    return trace.turns, machine


def _scenario(says: list[str]) -> Scenario:
    return Scenario.model_validate({"name": "s", "flow": "insurance", "caller": [
        {"say": "Did it go through?", "expect": {"says": says}, "line": 7}]})


RECEIPT = "Done. I've charged $1,284.00 to the card ending in 6467. Your receipt number is CH-1001."


def test_a_reply_that_says_the_words_passes() -> None:
    turns, machine = _turns(RECEIPT, RECEIPT)
    assert check_expectations(_scenario(["receipt number", "CH-1001"]), turns, machine.snapshot(), {},
                              [CallerUtterance(start=10.0, end=11.0, duration=1.0)]) == []


def test_words_planned_but_not_heard_fail_the_line() -> None:
    turns, machine = _turns(RECEIPT, "Done. I've charged")
    failures = check_expectations(_scenario(["Receipt Number"]), turns, machine.snapshot(), {},
                                  [CallerUtterance(start=10.0, end=11.0, duration=1.0)])
    assert failures == ["line 7: expected the agent's reply to say 'Receipt Number'; "
                        "the caller heard \"Done. I've charged\""]
