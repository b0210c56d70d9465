"""The agent's stock lines: every flow's fixed questions and fillers, never a line with a caller's value."""

from __future__ import annotations

from worker.flow.library import load_flow
from worker.planner.stock_lines import stock_lines


def test_every_fixed_question_of_the_shipped_flows_is_a_stock_line() -> None:
    lines = stock_lines()
    for name in ("real_estate", "insurance"):
        flow = load_flow(name)
        assert flow.greeting in lines and flow.done_question in lines
        for state in flow.states.values():
            assert all(q in lines for q in state.collect.values() if "{" not in q), (name, state.goal)
    assert "Let me check the calendar." in lines and len(lines) == len(set(lines))


def test_lines_with_a_callers_value_are_left_out() -> None:
    flow = load_flow("insurance")
    templated = [s.confirm for s in flow.states.values() if s.confirm and "{" in s.confirm]
    assert templated and not any(t in stock_lines([flow]) for t in templated)
    assert not any("{" in line for line in stock_lines())


def test_a_templated_line_gives_its_fixed_opening_clause_only() -> None:
    lines = stock_lines([load_flow("insurance")])
    assert "To confirm," in lines  # of "To confirm, I'll charge {quote_amount_text} to the card ..."
    assert not any("charge" in line for line in lines if line.startswith("To confirm"))
