"""Replay: re-drive a recorded call through the state machine with tools in replay mode.

The journal holds every state-machine event of a call, with the decision or transitions it
caused, and every tool call's outcome. Replay feeds the events to a fresh machine, serves tool
results from the journal (no backend is touched), and checks that every decision and
transition matches the recording. The first divergence is named; none means the deterministic
core still makes the same choices, e.g. after a flow or engine change.

Not every short recording is a divergence: a call whose process died (say, inside a tool's
card tokenization, before the tool wrote anything) simply ends early. Replay then says the
call was *interrupted* and where, and a call id the journal never held is *unknown*: each
has its own status and exit code, so a script can tell "the flow changed" from "the process
crashed" from "typo".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from tools.journal.store import JournalStore
from worker.call.records import CallEventRecord, CallOpened
from worker.flow.library import load_flow
from worker.flow.machine import ConversationMachine, ToolFinished, ToolProposed


ReplayStatus = Literal["identical", "diverged", "interrupted", "unknown_call"]


class ReplayReport(BaseModel):
    """``ok``: nothing the machine decides now differs from the recording (``identical``, or
    ``interrupted`` when the recording stops early); ``divergence`` says what and where otherwise."""

    call_id: str
    ok: bool
    status: ReplayStatus = "diverged"
    events: int = 0
    decisions: int = 0
    transitions: int = 0
    tool_results: int = 0
    divergence: str | None = None
    final_state: str | None = None


def _outcome_for(entries: list[Any], tool_call_id: str) -> dict[str, Any] | None:
    """The journaled outcome of one model tool call (served instead of running the tool)."""
    for e in entries:
        if e.tool_call_id == tool_call_id and e.kind in ("call_succeeded", "call_failed", "call_replayed"):
            if e.kind == "call_succeeded":
                return {"ok": True, "result": (e.payload or {}).get("result")}
            if e.kind == "call_failed":
                return {"ok": False, "result": None}
            # a duplicate served from the stored result of an earlier call with the same key
            first = next((x for x in entries if x.idempotency_key == e.idempotency_key
                          and x.kind == "call_succeeded"), None)
            return {"ok": first is not None, "result": (first.payload or {}).get("result") if first else None}
    return None


async def replay_call(store: JournalStore, call_id: str) -> ReplayReport:
    entries = await store.entries(call_id)
    events = [e for e in entries if e.kind == "event"]
    report = ReplayReport(call_id=call_id, ok=False)
    if not entries:
        report.status = "unknown_call"
        report.divergence = f"no such call in the journal: {call_id}"
        return report
    if not events:
        report.divergence = f"no recorded events for call {call_id}"
        return report
    opened = CallEventRecord.model_validate(events[0].payload or {}).event
    if not isinstance(opened, CallOpened):
        report.divergence = f"entry #{events[0].seq}: the recording does not start with call_opened"
        return report
    machine = ConversationMachine(load_flow(opened.flow))
    served: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(events[1:], start=1):
        record = CallEventRecord.model_validate(entry.payload or {})
        report.events += 1
        event = record.event
        where = f"entry #{entry.seq} ({event.kind}, turn {entry.turn})"
        if isinstance(event, ToolProposed):
            decision = machine.propose(event)
            want = record.decision.model_dump() if record.decision else {}
            report.decisions += 1
            if decision.accepted != want.get("accepted") or decision.reason != want.get("reason"):
                report.divergence = (f"{where}: {event.tool} was {'accepted' if want.get('accepted') else 'rejected'} "
                                     f"when recorded but {'accepted' if decision.accepted else 'rejected'} now "
                                     f"({decision.reason or 'no reason'})")
                return report
            if decision.accepted:
                outcome = _outcome_for(entries, event.call_id)
                if outcome is None and index == len(events) - 1:
                    report.status, report.ok, report.final_state = "interrupted", True, machine.s.state
                    report.divergence = (f"{where}: the recording ends while {event.tool} ({event.call_id}) was "
                                         "running, with no outcome journaled: the call was interrupted "
                                         "(`mediabloom resume` finishes what the tool had started)")
                    return report
                if outcome is None:
                    report.divergence = f"{where}: no journaled outcome for {event.tool} ({event.call_id})"
                    return report
                served[event.call_id] = outcome
            continue
        if isinstance(event, ToolFinished):
            mine = served.get(event.call_id)
            if mine is None or mine["ok"] != event.ok or (event.ok and mine["result"] != event.result):
                report.divergence = f"{where}: the journaled tool outcome differs from the recorded one"
                return report
            report.tool_results += 1
            event = ToolFinished(call_id=event.call_id, ok=mine["ok"], result=mine["result"], error=event.error)
        got = [t.model_dump() for t in machine.apply(event)]
        want_t = [t.model_dump() for t in record.transitions]
        report.transitions += len(got)
        if got != want_t:
            report.divergence = f"{where}: transitions {_fmt(got)} now, {_fmt(want_t)} when recorded"
            return report
    report.ok = True
    report.final_state = machine.s.state
    report.status = "identical"
    if not machine.s.ended:
        last = events[-1]
        report.status = "interrupted"
        open_tools = "; ".join(_unfinished_tools(entries))
        report.divergence = (f"the recording stops at entry #{last.seq} (turn {last.turn}) before the call "
                             "ended: the call was interrupted or is still running"
                             + (f"; unfinished: {open_tools}" if open_tools else ""))
    return report


_TERMINAL = frozenset({"call_succeeded", "call_failed", "call_replayed"})
_WHERE = {"call_requested": "while preparing (nothing was journaled after the request)",
          "call_interrupted": "while preparing (closed by resume: no step ran)"}


def _unfinished_tools(entries: list[Any]) -> list[str]:
    """Tool calls whose last journal line is not an outcome, with where each one stopped."""
    last: dict[tuple[str, str | None], Any] = {}
    for e in entries:
        if e.kind != "event" and e.tool:
            last[e.tool, e.tool_call_id] = e
    return [f"{tool} ({tcid or 'no id'}) stopped {_WHERE.get(e.kind, f'after entry #{e.seq} ({e.kind})')}"
            for (tool, tcid), e in last.items() if e.kind not in _TERMINAL]


def _fmt(transitions: list[dict[str, Any]]) -> str:
    return "[" + ", ".join(f"{t['from_state']}→{t['to_state']}" for t in transitions) + "]" if transitions else "none"
