"""A card number not heard right in one go is taken four digits at a time, each group said back,
and charged only once the four groups pass Luhn (`worker.planner.card_groups`)."""

from __future__ import annotations

from dataclasses import replace

from tests.planner.driver import TextCall, effects
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.flow.machine import AgentSpoke
from worker.planner import card_groups
from worker.planner.plans import AgentSaid
from worker.planner.replies import REPROMPT

#: Identity checked and quoted: the next question is the card.
_TO_CARD = ["4821", "March 12, 1984"]


async def _at_the_card(sandbox: Sandbox) -> TextCall:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(_TO_CARD)
    assert call.turns[-1].reply.endswith("Please read me the number.")
    return call


async def test_a_card_heard_with_a_digit_missing_is_taken_group_by_group_and_charged(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    turn = await call.say("four one one one, one one one one, one one one, one one one one.")  # 15 ones: fails Luhn
    assert turn.reply == f"Sorry, I didn't get the whole number. {card_groups.START}" and turn.tools == []
    turn = await call.say("Four one one one.")
    assert turn.reply == "4 1 1 1. What are the second four digits?"
    turn = await call.say("one one one one")
    assert turn.reply == "1 1 1 1. What are the third four digits?"
    turn = await call.say("Yes.")  # to the group said back: no group, no apology
    assert turn.reply == "What are the third four digits?"
    turn = await call.say("1111.")
    assert turn.reply == "1 1 1 1. What are the last four digits?"
    turn = await call.say("One, one, one, one.")
    assert turn.reply.endswith("card ending in 1111. Shall I go ahead?") and effects(sandbox)["charges"] == 0
    await call.say("Yes, go ahead.")
    charged = call.succeeded("charge_card")
    assert len(charged) == 1 and charged[0].result["card_last4"] == "1111"


async def test_a_group_said_back_wrong_is_replaced_by_the_callers_no(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("5555 5555 5555 444")
    assert (await call.say("five five five fine")).reply == "5 5 5 5. What are the second four digits?"
    turn = await call.say("five five five six")  # misheard: the caller's second group is 5555
    assert turn.reply == "5 5 5 6. What are the third four digits?"
    turn = await call.say("No, five five five five.")
    assert turn.reply == "5 5 5 5. What are the third four digits?"
    await call.say("5555")
    turn = await call.say("The last four are 4444.")
    assert turn.reply.endswith("card ending in 4444. Shall I go ahead?")
    await call.say("Yes.")
    assert call.succeeded("charge_card")[0].result["card_last4"] == "4444"


async def test_an_answer_without_a_group_asks_for_the_same_group_again(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    await call.say("4111")
    turn = await call.say("Hold on, let me get it out.")
    assert turn.reply == "Sorry, I didn't get that. What are the second four digits?"
    turn = await call.say("one one one")  # three digits: not a group; asked a third time: another way
    assert turn.reply.startswith("I'm sorry, I keep getting that wrong. Could you say it one digit at a time")
    turn = await call.say("One. One. One. One.")
    assert turn.reply == "1 1 1 1. What are the third four digits?"
    turn = await call.say("one one one one, one one one one")  # two groups at once
    assert turn.reply.endswith("card ending in 1111. Shall I go ahead?")


async def test_four_groups_that_fail_luhn_start_again_then_a_colleague_calls_back(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    for group in ("4111", "1111", "1111"):
        await call.say(group)
    turn = await call.say("1112")  # 4111 1111 1111 1112 fails Luhn: a group was misheard
    assert turn.reply == card_groups.RESTART and turn.tools == []
    for group in ("4111", "1111", "1111"):
        await call.say(group)
    turn = await call.say("1113")
    assert [t.name for t in turn.tools] == ["create_case"] and effects(sandbox)["charges"] == 0


async def test_a_whole_card_heard_right_needs_no_groups(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    turn = await call.say("4111 1111 1111 1111")
    assert turn.reply.endswith("card ending in 1111. Shall I go ahead?")
    assert card_groups.MARK not in " ".join(t.reply for t in call.turns)


async def test_a_new_whole_card_after_the_groups_is_the_one_charged(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    for group in ("4111", "1111", "1111", "1111"):
        turn = await call.say(group)
    assert turn.reply.endswith("card ending in 1111. Shall I go ahead?")
    assert (await call.say("No.")).reply == "Sorry about that. What's the right card number?"
    turn = await call.say("5555 5555 5555 4444")
    assert turn.reply.endswith("card ending in 4444. Shall I go ahead?")
    await call.say("Yes.")
    assert call.succeeded("charge_card")[0].result["card_last4"] == "4444"


async def test_a_group_of_digit_sound_alikes_is_the_group(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("5555 5555 5555 444")
    turn = await call.say("Fine, fine, fine, fine.")  # espeak-ng's "five five five five" (bench robustness)
    assert turn.reply == "5 5 5 5. What are the second four digits?"
    turn = await call.say("Time time time time.")
    assert turn.reply == "5 5 5 5. What are the third four digits?"


async def test_a_reprompt_keeps_the_card_question_it_follows(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    call.items.append(AgentSaid(REPROMPT))  # a quiet spell after the question
    turn = await call.say("4111 1111 1111 111")
    assert turn.reply == f"Sorry, I didn't get the whole number. {card_groups.START}"


async def test_an_offer_for_one_group_does_not_end_the_collection_at_the_next(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("5555 5555 5555 444")
    await call.say("5555")
    await call.say("five five")
    turn = await call.say("five five five")
    assert turn.reply.startswith("I'm sorry, I keep getting that wrong. Could you say it one digit at a time")
    assert (await call.say("No, fine, fine, fine, fine.")).reply == "5 5 5 5. What are the third four digits?"
    turn = await call.say("five")  # the next group misheard once: asked again, no callback
    assert turn.reply == "Sorry, I didn't get that. What are the third four digits?" and turn.tools == []


async def test_the_whole_card_said_in_the_middle_of_the_groups_is_the_card(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    await call.say("4111")
    turn = await call.say("Let me just read it all: 4111 1111 1111 1111.")
    assert turn.reply.endswith("card ending in 1111. Shall I go ahead?") and turn.tools == []
    await call.say("Yes.")
    charged = call.succeeded("charge_card")
    assert len(charged) == 1 and charged[0].args["card_number"] == "4111111111111111"


async def test_a_no_over_a_group_said_back_replaces_it_though_its_question_was_cut(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    await call.say("4112")  # misheard: the caller's first group is 4111
    heard = "4 1"  # she cut in on "4 1 1 2. What are the second four digits?" after "4 1"
    at = max(i for i, it in enumerate(call.items) if isinstance(it, AgentSaid))
    call.items[at] = replace(call.items[at], text=heard, interrupted=True)
    call.machine.apply(AgentSpoke(text=heard, interrupted=True))
    turn = await call.say("No, 4 1 1 1.")
    assert turn.reply == "4 1 1 1. What are the second four digits?"
    for group in ("1111", "1111"):
        await call.say(group)
    turn = await call.say("1111")
    assert turn.reply.endswith("card ending in 1111. Shall I go ahead?")


async def test_a_plain_no_over_a_cut_read_back_drops_the_group(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    await call.say("4112")
    at = max(i for i, it in enumerate(call.items) if isinstance(it, AgentSaid))
    call.items[at] = replace(call.items[at], text="4 1 1 2. What", interrupted=True)
    call.machine.apply(AgentSpoke(text="4 1 1 2. What", interrupted=True))
    turn = await call.say("No.")
    assert turn.reply == "Sorry about that. What are the first four digits?" and turn.tools == []


async def test_a_no_with_the_wrong_group_and_the_right_one_replaces_it(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    await call.say("4112")
    turn = await call.say("No, it's not 4 1 1 2, it's 4 1 1 1.")  # not two groups 4112 4111
    assert turn.reply == "4 1 1 1. What are the second four digits?"


async def test_an_earlier_group_corrected_by_its_place_is_replaced_and_said_back(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    await call.say("4538")  # misheard; the caller notices a turn later
    await call.say("1111")
    turn = await call.say("Sorry, the first group was 4 1 1 1.")
    assert turn.reply == "4 1 1 1. What are the third four digits?"
    turn = await call.say("No, 4 1 1 1.")  # the first group said back: a "no" with a group is for it
    assert turn.reply == "4 1 1 1. What are the third four digits?"
    await call.say("1111")
    turn = await call.say("1111")
    assert turn.reply.endswith("card ending in 1111. Shall I go ahead?")
    await call.say("Yes.")
    assert call.succeeded("charge_card")[0].args["card_number"] == "4111111111111111"


async def test_start_over_drops_the_groups_heard_and_asks_for_the_first(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    await call.say("4111")
    await call.say("1112")
    turn = await call.say("Hang on, let's start over.")
    assert turn.reply == "Sure, from the start. What are the first four digits?" and turn.tools == []
    for group in ("4111", "1111", "1111"):
        await call.say(group)
    turn = await call.say("1111")
    assert turn.reply.endswith("card ending in 1111. Shall I go ahead?")


async def test_a_no_with_the_right_group_and_the_next_four_replaces_and_adds(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    await call.say("4111 1111 1111 111")
    await call.say("4111")
    await call.say("1117")  # misheard: the caller's second group is 1111
    turn = await call.say("No, 1 1 1 1. And the next four are 1 1 1 1.")
    assert turn.reply == "1 1 1 1. What are the last four digits?"
    turn = await call.say("1111")
    assert turn.reply.endswith("card ending in 1111. Shall I go ahead?")


async def test_a_misheard_amex_is_asked_for_whole_again_not_in_fours(sandbox: Sandbox) -> None:
    call = await _at_the_card(sandbox)
    turn = await call.say("3782 822463 1000")  # an Amex with a digit lost: 4-6-5 does not go in fours
    assert card_groups.MARK not in turn.reply and "card number" in turn.reply
    turn = await call.say("3782 822463 10005")
    assert turn.reply.endswith("card ending in 0005. Shall I go ahead?")
