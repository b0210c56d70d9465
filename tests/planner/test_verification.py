"""Identity checks that fail on a misheard value: a policy number the records do not know, or a
birth date that does not match. The agent reads back what it heard and asks again; after the
second miss it offers another way; after the third, a callback case (never "something went
wrong", never "How can I help you?")."""

from __future__ import annotations

from tests.planner.driver import TextCall, effects
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.planner.replies import OFFER_MARK, OTHER_WAY, other_way
from worker.planner.verification import ASK_BIRTH_DATE_AGAIN, ASK_POLICY_NOT_DATE, misses


async def test_a_policy_number_not_found_is_read_back_and_asked_again(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.say("forty-eight twelve")
    missed = await call.say("March 12, 1984")
    assert [(t.name, t.error) for t in missed.tools] == [("verify_identity", "not_found")]
    assert missed.reply.endswith("I'm sorry, I couldn't verify those details. I heard policy 4 8 1 2. "
                                 "Could you say the four digits of your policy number again?")
    assert "went wrong" not in missed.reply and call.state == "verify" and effects(sandbox)["cases"] == 0
    again = await call.say("forty-eight twenty-one")  # the birth date said before is kept
    assert call.succeeded("verify_identity")[0].args == {"policy_number": "POL-4821", "date_of_birth": "1984-03-12"}
    assert "you're verified" in again.reply and call.state == "confirm"


async def test_a_policy_number_not_found_twice_offers_digits_then_a_callback(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["forty-eight twelve", "March 12, 1984"])
    offer = await call.say("forty-eight twelve")
    assert offer.reply.endswith(f"I still couldn't verify those details with policy 4 8 1 2. {OTHER_WAY}")
    assert [t.name for t in offer.tools] == ["verify_identity"] and effects(sandbox)["cases"] == 0
    last = await call.say("Four. Eight. One. Three.")
    assert [t.name for t in last.tools] == ["verify_identity", "create_case"]
    assert last.tools[0].args["policy_number"] == "POL-4813" and last.tools[1].ok
    assert call.state == "handoff" and effects(sandbox)["cases"] == 1 and effects(sandbox)["charges"] == 0


async def test_the_policy_said_digit_by_digit_after_the_offer_is_verified(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["forty-eight twelve", "March 12, 1984", "forty-eight twelve"])
    turn = await call.say("Four. Eight. Two. One.")
    assert call.succeeded("verify_identity")[-1].args["policy_number"] == "POL-4821"
    assert "you're verified" in turn.reply and effects(sandbox)["cases"] == 0


async def test_a_wrong_birth_date_is_said_and_asked_again(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.say("4821")
    missed = await call.say("March 13, 1984")
    assert missed.reply.endswith("I'm sorry, I couldn't verify those details. I heard March 13, 1984 as your "
                                 "date of birth. Could you tell me your date of birth again?")
    assert "How can I help" not in missed.reply and call.state == "verify"
    again = await call.say("March 12, 1984")
    assert call.succeeded("verify_identity")[-1].args["date_of_birth"] == "1984-03-12"
    assert "you're verified" in again.reply and call.state == "confirm"


async def test_a_birth_date_wrong_twice_offers_another_way_then_a_callback(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["4821", "March 13, 1984"])
    offer = await call.say("March 14, 1984")
    assert offer.reply.endswith(f"I still couldn't verify those details with March 14, 1984. {other_way('date')}")
    assert "date of birth" in offer.reply and effects(sandbox)["cases"] == 0
    last = await call.say("the fifteenth of March, 1984")
    assert [t.name for t in last.tools] == ["verify_identity", "create_case"]
    assert call.state == "handoff" and effects(sandbox)["cases"] == 1
    assert "1984" not in last.tools[1].args["summary"]  # the unverified date stays out of the case


async def test_yes_to_the_callback_offer_opens_the_case_without_another_lookup(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["forty-eight twelve", "March 12, 1984", "forty-eight twelve"])
    turn = await call.say("Yes, please.")
    assert [t.name for t in turn.tools] == ["create_case"] and turn.tools[0].ok
    assert call.state == "handoff" and effects(sandbox)["cases"] == 1


async def test_a_date_said_after_the_digit_offer_is_not_taken_for_the_policy_number(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["forty-eight twelve", "March 12, 1984", "forty-eight twelve"])
    assert call.turns[-1].reply.endswith(OTHER_WAY)
    turn = await call.say("March 12 1984")
    assert turn.tools == [] and turn.reply == ASK_POLICY_NOT_DATE  # no lookup, no callback case
    assert effects(sandbox)["cases"] == 0 and call.state == "verify"
    done = await call.say("Four. Eight. Two. One.")
    assert call.succeeded("verify_identity")[-1].args == {"policy_number": "POL-4821", "date_of_birth": "1984-03-12"}
    assert "you're verified" in done.reply and effects(sandbox)["cases"] == 0


async def test_no_new_value_after_a_failed_check_asks_again_without_counting_a_miss(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["4821", "March 13, 1984"])
    turn = await call.say("the blue one")  # nothing the agent can read as a date
    assert turn.tools == [] and turn.reply == ASK_BIRTH_DATE_AGAIN and misses(call.items, "date_of_birth") == 1
    again = await call.say("March 12, 1984")
    assert "you're verified" in again.reply and effects(sandbox)["cases"] == 0


async def test_a_birth_date_asked_three_times_gets_an_offer_that_fits_a_date(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["4821", "hmm"])
    offer = await call.say("uh")
    assert offer.reply == other_way("date") and "digit" not in offer.reply and offer.tools == []
    assert "month" in offer.reply and offer.reply.endswith(OFFER_MARK)
    turn = await call.say("March. Twelve. Nineteen eighty-four.")  # the month, then the day and the year
    assert call.succeeded("verify_identity")[-1].args["date_of_birth"] == "1984-03-12"
    assert "you're verified" in turn.reply and effects(sandbox)["cases"] == 0


async def test_a_birth_date_miss_does_not_confirm_that_the_policy_exists(sandbox: Sandbox) -> None:
    # a stranger who guesses a policy number and a birth date must not learn that the policy is
    # real: the reply names neither the policy nor "our records", and opens like a not-found
    real = TextCall("insurance", sandbox, SCENARIO_TODAY)
    wrong_date = await real.run(["4821", "March 13, 1984"])
    unknown = TextCall("insurance", sandbox, SCENARIO_TODAY)
    no_policy = await unknown.run(["4812", "March 13, 1984"])
    said = wrong_date[-1].replies[-1]  # after the filler ("Let me pull up your policy.")
    assert "4 8 2 1" not in said and "4821" not in said and "polic" not in said.lower()
    assert "record" not in said.lower() and "match" not in said.lower()
    opening = "I'm sorry, I couldn't verify those details."
    assert said.startswith(opening) and no_policy[-1].replies[-1].startswith(opening)
    second = (await real.say("March 14, 1984")).replies[-1]
    assert "polic" not in second.lower() and "4 8 2 1" not in second and "record" not in second
