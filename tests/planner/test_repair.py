"""The repair dialogue at text level: read-backs answered with yes, a correction, a partial
correction, a plain no; two mishearings offer another way; a goodbye mid-flow is asked about."""

from __future__ import annotations

import pytest

from tests.planner.driver import TextCall, effects
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.planner.replies import OTHER_WAY


async def _asked_for_phone(sandbox: Sandbox) -> TextCall:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.say("Hi, my name is Dana Whitfield.")
    return call


async def test_the_phone_is_read_back_and_a_yes_moves_on(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    turn = await call.say("415 555 0192")
    assert turn.reply.endswith("I have 4 1 5, 5 5 5, 0 1 9 2. Is that right?")
    nxt = await call.say("yes")
    assert nxt.reply == "Which area are you looking in?"
    assert call.machine.s.confirmed_values["phone"] == "4155550192"


async def test_no_its_replaces_the_value_and_reads_it_back(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.say("415 555 0192")
    turn = await call.say("no, it's 415 555 0193")
    assert call.machine.s.slots["phone"] == "4155550193"
    assert turn.reply.endswith("0 1 9 3. Is that right?")
    await call.say("yes")
    assert call.machine.s.confirmed_values["phone"] == "4155550193"


async def test_just_the_corrected_value_replaces_it(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.say("415 555 0192")
    await call.say("four one five, five five five, oh one nine three")
    assert call.machine.s.slots["phone"] == "4155550193" and call.machine.s.misheard == {"phone": 1}


async def test_a_partial_correction_patches_the_part_named(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.say("415 555 0912")
    turn = await call.say("the last part is 0192")
    assert call.machine.s.slots["phone"] == "4155550192"
    assert turn.reply.endswith("0 1 9 2. Is that right?")
    await call.say("no, the area code is 510")
    assert call.machine.s.slots["phone"] == "5105550192"


async def test_a_plain_no_asks_again(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.say("415 555 0192")
    turn = await call.say("no")
    assert turn.reply == "Sorry about that. What's the right number?" and turn.tools == []
    await call.say("415 555 0193")
    assert call.machine.s.slots["phone"] == "4155550193"


async def test_misheard_twice_offers_another_way_then_a_callback_case(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.say("415 555 0192")
    await call.say("no")
    await call.say("415 555 0193")
    offer = await call.say("no, that's wrong")
    assert offer.reply == OTHER_WAY and offer.tools == []
    await call.say("four, one, five, five, five, five, zero, one, nine, four")
    assert call.machine.s.slots["phone"] == "4155550194"
    last = await call.say("no")
    cases = [t for t in last.tools if t.name == "create_case"]
    assert len(cases) == 1 and cases[0].ok and "phone" not in cases[0].args
    assert call.state == "handoff" and effects(sandbox)["bookings"] == 0


async def test_yes_to_the_callback_offer_opens_a_case(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.run(["415 555 0192", "no", "415 555 0193", "no"])
    turn = await call.say("yes, please have someone call me back")
    assert [t.name for t in turn.tools] == ["create_case"] and call.state == "handoff"


async def test_the_tour_is_read_back_and_a_changed_time_is_asked_again(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.run(["510 482 7391", "yes", "Oakland, 900 thousand", "the one on Grand Avenue tomorrow"])
    asked = await call.say("Two PM, if you have it")
    assert asked.tools == []
    assert asked.reply == "Shall I book Friday, November 27 at 2 PM for Dana Whitfield?"
    refused = await call.say("no")
    assert refused.tools == [] and "Which time" in refused.reply
    again = await call.say("eleven in the morning")
    assert "11 AM" in again.reply and effects(sandbox)["bookings"] == 0
    booked = await call.say("yes")
    assert [t.name for t in booked.tools if t.ok][0] == "book_tour"
    assert call.succeeded("book_tour")[0].args["slot_start"] == "2026-11-27T11:00:00"


async def test_a_wrong_name_in_the_tour_read_back_is_corrected_before_booking(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(["Hi, my name is Carlos Maine des.", "510 482 7391", "yes", "Oakland, 900 thousand",
                    "the one on Grand Avenue tomorrow", "2 pm"])
    fixed = await call.say("no, my name is Carlos Mendes")
    assert "for Carlos Mendes?" in fixed.reply
    await call.say("yes")
    assert call.succeeded("book_tour")[0].args["name"] == "Carlos Mendes"


async def test_bye_with_content_does_not_hang_up(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    turn = await call.say("Bye, my name is Dana Whitfield.")
    assert not call.machine.s.ended and call.state == "qualify"
    assert call.machine.s.slots.get("name") == "Dana Whitfield" and "phone number" in turn.reply


async def test_a_self_correction_books_the_last_day(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.run(["510 482 7391", "yes", "Berkeley — actually Oakland, my budget is 800, sorry, 900 thousand",
                    "the one on Grand Avenue, Tuesday, no, Monday"])
    slots = call.machine.s.slots
    assert (slots["area"], slots["budget"], slots["tour_date"]) == ("Oakland", 900000, "2026-11-30")


async def test_a_person_asked_for_in_other_words_opens_a_case(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    turn = await call.say("could I just speak with one of your realtors instead?")
    assert [t.name for t in turn.tools] == ["create_case"] and call.state == "handoff"


async def test_insurance_birth_date_as_numbers_and_policy_in_pairs(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["forty-eight twenty-one", "3, 12, 84"])
    assert call.succeeded("verify_identity")[0].args == {"policy_number": "POL-4821", "date_of_birth": "1984-03-12"}


async def test_a_value_not_understood_twice_is_not_asked_a_third_time(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    first = await call.say("sure my policy numbers for ate to won")
    assert first.reply.endswith("policy number?")
    offer = await call.say("sure my policy numbers for ate to won")
    assert offer.reply == OTHER_WAY and offer.tools == []
    again = await call.say("mumble mumble")
    assert again.reply.endswith("policy number?") and again.tools == []
    last = await call.say("mumble")
    cases = [t for t in last.tools if t.name == "create_case"]
    assert len(cases) == 1 and cases[0].ok and call.state == "handoff"
    assert effects(sandbox)["charges"] == 0


async def test_understood_after_the_offer_goes_on(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["sure my policy numbers for ate to won", "sure my policy numbers for ate to won"])
    turn = await call.say("four, eight, two, one")
    assert "date of birth" in turn.reply and call.state == "verify"


async def test_a_partial_correction_with_a_misheard_digit_word(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.say("415 555 0912")
    await call.say("no, the last part is oh one nine too")
    assert call.machine.s.slots["phone"] == "4155550192"


async def test_a_caller_who_gave_something_else_is_not_stuck(sandbox: Sandbox) -> None:
    call = await _asked_for_phone(sandbox)
    await call.run(["five one oh four", "yes"])  # not understood twice: the offer
    assert OTHER_WAY in call.turns[-1].reply
    area = await call.say("I'm looking in Oakland, budget 900 thousand")
    assert [t.name for t in area.tools] == ["save_caller_details"]
    nxt = await call.say("the one on Grand Avenue")
    # asked again at once, in other words
    assert nxt.tools == [] and nxt.reply == "Sorry, I didn't quite get that. What's your phone number, with the area code?"
    assert call.state == "qualify"


async def test_a_name_heard_wrong_twice_is_spelled_and_patched(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(["Hi, my name is Gaina Whitfield.", "510 482 7391", "yes", "Oakland, 900 thousand",
                    "the one on Grand Avenue tomorrow", "2 pm"])
    same = await call.say("No, my name is Gaina Whitfield.")  # the same mishearing again
    assert same.reply.endswith("with a word for each letter, like D as in Delta?") and same.tools == []
    spelled = await call.say("D, A, N, A.")
    assert call.machine.s.slots["name"] == "Dana Whitfield" and "for Dana Whitfield?" in spelled.reply
    await call.say("yes")
    assert call.succeeded("book_tour")[0].args["name"] == "Dana Whitfield"


async def test_yes_not_right_is_unclear_and_the_number_is_read_back_again(sandbox: Sandbox) -> None:
    # "Yes, that's right." with "that's" misheard as "not": neither a confirmation nor a "no"
    call = await _asked_for_phone(sandbox)
    await call.say("510 482 7391")
    turn = await call.say("Yes, not right.")
    assert turn.reply == "Sorry, I didn't catch a yes or a no. I have 5 1 0, 4 8 2, 7 3 9 1. Is that right?"
    assert "phone" not in call.machine.s.confirmed_values and call.machine.s.misheard == {}
    await call.say("Yes.")
    assert call.machine.s.confirmed_values["phone"] == "5104827391"


async def _spelled_wrong_once(sandbox: Sandbox) -> tuple[TextCall, str]:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(["Hi, my name is Carlos Mense.", "415 555 0192", "yes", "Oakland, 900 thousand",
                    "the one on College Avenue tomorrow", "11 am", "No, my name is Carlos Menz."])
    same = await call.say("No, my name is Carlos Menz.")  # heard the same again: spell it
    assert same.reply.endswith("like D as in Delta?")
    spelled = await call.say("M T N D T S.")  # "E" heard as "T"
    assert call.machine.s.slots["name"] == "Carlos Mtndts"
    assert spelled.reply.endswith("for Carlos Mtndts?")
    # "Carlos Menz" was turned down already: not read back a third time, spelled again
    again = await call.say("No, my name is Carlos Menz.")
    assert again.tools == [] and call.machine.s.slots["name"] == "Carlos Mtndts"
    return call, again.reply


async def test_a_name_spelled_wrong_is_spelled_again_letter_by_letter(sandbox: Sandbox) -> None:
    call, asked = await _spelled_wrong_once(sandbox)
    assert asked.endswith("Could you spell it once more, letter by letter?")
    keyed = await call.say("M as in Mike, E as in Echo, N as in November, D as in Delta, E as in Echo, S as in Sierra.")
    assert call.machine.s.slots["name"] == "Carlos Mendes" and keyed.reply.endswith("for Carlos Mendes?")
    await call.say("Yes, please go ahead.")
    assert call.succeeded("book_tour")[0].args["name"] == "Carlos Mendes"


async def test_a_name_still_wrong_after_both_spellings_gets_a_callback_not_a_loop(sandbox: Sandbox) -> None:
    call, _ = await _spelled_wrong_once(sandbox)
    await call.say("T as in Mike, E as in Echo, N as in November.")  # heard, but "Carlos Emn" is not it
    last = await call.say("No, my name is Carlos Menz.")
    assert [t.name for t in last.tools] == ["create_case"] and call.state == "handoff"
    assert last.tools[0].args["phone"] == "4155550192" and call.succeeded("book_tour") == []


async def test_a_time_with_a_misheard_two_is_read_as_the_answer_to_which_time(sandbox: Sandbox) -> None:
    # "Two in the afternoon, please." heard as "To in the afternoon, please." (espeak-ng en-gb)
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(["Hi, my name is Dana Whitfield.", "510 482 7391", "yes", "Oakland, 900 thousand",
                    "the one on Grand Avenue tomorrow"])
    assert call.turns[-1].reply.endswith("Which time works for you?")
    turn = await call.say("To in the afternoon, please.")
    assert turn.reply == "Shall I book Friday, November 27 at 2 PM for Dana Whitfield?"


async def test_a_card_never_heard_is_not_asked_for_forever(sandbox: Sandbox) -> None:
    # the card question ends in a statement ("Please read me the number."): it looped 11 times
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(["my policy number is 4821", "March 12th, 1984"])
    assert call.turns[-1].reply.endswith("Please read me the number.")
    replies = [(await call.say("for, uh")).reply for _ in range(4)]
    assert "one digit at a time" in replies[1]
    assert call.state == "handoff" and [t.name for t in call.succeeded()][-1] == "create_case"


async def test_a_name_read_back_turned_down_in_the_same_words_goes_to_spelling(sandbox: Sandbox) -> None:
    # espeak-ng en-us+f3 says "Dana" and Whisper writes "Gaina" every time, with low confidence:
    # "No, my name is Gaina Whitfield" is the caller saying it again and being heard the same,
    # so saying it a third time cannot help; spelling it can
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.say("Hi, my name is Gaina Whitfield.", confidence=0.4)
    await call.run(["510 482 7391", "yes", "Oakland, 900 thousand"])
    assert call.turns[-1].reply.endswith("I have your name as Gaina Whitfield. Is that right?")
    again = await call.say("No, my name is Gaina Whitfield.", confidence=0.4)
    assert again.reply.endswith("Could you spell it for me with a word for each letter, like D as in Delta?")
    assert again.tools == []
    await call.say("D, A, N, A.")
    assert call.machine.s.slots["name"] == "Dana Whitfield"
    await call.run(["the one on Grand Avenue tomorrow", "2 pm"])
    assert "for Dana Whitfield?" in call.turns[-1].reply  # the booking's read-back carries the spelled name
    await call.say("yes")
    assert call.succeeded("book_tour")[0].args["name"] == "Dana Whitfield"


async def test_a_name_read_back_answered_with_another_name_is_read_back_again(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.say("Hi, my name is Gaina Whitfield.", confidence=0.4)
    turn = await call.say("No, my name is Dana Whitfield.", confidence=0.4)
    assert "spell" not in turn.reply and "Dana Whitfield" in turn.reply and call.machine.s.slots["name"] == "Dana Whitfield"


async def test_a_misheard_partial_correction_is_no_yes_and_the_next_one_patches(sandbox: Sandbox) -> None:
    # espeak-ng's "So the last part is oh one nine two." heard as "... is what I do." confirmed
    # the wrong number ("I do"); the correction that followed was then ignored
    call = await _asked_for_phone(sandbox)
    await call.say("It's four one five, five, five, five, four one nine two.")
    turn = await call.say("So the last part is what I do.")
    assert turn.reply == "Sorry about that. What's the right number?" and "phone" not in call.machine.s.confirmed_values
    patched = await call.say("No, the last part is oh one nine two.")
    assert call.machine.s.slots["phone"] == "4155550192" and patched.reply.endswith("0 1 9 2. Is that right?")
    await call.say("Yes.")
    assert call.machine.s.confirmed_values["phone"] == "4155550192"


@pytest.mark.parametrize("said", ["No, the last part is a 1-9 too.", "No, the last part is a one nine two."])
async def test_a_partial_correction_with_oh_heard_as_a(sandbox: Sandbox, said: str) -> None:
    # flite rms's "No, the last part is oh one nine two." (bench robustness)
    call = await _asked_for_phone(sandbox)
    await call.say("It's 415 555-1192.")
    await call.say(said)
    assert call.machine.s.slots["phone"] == "4155550192"


async def test_a_name_heard_two_different_wrong_ways_goes_to_spelling(sandbox: Sandbox) -> None:
    # bench robustness (piper joe): "Carlos Mendes" heard as "Menz", "Mense", "Menz", ... and read
    # back six times between the booking's read-back and the name's own
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(["Hi, my name is Carlos Menz.", "415 555 0192", "yes", "Oakland, 900 thousand",
                    "the one on College Avenue tomorrow", "11 am"])
    assert call.turns[-1].reply.endswith("for Carlos Menz?")
    first = await call.say("No, my name is Carlos Mense.", confidence=0.5)
    assert first.reply.endswith("Is that right?") and "Carlos Mense" in first.reply
    second = await call.say("No, my name is Carlos Menz.", confidence=0.5)
    assert second.reply.endswith("like D as in Delta?") and call.succeeded("book_tour") == []


async def test_a_name_spelled_after_two_rejected_read_backs_is_read_back_not_a_callback(sandbox: Sandbox) -> None:
    # bench robustness (espeak-ng en-us): "Carlos Mendes" heard "Mann", "Manns", "Manns", spelled
    # "M-E-M-E-S", then right with key words; the agent opened a callback case instead of reading it back
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.say("Hi, my name is Carlos Mann.", confidence=0.4)
    await call.say("No, my name is Carlos Manns.", confidence=0.4)
    turn = await call.say("No, my name is Carlos Manns.", confidence=0.4)
    assert turn.reply.endswith("like D as in Delta?")
    turn = await call.say("M-E-M-E-S.", confidence=0.5)
    assert turn.reply.endswith("I have your name as Carlos Memes. Is that right?") and turn.tools[0].name == "save_caller_details"
    turn = await call.say("No, my name is Carlos Manns.", confidence=0.4)
    assert turn.reply.endswith("letter by letter?")
    turn = await call.say("M&M Mike, I am in Echo, M&M November, B&M in Delta, I am in Echo, S&M in Sierra.",
                          confidence=0.5)
    assert turn.reply.endswith("I have your name as Carlos Mendes. Is that right?"), turn.reply
    assert [t.name for t in turn.tools] == ["save_caller_details"]
    await call.say("Yes, that's right.")
    assert call.machine.s.confirmed_values["name"] == "Carlos Mendes" and call.succeeded("create_case") == []
