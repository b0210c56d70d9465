"""The lines the agent says word for word in every call: greetings, questions, fillers.

Why: the voice renders them once when the worker starts (`PiperTTS.prewarm`, `clause_cache`), so a
reply that opens with one plays its first audio from memory even in the worker's first call. Of a
line with a `{field}` only the words before the field's clause are kept ("To confirm," of "To
confirm, I'll charge {amount} ..."): the rest is the caller's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from worker.flow.library import FLOWS_DIR, load_flow
from worker.flow.spec import FlowSpec
from worker.planner.replies import acknowledge, farewell, filler, idle_question

__all__ = ["stock_lines"]


def _flow_lines(flow: FlowSpec) -> Iterable[str]:
    yield flow.greeting
    yield flow.done_question
    for state in flow.states.values():
        yield from state.collect.values()
        if state.confirm:
            yield state.confirm
        for rule in state.tools:
            yield filler(rule.tool)
        if state.next_tool:
            yield filler(state.next_tool)


def stock_lines(flows: Iterable[FlowSpec] | None = None) -> list[str]:
    """Every fixed line of `flows` (default: all shipped flows) and the planner, once each, in order."""
    if flows is None:
        flows = [load_flow(path.stem) for path in sorted(FLOWS_DIR.glob("*.yaml"))]
    lines = [acknowledge({}, {}), filler(""), farewell({}), idle_question({})]
    for flow in flows:
        lines.extend(_flow_lines(flow))
    return list(dict.fromkeys(fixed for line in lines if (fixed := _fixed_part(line))))


_CLAUSE_END = re.compile(r"[,.?!;:](?=\s)")


def _fixed_part(line: str) -> str:
    """`line` up to the last clause end before its first `{field}` ("" if none), else all of it."""
    if "{" not in line:
        return line
    head = line[: line.index("{")]
    ends = [m.end() for m in _CLAUSE_END.finditer(head)]
    return head[: ends[-1]].strip() if ends else ""
