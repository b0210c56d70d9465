"""A question asked again at once is put another way (shorter, or with the shape of the answer);
a yes/no question keeps its words and says it needs a yes or a no. The answer to the other
phrasing is read like the answer to the first, and a third ask is still the offer of another way."""

from __future__ import annotations

from tests.planner.driver import TextCall, effects
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.planner.rephrase import YES_OR_NO
from worker.planner.replies import OTHER_WAY

SORRY = "Sorry, I didn't quite get that. "


async def test_a_pushed_back_question_is_put_another_way_then_offered_another_way(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    first = await call.say("Hi, my name is Dana Whitfield.")
    assert first.reply.endswith("What's the best phone number to reach you?")
    again = await call.say("Why do you need that?")
    assert again.reply == SORRY + "What's your phone number, with the area code?"
    third = await call.say("I'd rather not say.")
    assert third.reply == OTHER_WAY and third.tools == []


async def test_the_birth_date_asked_again_has_an_example_and_its_answer_is_read(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.say("4821")
    again = await call.say("um")
    assert again.reply == SORRY + "What's your date of birth, for example March 5, 1980?"
    verified = await call.say("March 12, 1984")
    assert call.succeeded("verify_identity")[0].args["date_of_birth"] == "1984-03-12"
    assert "you're verified" in verified.reply


async def test_the_card_asked_again_says_how_and_its_answer_is_read(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["4821", "March 12, 1984"])
    again = await call.say("Mastercard")
    assert again.reply == SORRY + "Could you read me the card number, four digits at a time?"
    confirm = await call.say("4111 1111 1111 1111")
    assert confirm.reply.endswith("card ending in 1111. Shall I go ahead?")


async def test_an_unclear_answer_to_the_charge_asks_for_a_yes_or_a_no_and_a_yes_charges(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["4821", "March 12, 1984", "4111 1111 1111 1111"])
    question = "To confirm, I'll charge $1,284.00 to the card ending in 1111. Shall I go ahead?"
    assert call.turns[-1].reply == question
    unclear = await call.say("Hmm, let me think.")
    assert unclear.reply == f"{YES_OR_NO} {question}" and effects(sandbox)["charges"] == 0
    await call.say("Yes.")
    assert len(call.succeeded("charge_card")) == 1


async def test_every_question_asked_twice_in_a_row_changes_its_words(sandbox: Sandbox) -> None:
    tour = ["Hi, my name is Dana Whitfield.", "510 482 7391", "yes", "I'm looking in Oakland",
            "900 thousand", "the one on Grand Avenue tomorrow"]
    for flow, lines in (("real_estate", tour), ("insurance", ["4821", "March 12, 1984"])):
        for upto in range(len(lines) + 1):
            call = TextCall(flow, sandbox, SCENARIO_TODAY)
            await call.run(lines[:upto])
            asked = call.turns[-1].reply if call.turns else call.machine.flow.greeting
            again = await call.say("Hmm.")
            assert again.reply != asked and again.tools == [], (asked, again.reply)
            assert again.reply.startswith("Sorry, I didn't"), again.reply
