"""Whole tour calls at text level with a caller id: the phone question becomes a confirmation,
and the booking carries the number the caller confirmed or gave instead."""

from __future__ import annotations

from tests.planner.driver import TextCall, effects
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.flow.machine import CallerIdentified
from worker.phone.line import caller_id_slot

CONFIRM = "Is 415 555 0192 the best number to reach you?"
ASK = "What's the best phone number to reach you?"
REST = ["Oakland, budget 900 thousand", "the one on Grand Avenue tomorrow", "2 pm", "yes",  # the tour read back
        "no that's all bye"]


def _call(sandbox: Sandbox, caller_id: str = "+14155550192") -> TextCall:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    known = caller_id_slot(caller_id)
    assert known is not None
    call.machine.apply(CallerIdentified(value=known[0], spoken=known[1]))
    return call


async def test_yes_to_the_caller_id_books_with_it_and_the_number_is_never_asked(sandbox: Sandbox) -> None:
    call = _call(sandbox)
    turns = await call.run(["Hi, my name is Dana Whitfield.", "Yes, that's right.", *REST])
    assert turns[0].reply.endswith(CONFIRM), turns[0].reply
    assert all(ASK not in t.reply for t in turns)
    assert "area" in turns[1].reply.lower() and "sorry" not in turns[1].reply.lower(), turns[1].reply
    assert call.machine.s.confirmed == {"phone": "caller_id"}
    booked = call.succeeded("book_tour")
    assert len(booked) == 1 and booked[0].args["phone"] == "4155550192"
    assert effects(sandbox)["bookings"] == 1 and call.state == "done"


async def test_no_with_another_number_books_with_the_other_number(sandbox: Sandbox) -> None:
    call = _call(sandbox)
    turns = await call.run(["Hi, my name is Dana Whitfield.", "No, it's five one oh, four eight two, seven three nine one.",
                            "yes", *REST])  # the other number is read back
    assert turns[0].reply.endswith(CONFIRM)
    saved = [t for t in turns[1].tools if t.name == "save_caller_details" and t.ok]
    assert saved and saved[0].args["phone"] == "5104827391"
    booked = call.succeeded("book_tour")
    assert len(booked) == 1 and booked[0].args["phone"] == "5104827391"
    assert call.machine.s.confirmed == {}


async def test_a_plain_no_asks_for_the_number(sandbox: Sandbox) -> None:
    call = _call(sandbox)
    turns = await call.run(["Hi, my name is Dana Whitfield.", "No.", "five one oh, four eight two, seven three nine one",
                            "yes", *REST])  # the number given is read back
    assert turns[1].reply.endswith(ASK), turns[1].reply
    booked = call.succeeded("book_tour")
    assert len(booked) == 1 and booked[0].args["phone"] == "5104827391"
