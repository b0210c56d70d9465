"""Whole conversations at text level: planner ⇄ state machine ⇄ sandbox tools, no audio.

The e2e tests prove the same calls through Whisper and Piper in a minute; these prove the
conversation logic alone in milliseconds, including the variants speech recognition produces
("5-1-0", "$900,000", "2pm") and the turns that must *not* cause an effect (a "no" to a charge,
a mumble, a request for a person).
"""

from __future__ import annotations

import pytest

from tests.planner.driver import TextCall, effects
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox

TOUR = [
    "Hi, my name is Dana Whitfield.",
    "five one oh, four eight two, seven three nine one",
    "yes",  # the number read back
    "Oakland, budget 900 thousand",
    "the one on Grand Avenue tomorrow",
    "2 pm",
    "yes please",  # the day, time and name read back
    "no that's all bye",
]

RENEWAL = [
    "4821",
    "March 12th, 1984",
    "4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 7",
    "yes go ahead",
    "bye",
]
CARD = "4539148803436467"


async def test_tour_booking_books_exactly_once_and_ends_done(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR)

    assert effects(sandbox) == {"bookings": 1, "charges": 0, "cases": 0, "opportunities": 1}
    assert call.state == "done" and call.machine.s.ended
    assert call.machine.s.rejections == 0
    assert [t.name for t in call.succeeded()] == [
        "save_caller_details", "save_caller_details", "save_caller_details",
        "find_listings", "check_availability", "book_tour", "update_opportunity",
    ]
    booked = call.succeeded("book_tour")[0].args
    assert booked == {"listing_id": "L-101", "slot_start": "2026-11-27T14:00:00",
                      "name": "Dana Whitfield", "phone": "5104827391"}
    assert call.succeeded("update_opportunity")[0].args["stage"] == "tour_booked"
    assert call.turns[-1].reply == "Thanks for calling. Goodbye!"


