"""A plain "No." to a confirmation asks for the right value: after a read-back the caller cut
into, after the charge's confirmation (the card), after a caller id offered as the number. It is
an answer, so never "Sorry, I didn't quite get that."."""

from __future__ import annotations

from dataclasses import replace

from tests.planner.driver import TextCall, effects
from tests.planner.test_caller_id_calls import ASK, _call
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.flow.machine import AgentSpoke
from worker.planner.plans import AgentSaid


async def test_a_plain_no_over_the_read_back_asks_for_the_right_number(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(["Hi, my name is Dana Whitfield.", "415 555 0192"])
    # the caller cut in after "I have 4 1 5, 5 5 5,": the chat holds only what was heard
    heard = "I have 4 1 5, 5 5 5,"
    at = max(i for i, it in enumerate(call.items) if isinstance(it, AgentSaid))
    assert call.items[at].text.startswith(heard)
    call.items[at] = replace(call.items[at], text=heard, interrupted=True)
    call.machine.apply(AgentSpoke(text=heard, interrupted=True))
    turn = await call.say("No.")
    assert turn.reply == "Sorry about that. What's the right number?" and turn.tools == []
    await call.say("415 555 0193")
    assert call.machine.s.slots["phone"] == "4155550193"


async def test_a_plain_no_to_the_charge_asks_for_the_card_and_charges_the_new_one(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["4821", "March 12, 1984", "4111 1111 1111 1111"])
    assert call.turns[-1].reply.endswith("card ending in 1111. Shall I go ahead?")
    turn = await call.say("No.")
    assert turn.reply == "Sorry about that. What's the right card number?" and turn.tools == []
    fixed = await call.say("5555 5555 5555 4444")
    assert fixed.reply.endswith("card ending in 4444. Shall I go ahead?") and effects(sandbox)["charges"] == 0
    await call.say("Yes, go ahead.")
    assert call.succeeded("charge_card")[0].result["card_last4"] == "4444"


async def test_a_plain_no_to_the_caller_id_is_an_answer(sandbox: Sandbox) -> None:
    call = _call(sandbox)
    turns = await call.run(["Hi, my name is Dana Whitfield.", "No."])
    assert turns[1].reply == f"Sorry about that. {ASK}"


async def test_a_plain_no_to_the_tour_read_back_asks_for_another_time(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(["Hi, my name is Dana Whitfield.", "510 482 7391", "yes", "Oakland, 900 thousand",
                    "the one on Grand Avenue tomorrow", "2 pm"])
    turn = await call.say("No.")
    assert turn.reply == "No problem. Which time works better for you?" and effects(sandbox)["bookings"] == 0
