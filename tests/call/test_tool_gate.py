"""The tool gate: the one door between a model's proposed calls and the sandbox.

What must hold whatever a model sends: malformed arguments and calls the state machine forbids
come back as a typed `ToolError` with a JSON body, are traced with who rejected them, and
never reach a backend; accepted calls run, move the state and are traced with secrets masked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from livekit.agents.llm import ToolError

from tests.planner.driver import effects
from tests.support.dates import SCENARIO_TODAY
from tools.registry import TOOLS
from tools.sandbox.core import Sandbox
from worker.call.ledger import Ledger
from worker.call.tool_gate import ToolGate
from worker.flow.library import load_flow
from worker.flow.machine import AgentSpoke, CallerTurn, ConversationMachine, Transition
from worker.trace.collector import TraceCollector

CARD = "4539148803436467"
NO_EFFECTS = {"bookings": 0, "charges": 0, "cases": 0, "opportunities": 0}


class Rig:
    """A gate over a real sandbox, machine and collector (through a ledger), recording the
    state changes the ledger reports after each tool outcome."""

    def __init__(self, flow: str, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.machine = ConversationMachine(load_flow(flow))
        self.trace = TraceCollector("call_test", engine="offline", model="m", state=self.machine.snapshot())
        self.changes: list[list[Transition]] = []
        ledger = Ledger(self.machine, self.trace, on_tool_outcome=self._on_state_change)
        self.gate = ToolGate(ledger, "call_test", sandbox=sandbox)
        self._n = 0

    async def _on_state_change(self, transitions: list[Transition]) -> None:
        self.changes.append(transitions)

    async def call(self, name: str, args: Any) -> str:
        self._n += 1
        return await self.gate.call(name, args, f"fc_{self._n}")

    @property
    def turn(self) -> Any:
        return self.trace._current


@pytest.fixture
def estate(sandbox: Sandbox) -> Rig:
    return Rig("real_estate", sandbox)


@pytest.fixture
def insurance(sandbox: Sandbox) -> Rig:
    return Rig("insurance", sandbox)


def error_body(exc: pytest.ExceptionInfo[ToolError]) -> dict[str, Any]:
    body = json.loads(exc.value.message)
    assert isinstance(body, dict)
    return body


# ---------------------------------------------------------------- malformed arguments
MALFORMED: list[tuple[str, Any]] = [
    # wrong types
    ("find_listings", {"area": "Oakland", "max_price": ["900000"]}),
    ("book_tour", {"listing_id": 101, "slot_start": True, "name": "Dana Whitfield", "phone": 5104827391.5}),
    ("verify_identity", {"policy_number": {"n": 4821}, "date_of_birth": "1984-03-12"}),
    # missing fields
    ("check_availability", {"listing_id": "L-101"}),
    ("book_tour", {}),
    ("save_caller_details", {}),
    ("create_case", {"summary": "call me"}),
    # extra fields
    ("find_listings", {"area": "Oakland", "max_price": 900000, "pool": True}),
    ("save_caller_details", {"name": "Dana Whitfield", "password": "hunter2"}),
    # junk strings
    ("save_caller_details", {"phone": "call me maybe"}),
    ("check_availability", {"listing_id": "L-101", "date": "someday soon"}),
    ("get_renewal_quote", {"policy_number": "!!!"}),
    ("create_case", {"reason": "because", "summary": "x"}),
    ("update_opportunity", {"phone": "5104827391", "name": "Dana Whitfield", "stage": "married"}),
    # not an object at all
    ("find_listings", "area=Oakland"),
    ("find_listings", ["Oakland", 900000]),
    ("find_listings", None),
]


@pytest.mark.parametrize("name, args", MALFORMED, ids=[f"{n}-{i}" for i, (n, _) in enumerate(MALFORMED)])
async def test_malformed_arguments_are_refused_before_the_machine_and_the_sandbox(
        estate: Rig, name: str, args: Any) -> None:
    with pytest.raises(ToolError) as exc:
        await estate.call(name, args)

    body = error_body(exc)
    assert body["error"] == "invalid_arguments" and body["tool"] == name and body["reason"]
    assert effects(estate.sandbox) == NO_EFFECTS
    # the state machine was never asked, nothing is in flight, nothing moved
    assert estate.machine.s.rejections == 0 and not estate.machine.s.in_flight
    assert estate.machine.s.state == "qualify" and estate.changes == []
    rejections = estate.turn.planner.rejections
    assert [(r.tool, r.by, r.state) for r in rejections] == [(name, "validation", "qualify")]
    assert rejections[0].call_id == "fc_1" and rejections[0].reason
    assert estate.turn.tools == []


async def test_a_malformed_charge_never_echoes_the_card_number(insurance: Rig) -> None:
    args = {"policy_number": "POL-4821", "amount_cents": "lots", "card_number": "4539 1488 0343 6467"}
    with pytest.raises(ToolError) as exc:
        await insurance.call("charge_card", args)

    assert error_body(exc)["error"] == "invalid_arguments"
    assert effects(insurance.sandbox)["charges"] == 0
    recorded = insurance.turn.model_dump_json() + exc.value.message
    assert CARD not in recorded.replace(" ", "")
    assert insurance.turn.planner.proposed[0].arguments["card_number"] == "•••• 6467"


# ---------------------------------------------------------------- state machine rejections
async def test_a_call_the_state_forbids_is_refused_and_traced_by_the_state_machine(estate: Rig) -> None:
    args = {"listing_id": "L-101", "slot_start": "2026-11-27T14:00:00", "name": "Dana Whitfield",
            "phone": "5104827391"}
    with pytest.raises(ToolError) as exc:
        await estate.call("book_tour", args)

    body = error_body(exc)
    assert body["error"] == "rejected_by_state_machine" and body["tool"] == "book_tour"
    assert body["state"] == "qualify" and "book_tour" not in body["allowed_tools"]
    assert "not allowed" in body["reason"]
    assert effects(estate.sandbox) == NO_EFFECTS
    assert estate.machine.s.rejections == 1 and not estate.machine.s.in_flight and estate.changes == []
    rejections = estate.turn.planner.rejections
    assert [(r.tool, r.by, r.state) for r in rejections] == [("book_tour", "state_machine", "qualify")]
    assert estate.turn.tools == []


# ---------------------------------------------------------------- accepted calls
async def test_an_accepted_call_runs_moves_the_state_and_is_traced(estate: Rig) -> None:
    raw = {"name": "Dana Whitfield", "phone": "510-482-7391", "area": "oakland", "budget": "$900k"}
    estate.machine.s.confirmed_values["phone"] = "5104827391"  # read back and confirmed earlier
    out = json.loads(await estate.call("save_caller_details", raw))

    assert (out["phone"], out["area"], out["budget"]) == ("5104827391", "Oakland", 900000)
    assert estate.machine.s.state == "search"
    assert estate.machine.s.slots["phone"] == "5104827391" and not estate.machine.s.in_flight
    assert len(estate.changes) == 1
    assert [(t.from_state, t.to_state) for t in estate.changes[0]] == [("qualify", "search")]
    runs = estate.turn.tools
    assert len(runs) == 1 and runs[0].name == "save_caller_details" and runs[0].ok
    assert runs[0].call_id == "fc_1" and runs[0].arguments["phone"] == "5104827391"
    assert runs[0].result == out
    assert [t["to_state"] for t in estate.turn.state.transitions] == ["search"]
    assert estate.turn.planner.rejections == []

    # the next state's tool is now allowed and really reads the sandbox
    listings = json.loads(await estate.call("find_listings", {"area": "Oakland", "max_price": 900000}))
    assert listings["listings"] and estate.machine.s.state == "choose"


async def test_charge_card_is_traced_with_the_last_four_digits_only(insurance: Rig) -> None:
    await insurance.call("verify_identity", {"policy_number": "POL-4821", "date_of_birth": "1984-03-12"})
    quote = json.loads(await insurance.call("get_renewal_quote", {"policy_number": "POL-4821"}))
    assert insurance.machine.s.state == "confirm"
    # the agent states the amount, the caller says yes: only now may the card be charged
    insurance.machine.apply(AgentSpoke(text=f"To confirm, I'll charge {quote['amount_text']} to the card "
                                            "ending in 6467. Shall I go ahead?"))
    insurance.machine.apply(CallerTurn(text="yes go ahead", affirmation=True))

    out = await insurance.call("charge_card", {"policy_number": "POL-4821", "amount_cents": quote["amount_cents"],
                                               "card_number": "4539 1488 0343 6467"})

    assert json.loads(out)["card_last4"] == "6467"
    assert effects(insurance.sandbox)["charges"] == 1 and insurance.machine.s.state == "wrap_up"
    run = next(r for r in insurance.turn.tools if r.name == "charge_card")
    assert run.ok and run.arguments["card_number"] == "•••• 6467"
    digits_only = "".join(c for c in insurance.turn.model_dump_json() + out if c.isdigit())
    assert CARD not in digits_only


async def test_a_card_sent_as_the_amount_is_masked_in_the_rejection_reason(insurance: Rig) -> None:
    """The invariant's reason quotes the amount back; a model that put the card there must not
    get it into the trace in clear (found by the property test below)."""
    await insurance.call("verify_identity", {"policy_number": "POL-4821", "date_of_birth": "1984-03-12"})
    await insurance.call("get_renewal_quote", {"policy_number": "POL-4821"})
    with pytest.raises(ToolError):
        await insurance.call("charge_card", {"policy_number": "POL-4821", "amount_cents": int(CARD),
                                             "card_number": CARD})
    assert insurance.turn.planner.rejections and CARD not in insurance.turn.model_dump_json()
    assert effects(insurance.sandbox)["charges"] == 0


# ---------------------------------------------------------------- any input at all
# real-looking values too, so that some calls validate and take the accepted path
REAL_VALUES = ["Oakland", "Dana Whitfield", "5104827391", "POL-4821", "1984-03-12", "L-101", "2026-11-27",
               "2026-11-27T14:00:00", "caller_request", "tour_booked", CARD, 900000, 128400]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30) | st.sampled_from(REAL_VALUES),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# keys drawn partly from the real argument names, so some dicts get past the first field
ARG_NAMES = sorted({f for spec in TOOLS.values() for f in spec.args_model.model_fields})
ARGS = st.dictionaries(st.sampled_from(ARG_NAMES) | st.text(max_size=12), JSON_VALUES, max_size=6)
# valid arguments of every tool: half the examples overlay the random values of the tool's own
# fields on these, so that calls also reach the state machine and the sandbox instead of all
# failing validation on an unknown field
VALID: dict[str, dict[str, Any]] = {
    "save_caller_details": {"name": "Dana Whitfield", "phone": "5104827391"},
    "find_listings": {"area": "Oakland", "max_price": 900000},
    "check_availability": {"listing_id": "L-101", "date": "2026-11-27"},
    "book_tour": {"listing_id": "L-101", "slot_start": "2026-11-27T14:00:00", "name": "Dana Whitfield",
                  "phone": "5104827391"},
    "update_opportunity": {"phone": "5104827391", "name": "Dana Whitfield", "stage": "tour_booked"},
    "verify_identity": {"policy_number": "POL-4821", "date_of_birth": "1984-03-12"},
    "get_renewal_quote": {"policy_number": "POL-4821"},
    "charge_card": {"policy_number": "POL-4821", "amount_cents": 128400, "card_number": CARD},
    "create_case": {"reason": "caller_request", "summary": "Caller asked for a person."},
}


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as r:
        yield r


@pytest.fixture
def sandboxes(tmp_path: Path) -> Iterator[dict[str, Sandbox]]:
    """One sandbox per flow for all examples (opening one per example would dominate the run)."""
    sbs = {flow: Sandbox.open(tmp_path / f"{flow}.db", SCENARIO_TODAY) for flow in ("real_estate", "insurance")}
    yield sbs
    for sb in sbs.values():
        sb.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_args=ARGS, on_valid=st.booleans())
def test_any_json_arguments_give_a_tool_error_or_json_and_invalid_ones_write_nothing(
        sandboxes: dict[str, Sandbox], runner: asyncio.Runner, random_args: dict[str, Any], on_valid: bool) -> None:
    """Whatever a model sends, the gate answers with a ToolError or JSON, never a crash; and a
    call refused for its arguments changes nothing (counts compared before/after each call,
    since valid examples may legitimately have opened a case in the shared sandbox)."""
    for flow, sb in sandboxes.items():
        rig = Rig(flow, sb)  # a fresh conversation per example, so every call starts in the first state
        for name in TOOLS:
            fields = TOOLS[name].args_model.model_fields
            args = ({**VALID[name], **{k: v for k, v in random_args.items() if k in fields}}
                    if on_valid else random_args)
            before = effects(sb)
            rejections = rig.machine.s.rejections
            try:
                out = runner.run(rig.call(name, args))
            except ToolError as exc:
                body = json.loads(exc.message)
                assert isinstance(body, dict) and body["tool"] == name and body["error"]
                event(f"{flow} {name}: {body['error']}")  # shown by --hypothesis-show-statistics
                if body["error"] == "invalid_arguments":
                    assert effects(sb) == before
                    assert rig.machine.s.rejections == rejections
                    assert rig.turn.planner.rejections[-1].by == "validation"
            else:
                assert isinstance(json.loads(out), dict)
                event(f"{flow} {name}: ran")
            assert not rig.machine.s.in_flight
        assert CARD not in rig.turn.model_dump_json()  # wherever a model put the card, it is masked