async def test_insurance_renewal_charges_exactly_once_and_ends_done(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    turns = await call.run(RENEWAL)

    assert effects(sandbox) == {"bookings": 0, "charges": 1, "cases": 0, "opportunities": 0}
    assert sandbox.payments.count_charges(policy_number="POL-4821") == 1
    assert call.state == "done" and call.machine.s.ended
    # a bare "4821" answers "What's your policy number?": it must not be asked again
    assert "policy number" not in turns[0].reply.lower()
    verify = call.succeeded("verify_identity")[0].args
    assert verify == {"policy_number": "POL-4821", "date_of_birth": "1984-03-12"}
    charge = call.succeeded("charge_card")[0]
    assert charge.args["amount_cents"] == call.succeeded("get_renewal_quote")[0].result["amount_cents"]
    # the charge waits for the caller's yes to the amount, read back with the last four only
    assert turns[2].tools == [] and "$1,284.00" in turns[2].reply and "6467" in turns[2].reply
    assert CARD not in " ".join(t.reply for t in turns)


async def test_whisper_style_transcripts_book_the_same_tour(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run([
        "Hi, my name is Dana Whitfield.",
        "It's 5-1-0, 4-8-2, 7-3-9-1",
        "Yes, that's right.",
        "I'm looking in Oakland, $900,000.",
        "The one on Grand Avenue, tomorrow please.",
        "2pm works for me.",
        "Yes.",
        "No, that's all. Thanks, bye.",
    ])

    assert effects(sandbox)["bookings"] == 1
    assert call.state == "done"
    slots = call.machine.s.slots
    assert (slots["phone"], slots["budget"], slots["area"]) == ("5104827391", 900000, "Oakland")
    assert call.succeeded("book_tour")[0].args["slot_start"] == "2026-11-27T14:00:00"


async def test_several_details_in_one_turn_are_saved_in_one_call(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    first = await call.say("Hi, I'm Dana Whitfield, my number is 510 482 7391, "
                           "I'm looking in Oakland with a budget of 900 thousand")

    saves = [t for t in first.tools if t.name == "save_caller_details"]
    assert len(saves) == 1
    assert saves[0].args == {"name": "Dana Whitfield", "phone": "5104827391", "budget": 900000, "area": "Oakland"}
    # nothing left to ask but the read-back of the number; a yes goes on to search and offers
    assert [t.name for t in first.tools] == ["save_caller_details"]
    assert call.state == "qualify" and first.reply.endswith("5 1 0, 4 8 2, 7 3 9 1. Is that right?")
    second = await call.say("yes")
    assert [t.name for t in second.tools] == ["find_listings"]
    assert call.state == "choose" and "Grand Ave" in second.reply

    await call.run(["the one on Grand Avenue tomorrow", "2 pm", "yes", "no that's all, bye"])
    assert effects(sandbox)["bookings"] == 1 and call.state == "done"


@pytest.mark.parametrize("flow, before", [
    ("real_estate", ["Hi, my name is Dana Whitfield."]),
    ("insurance", []),
])
async def test_asking_for_a_person_opens_one_case_and_hands_off(sandbox: Sandbox, flow: str,
                                                                 before: list[str]) -> None:
    call = TextCall(flow, sandbox, SCENARIO_TODAY)
    await call.run(before)
    turn = await call.say("can I talk to a real person")

    cases = [t for t in turn.tools if t.name == "create_case"]
    assert len(cases) == 1 and cases[0].ok and cases[0].args["reason"] == "caller_request"
    assert effects(sandbox) == {"bookings": 0, "charges": 0, "cases": 1, "opportunities": 0}
    assert call.state == "handoff" and call.machine.s.ended
    case_id = cases[0].result["case_id"]
    assert case_id in turn.reply  # the farewell gives the caller the case number
    if flow == "real_estate":
        assert cases[0].args["name"] == "Dana Whitfield"


@pytest.mark.parametrize("flow", ["real_estate", "insurance"])
@pytest.mark.parametrize("mumble", ["uh hmm", "", "   ", "...", "hmm"])
async def test_an_unintelligible_turn_gets_a_sorry_and_no_tool(sandbox: Sandbox, flow: str, mumble: str) -> None:
    call = TextCall(flow, sandbox, SCENARIO_TODAY)
    if flow == "real_estate":
        await call.say("Hi, my name is Dana Whitfield.")
    state, slots = call.state, dict(call.machine.s.slots)

    turn = await call.say(mumble)

    assert turn.tools == []
    assert turn.reply.startswith("Sorry")
    assert turn.reply.endswith("?")  # and it asks again for what it still needs
    assert call.state == state and call.machine.s.slots == slots and not call.machine.s.ended
    assert effects(sandbox) == {"bookings": 0, "charges": 0, "cases": 0, "opportunities": 0}


async def test_no_to_the_charge_confirmation_charges_nothing(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(RENEWAL[:3])
    assert call.state == "confirm"

    refusal = await call.say("no")

    assert refusal.tools == [] and effects(sandbox)["charges"] == 0
    assert call.state == "confirm"
    asked = await call.say("bye")  # a goodbye mid-flow is asked about, not obeyed
    assert call.state == "confirm" and asked.reply.endswith("Is there anything else I can help you with?")
    await call.say("no, bye")
    assert call.state == "done" and effects(sandbox)["charges"] == 0
    assert not call.succeeded("charge_card")


async def test_a_yes_before_the_amount_was_stated_does_not_charge(sandbox: Sandbox) -> None:
    """A "yes" only counts as the answer to the question that stated the amount."""
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(RENEWAL[:2])
    turn = await call.say("yes, charge 4 5 3 9 1 4 8 8 0 3 4 3 6 4 6 7")

    assert effects(sandbox)["charges"] == 0 and not call.succeeded("charge_card")
    assert "Shall I go ahead?" in turn.reply
    await call.say("yes go ahead")
    assert effects(sandbox)["charges"] == 1
