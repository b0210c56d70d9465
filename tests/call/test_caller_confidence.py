"""The recogniser's confidence reaches the state machine, so a name heard badly is read back.

The real-estate flow reads a name back only `when: low_confidence`; the confidence comes from
Whisper through livekit-agents (`ChatMessage.transcript_confidence`) and the call must put it
into the machine's `CallerTurn`. Without it every name counted as heard well and a mangled one
("Carlos Maine Des") went into the booking unread. The threshold is the flow's
`low_confidence` (0.75, chosen on the multi-voice set: docs/recognition.md).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from livekit.agents import llm
from loguru import logger

from tests.flow.test_machine import run_tool
from tests.support.dates import SCENARIO_TODAY
from worker.call.conversation import Conversation
from worker.call.heard_words import HeardWords
from worker.call.ledger import Ledger
from worker.call.records import CallEventRecord
from worker.engines.whisper_hints import ExpectedAnswer
from worker.flow.library import load_flow
from worker.flow.machine import AgentSpoke, CallerTurn, ConversationMachine
from worker.planner.policy import AgentSaid, UserSaid, plan
from worker.trace.collector import TraceCollector

HEARD = "Hi, my name is Carlos Maine Des."


class _Journal:
    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def record(self, payload: dict[str, Any], turn: int | None = None) -> None:
        self.records.append(payload)


def _call() -> Any:
    """What `Conversation.caller_turn` touches, without a session: machine, ledger, trace."""
    machine = ConversationMachine(load_flow("real_estate"))
    machine.apply(AgentSpoke(text=machine.flow.greeting))
    trace = TraceCollector("call_conf", engine="offline", model="m", state=machine.snapshot())
    journal = _Journal()
    return SimpleNamespace(machine=machine, trace=trace, journal=journal, call_id="call_conf",
                           ledger=Ledger(machine, trace, journal), options=SimpleNamespace(today=SCENARIO_TODAY),
                           silence=SimpleNamespace(caller_spoke=lambda: None), log=logger, heard=HeardWords(), expected=ExpectedAnswer())


async def _hear(call: Any, text: str, confidence: float | None) -> None:
    msg = llm.ChatMessage(role="user", content=[text])
    if confidence is not None:
        msg.transcript_confidence = confidence
    await Conversation.caller_turn(call, msg)


@pytest.mark.parametrize("confidence", [0.42, 0.91, None])
async def test_the_transcripts_confidence_reaches_the_machine_and_the_journal(confidence: float | None) -> None:
    call = _call()
    await _hear(call, HEARD, confidence)
    assert call.machine.s.last_caller_confidence == confidence
    [record] = [CallEventRecord.model_validate(p) for p in call.journal.records]
    assert isinstance(record.event, CallerTurn) and record.event.confidence == confidence


@pytest.mark.parametrize("confidence, read_back", [(0.52, True), (0.74, True), (0.93, False), (None, False)])
async def test_a_name_heard_with_low_confidence_is_read_back_and_a_clear_one_is_not(
    confidence: float | None, read_back: bool
) -> None:
    call = _call()
    await _hear(call, HEARD, confidence)
    run_tool(call.machine, "save_caller_details", {"name": "Carlos Maine Des"})
    directive = call.machine.directive() | {"today": SCENARIO_TODAY.isoformat()}
    reply = plan(directive, [AgentSaid(call.machine.flow.greeting), UserSaid(HEARD)], SCENARIO_TODAY).text
    asked = "I have your name as Carlos Maine Des. Is that right?"
    assert (asked in reply) is read_back, reply
    assert (call.machine.s.confirmed_values.get("name") == "Carlos Maine Des") is not read_back
    if read_back:
        assert directive["read_back"]["slot"] == "name"
