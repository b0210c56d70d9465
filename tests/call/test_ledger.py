"""The ledger: the one path of a call event, machine → journal → trace.

What must hold: the machine decides before anything is recorded, the journal records before
the trace does, every decision is journaled exactly once as one `CallEventRecord`, a refusal is
traced once, secrets never reach the journal in clear, and `replay` reads back what the ledger
wrote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tests.support.dates import SCENARIO_TODAY
from tools.registry import ToolOutcome
from worker.call.ledger import Ledger
from worker.call.records import CallEventRecord, CallOpened
from worker.flow.library import load_flow
from worker.flow.machine import (
    AgentSpoke,
    CallerTurn,
    ConversationMachine,
    Decision,
    ToolProposed,
    Transition,
)
from worker.journaling import EventLog, open_journal
from worker.replay import replay_call
from worker.settings import load_settings
from worker.trace.collector import TraceCollector
from worker.trace.records import ToolRun

TODAY = SCENARIO_TODAY
CARD = "4539148803436467"
DETAILS = {"name": "Dana Whitfield", "phone": "5104827391", "area": "Oakland", "budget": 900000}


class Machine(ConversationMachine):
    def __init__(self, flow: str, steps: list[str]) -> None:
        super().__init__(load_flow(flow))
        self.steps = steps

    def apply(self, event: BaseModel) -> list[Transition]:
        self.steps.append("machine")
        return super().apply(event)

    def propose(self, call: ToolProposed) -> Decision:
        self.steps.append("machine")
        return super().propose(call)


class Journal:
    def __init__(self, steps: list[str]) -> None:
        self.steps = steps
        self.records: list[tuple[dict[str, Any], int | None]] = []

    def record(self, payload: dict[str, Any], turn: int | None = None) -> None:
        self.steps.append("journal")
        self.records.append((payload, turn))


class Trace(TraceCollector):
    def __init__(self, machine: ConversationMachine, steps: list[str]) -> None:
        super().__init__("call_test", engine="offline", model="m", state=machine.snapshot())
        self.steps = steps

    def on_transitions(self, transitions: list[Transition]) -> None:
        self.steps.append("trace")
        super().on_transitions(transitions)

    def on_rejected(self, call_id: str, tool: str, reason: str, by: str, state: str) -> None:
        self.steps.append("trace")
        super().on_rejected(call_id, tool, reason, by, state)

    def on_tool_run(self, run: ToolRun) -> None:
        self.steps.append("trace")
        super().on_tool_run(run)


class Rig:
    def __init__(self, flow: str = "real_estate") -> None:
        self.steps: list[str] = []
        self.machine = Machine(flow, self.steps)
        self.journal = Journal(self.steps)
        self.trace = Trace(self.machine, self.steps)
        self.heard: list[list[Transition]] = []
        self.ledger = Ledger(self.machine, self.trace, self.journal, on_tool_outcome=self._heard)

    async def _heard(self, transitions: list[Transition]) -> None:
        self.steps.append("listener")
        self.heard.append(transitions)

    def records(self) -> list[CallEventRecord]:
        return [CallEventRecord.model_validate(payload) for payload, _ in self.journal.records]


def test_an_applied_event_goes_to_the_machine_then_the_journal_then_the_trace() -> None:
    rig = Rig()
    rig.machine.s.last_agent_text = rig.machine.flow.done_question  # a goodbye answers it
    transitions = rig.ledger.apply(CallerTurn(text="goodbye", wants=["goodbye"]))

    assert [(t.from_state, t.to_state) for t in transitions] == [("qualify", "done")]
    assert rig.steps == ["machine", "journal", "trace"]
    [record] = rig.records()
    assert isinstance(record.event, CallerTurn) and record.transitions == transitions
    assert record.decision is None
    assert rig.journal.records[0][1] == 1  # journaled with the turn the event made
    assert [t["to_state"] for t in rig.trace._current.state.transitions] == ["done"]
    assert rig.ledger.state_entered_at > 0


def test_a_rejected_proposal_is_journaled_once_and_traced_once() -> None:
    rig = Rig()
    proposal = ToolProposed(call_id="fc_1", tool="book_tour", args={"listing_id": "L-101"})
    decision = rig.ledger.propose(proposal)

    assert not decision.accepted and "not allowed" in (decision.reason or "")
    assert rig.steps == ["machine", "journal", "trace"]
    [record] = rig.records()
    assert record.event == proposal and record.decision == decision and record.transitions == []
    rejections = rig.trace._current.planner.rejections
    assert [(r.call_id, r.tool, r.by, r.state) for r in rejections] == [("fc_1", "book_tour", "state_machine", "qualify")]
    assert rig.machine.s.rejections == 1


async def test_an_accepted_call_and_its_outcome_are_recorded_in_order_before_the_listener_hears() -> None:
    rig = Rig()
    rig.machine.s.confirmed_values["phone"] = DETAILS["phone"]  # read back and confirmed earlier
    decision = rig.ledger.propose(ToolProposed(call_id="fc_1", tool="save_caller_details", args=DETAILS))
    assert decision.accepted
    assert rig.steps == ["machine", "journal"]  # an accepted proposal is traced when it has run
    assert rig.trace._current.planner.rejections == []

    rig.steps.clear()
    outcome = ToolOutcome(name="save_caller_details", ok=True, result=DETAILS)
    transitions = await rig.ledger.tool_finished("fc_1", "save_caller_details", DETAILS, outcome, rig.trace.t0, 3.0)

    assert [(t.from_state, t.to_state) for t in transitions] == [("qualify", "search")]
    assert rig.steps == ["machine", "journal", "trace", "trace", "listener"]
    assert rig.heard == [transitions]
    record = rig.records()[-1]
    assert record.event.kind == "tool_finished" and record.transitions == transitions
    [run] = rig.trace._current.tools
    assert run.ok and run.call_id == "fc_1" and run.result == DETAILS and run.duration_ms == 3.0


def test_arguments_refused_before_the_machine_are_traced_but_not_journaled() -> None:
    rig = Rig()
    rig.ledger.invalid("fc_1", "find_listings", "max_price must be a number")

    assert rig.steps == ["trace"] and rig.journal.records == []
    assert rig.machine.s.rejections == 0
    [rejection] = rig.trace._current.planner.rejections
    assert (rejection.by, rejection.state) == ("validation", "qualify")


def test_a_card_number_never_reaches_the_journal_in_clear() -> None:
    rig = Rig("insurance")
    rig.ledger.propose(ToolProposed(call_id="fc_1", tool="charge_card",
                                    args={"policy_number": "POL-4821", "amount_cents": 128400, "card_number": CARD}))
    rig.ledger.apply(CallerTurn(text=f"my card is {CARD}"))

    written = json.dumps([payload for payload, _ in rig.journal.records])
    assert CARD not in written and "6467" in written
    assert [r.event.kind for r in rig.records()] == ["tool_proposed", "caller_turn"]


async def test_replay_reads_back_what_the_ledger_wrote(tmp_path: Path) -> None:
    journal = await open_journal(load_settings(data_dir=tmp_path))
    try:
        events = EventLog(journal.store, "call_ledger")
        machine = ConversationMachine(load_flow("real_estate"))
        trace = TraceCollector("call_ledger", engine="offline", model="m", state=machine.snapshot())
        ledger = Ledger(machine, trace, events)
        ledger.opened(CallOpened(flow="real_estate", today=TODAY, sandbox=str(tmp_path / "sandbox.db")))
        ledger.apply(AgentSpoke(text="Hi, who am I speaking with? " + machine.flow.done_question))
        ledger.propose(ToolProposed(call_id="fc_1", tool="book_tour", args={"listing_id": "L-101"}))
        ledger.apply(CallerTurn(text="bye", wants=["goodbye"]))
        await events.flush()

        report = await replay_call(journal.store, "call_ledger")
    finally:
        await journal.store.close()

    assert report.ok, report.divergence
    assert (report.events, report.decisions, report.transitions) == (3, 1, 1)
    assert report.final_state == "done"

