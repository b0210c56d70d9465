"""The conversation state machine: gating, invariants, transitions and determinism."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from worker.flow.library import load_flow
from worker.flow.machine import (
    AgentSpeechStarted,
    AgentSpoke,
    CallEnded,
    CallerSpeechStarted,
    CallerTurn,
    ConversationMachine,
    ToolFinished,
    ToolProposed,
)


def run_tool(m: ConversationMachine, tool: str, args: dict[str, Any], result: dict[str, Any] | None = None, ok: bool = True, cid: str = "c"):
    d = m.propose(ToolProposed(call_id=cid, tool=tool, args=args))
    if d.accepted:
        m.apply(ToolFinished(call_id=cid, ok=ok, result=result or {}))
    return d


def test_tools_offered_follow_the_state() -> None:
    m = ConversationMachine(load_flow("real_estate"))
    assert m.s.state == "qualify"
    assert m.allowed_tools() == ["create_case", "save_caller_details"]
    d = run_tool(m, "book_tour", {"listing_id": "L-101"})
    assert not d.accepted and "not allowed" in (d.reason or "")
    assert m.s.rejections == 1 and not m.s.in_flight


def test_real_estate_happy_path_and_invariants() -> None:
    m = ConversationMachine(load_flow("real_estate"))
    m.apply(CallerTurn(text="I'm Dana"))
    run_tool(m, "save_caller_details", {"name": "Dana", "phone": "4155550123", "area": "Oakland", "budget": 900000})
    assert m.s.state == "qualify", "the phone is read back before the flow moves on"
    m.apply(AgentSpoke(text="I have 4 1 5, 5 5 5, 0 1 2 3. Is that right?"))
    m.apply(CallerTurn(text="yes", affirmation=True))
    assert m.s.state == "search" and m.s.confirmed_values["phone"] == "4155550123"
    run_tool(m, "find_listings", {"area": "Oakland", "max_price": 900000},
             {"listings": [{"listing_id": "L-101"}, {"listing_id": "L-102"}]})
    assert m.s.state == "choose" and m.s.slots["listing_ids"] == ["L-101", "L-102"]
    bad = run_tool(m, "check_availability", {"listing_id": "L-999", "date": "2026-11-28"})
    assert not bad.accepted and "not one of" in (bad.reason or "")
    run_tool(m, "check_availability", {"listing_id": "L-101", "date": "2026-11-28"},
             {"slots": ["2026-11-28T10:00:00", "2026-11-28T14:00:00"]})
    assert m.s.state == "schedule"
    off = run_tool(m, "book_tour", {"listing_id": "L-101", "slot_start": "2026-11-28T12:00:00", "name": "Dana", "phone": "4155550123"})
    assert not off.accepted and m.s.state == "schedule"
    ok = run_tool(m, "book_tour", {"listing_id": "L-101", "slot_start": "2026-11-28T14:00", "name": "Dana", "phone": "4155550123"},
                  {"booking_id": "B-1", "slot_start": "2026-11-28T14:00:00"})
    assert ok.accepted and m.s.state == "follow_up"
    run_tool(m, "update_opportunity", {"phone": "4155550123", "name": "Dana", "stage": "tour_booked"}, {"opportunity_id": "O-1", "stage": "tour_booked"})
    assert m.s.state == "wrap_up"
    m.apply(CallerTurn(text="no that's all, bye", wants=["goodbye"]))
    assert m.s.state == "done" and not m.s.ended
    assert m.allowed_tools() == []
    m.apply(AgentSpoke(text="Goodbye!"))
    assert m.s.ended and m.s.phase == "ended"


def test_book_tour_runs_once() -> None:
    m = ConversationMachine(load_flow("real_estate"))
    m.s.state = "schedule"
    m.s.slots.update(name="Dana", phone="4155550123", listing_ids=["L-1"], listing_id="L-1", free_slots=["2026-11-28T10:00:00"])
    m.s.confirmed_values["phone"] = "4155550123"
    args = {"listing_id": "L-1", "slot_start": "2026-11-28T10:00:00", "name": "Dana", "phone": "4155550123"}
    first = m.propose(ToolProposed(call_id="a", tool="book_tour", args=args))
    dup = m.propose(ToolProposed(call_id="b", tool="book_tour", args=args))
    assert first.accepted and not dup.accepted and "already running" in (dup.reason or "")


def _insurance_at_confirm() -> ConversationMachine:
    m = ConversationMachine(load_flow("insurance"))
    m.apply(CallerTurn(text="POL-4821, March 3 1985"))
    run_tool(m, "verify_identity", {"policy_number": "POL-4821", "date_of_birth": "1985-03-03"}, {"verified": True, "holder_name": "Dana"})
    assert m.s.state == "quote"
    run_tool(m, "get_renewal_quote", {"policy_number": "POL-4821"}, {"quote_id": "Q1", "amount_cents": 128400, "amount_text": "$1,284.00"})
    assert m.s.state == "confirm"
    return m


CHARGE = {"policy_number": "POL-4821", "amount_cents": 128400, "card_number": "4242424242424242"}


def test_charge_needs_confirmation_of_the_stated_amount_in_the_previous_turn() -> None:
    m = _insurance_at_confirm()
    # no answer since the quote
    assert not run_tool(m, "charge_card", CHARGE).accepted
    m.apply(AgentSpoke(text="Your renewal is $1,284.00. Which card would you like to use?"))
    m.apply(CallerTurn(text="4242 4242 4242 4242"))
    d = run_tool(m, "charge_card", CHARGE)
    assert not d.accepted and "explicitly confirm" in (d.reason or "")
    m.apply(AgentSpoke(text="Shall I go ahead?"))
    m.apply(CallerTurn(text="yes", affirmation=True))
    d = run_tool(m, "charge_card", CHARGE)
    assert not d.accepted and "did not state" in (d.reason or "")
    m.apply(AgentSpoke(text="To confirm, I'll charge $1,284.00 to the card ending in 4242. Shall I go ahead?"))
    m.apply(CallerTurn(text="yes go ahead", affirmation=True))
    wrong = run_tool(m, "charge_card", {**CHARGE, "amount_cents": 100}, cid="w")
    assert not wrong.accepted and "does not match" in (wrong.reason or "")
    ok = run_tool(m, "charge_card", CHARGE, {"charge_id": "ch_1", "card_last4": "4242"})
    assert ok.accepted and m.s.state == "wrap_up"
    again = run_tool(m, "charge_card", CHARGE, cid="x")
    assert not again.accepted


def test_unverified_caller_cannot_get_a_quote_and_case_hands_off() -> None:
    m = ConversationMachine(load_flow("insurance"))
    run_tool(m, "verify_identity", {"policy_number": "POL-4821", "date_of_birth": "1990-01-01"}, {"verified": False})
    assert m.s.state == "verify"
    assert not run_tool(m, "get_renewal_quote", {"policy_number": "POL-4821"}).accepted
    run_tool(m, "create_case", {"reason": "caller_request", "summary": "x"}, {"case_id": "C-1"})
    assert m.s.state == "handoff"
    m.apply(AgentSpoke(text="A colleague will call you back. Goodbye."))
    assert m.s.ended


def test_failed_tool_does_not_advance() -> None:
    m = _insurance_at_confirm()
    m.apply(AgentSpoke(text="To confirm, I'll charge $1,284.00 to the card ending in 4242. Shall I go ahead?"))
    m.apply(CallerTurn(text="yes", affirmation=True))
    run_tool(m, "charge_card", CHARGE, ok=False)
    assert m.s.state == "confirm" and m.s.succeeded.get("charge_card") is None


def test_speaker_and_phase() -> None:
    m = ConversationMachine(load_flow("insurance"))
    m.apply(CallerSpeechStarted())
    assert (m.s.speaker, m.s.phase) == ("caller", "listening")
    m.apply(CallerTurn(text="hi"))
    assert (m.s.speaker, m.s.phase, m.s.turn) == ("nobody", "thinking", 1)
    m.apply(AgentSpeechStarted())
    assert (m.s.speaker, m.s.phase) == ("agent", "speaking")
    m.apply(AgentSpoke(text="hello", interrupted=True))
    assert (m.s.speaker, m.s.phase) == ("nobody", "listening")
    m.apply(CallEnded(reason="caller hung up"))
    assert m.s.ended and m.allowed_tools() == []


# ------------------------------------------------------------------ property: determinism
TOOLS = ["save_caller_details", "find_listings", "check_availability", "book_tour", "update_opportunity",
         "create_case", "verify_identity", "get_renewal_quote", "charge_card"]
events = st.one_of(
    st.builds(CallerSpeechStarted),
    st.builds(CallerTurn, text=st.text(max_size=20), affirmation=st.sampled_from([None, True, False]),
              wants=st.lists(st.sampled_from(["goodbye", "human"]), max_size=1)),
    st.builds(AgentSpeechStarted),
    st.builds(AgentSpoke, text=st.sampled_from(["", "It is $1,284.00, ok?", "hi"]), interrupted=st.booleans()),
    st.builds(ToolProposed, call_id=st.sampled_from(["a", "b", "c"]), tool=st.sampled_from(TOOLS),
              args=st.fixed_dictionaries({}, optional={
                  "listing_id": st.sampled_from(["L-1", "L-2"]), "amount_cents": st.sampled_from([128400, 1]),
                  "policy_number": st.just("POL-4821"), "name": st.just("Dana"), "phone": st.just("4155550123"),
                  "area": st.just("Oakland"), "budget": st.just(900000)})),
    st.builds(ToolFinished, call_id=st.sampled_from(["a", "b", "c"]), ok=st.booleans(),
              result=st.sampled_from([{}, {"verified": True}, {"listings": [{"listing_id": "L-1"}]},
                                      {"slots": ["2026-11-28T10:00:00"]}, {"amount_cents": 128400, "amount_text": "$1,284.00"}])),
    st.builds(CallEnded, reason=st.just("hangup")),
)


@settings(max_examples=150, deadline=None)
@given(flow=st.sampled_from(["real_estate", "insurance"]), seq=st.lists(events, max_size=40))
def test_same_events_same_states_and_decisions(flow: str, seq: list) -> None:
    def play() -> list:
        m = ConversationMachine(load_flow(flow))
        out = []
        for ev in seq:
            if isinstance(ev, ToolProposed):
                out.append(m.propose(ev).model_dump())
            else:
                out.append([t.model_dump() for t in m.apply(ev)])
            out.append(m.snapshot().model_dump())
            # invariants of the machine itself
            assert m.s.state in m.flow.states
            assert m.s.ended == (m.s.phase == "ended")
        return out
    assert play() == play()


def test_speech_begun_before_entering_a_terminal_state_is_not_its_farewell() -> None:
    m = ConversationMachine(load_flow("real_estate"))
    run_tool(m, "create_case", {"reason": "caller_request", "summary": "x"}, {"case_id": "CASE-1"})
    assert m.s.state == "handoff"
    m.apply(AgentSpoke(text="Of course, let me get a colleague.", began_in_state=False))
    assert not m.s.ended
    m.apply(AgentSpoke(text="A colleague will call you back. Goodbye!"))
    assert m.s.ended and m.s.end_reason == "completed"
