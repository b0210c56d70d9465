"""A caller who names only a part of the day ("In the morning, please.": "Eleven" lost by the
recogniser) hears the offer narrowed to that part, not "didn't get that", and the narrowed
question is progress: it does not bring the other way or the callback sooner
(`worker.planner.narrowing`). Text level: planner ⇄ state machine ⇄ the real sandbox tools."""

from __future__ import annotations

from datetime import timedelta

from tests.planner.driver import TextCall, effects
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.engines.whisper_hints import ExpectedAnswer, offered_prompt, slot_asked
from worker.planner.replies import OTHER_WAYS

_TO_THE_TIMES = ["Hi, my name is Dana Whitfield.", "510 482 7391", "yes", "Oakland, 900 thousand"]
#: Free tomorrow: 5830 College Ave (L-102) 10 AM, 11 AM, 12 PM, 2 PM, 3 PM and 4 PM; 412 Grand Ave
#: (L-101) 11 AM, 12 PM, 1 PM, 2 PM and 4 PM (the seeded calendar).
COLLEGE, GRAND = "the one on College Avenue tomorrow", "the one on Grand Avenue tomorrow"
_MISHEARD = "The Atlanta Network is for me."  # "11 AM works for me." (espeak-ng en-gb, bench robustness)
MORNING = "In the morning I have 10 AM and 11 AM. Which time works for you?"


async def _offered(sandbox: Sandbox, listing: str = COLLEGE) -> TextCall:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run([*_TO_THE_TIMES, listing])
    assert call.state == "schedule" and call.turns[-1].reply.endswith("Which time works for you?")
    return call


async def test_morning_narrows_to_the_morning_times_and_the_time_then_said_is_booked(sandbox: Sandbox) -> None:
    call = await _offered(sandbox)
    assert "10 AM, 11 AM, 12 PM and 2 PM" in call.turns[-1].reply
    await call.say(_MISHEARD)
    turn = await call.say("In the morning, please.")  # "Eleven in the morning, please."
    assert turn.reply == MORNING and turn.tools == []
    turn = await call.say("11 AM, please.")
    assert turn.reply == "Shall I book Friday, November 27 at 11 AM for Dana Whitfield?"
    await call.say("Yes, please go ahead.")
    (booked,) = call.succeeded("book_tour")
    assert booked.args["slot_start"].endswith("T11:00:00") and effects(sandbox)["cases"] == 0


async def test_the_afternoon_holds_every_free_afternoon_time_not_only_those_read_out(sandbox: Sandbox) -> None:
    call = await _offered(sandbox)  # read out: the first four free times
    turn = await call.say("Something in the afternoon.")  # noon is neither morning nor afternoon
    assert turn.reply == "In the afternoon I have 2 PM, 3 PM and 4 PM. Which time works for you?"


async def test_one_time_in_that_part_is_put_as_the_booking_question_and_a_yes_books_it(sandbox: Sandbox) -> None:
    tomorrow = SCENARIO_TODAY + timedelta(days=1)
    for slot in sandbox.calendar.free_slots("L-102", tomorrow):
        if slot.hour >= 15:  # other callers took the later afternoon
            sandbox.calendar.book("L-102", slot, "Sam Lee", "4155550192")
    call = await _offered(sandbox)
    turn = await call.say("Something in the afternoon.")
    assert turn.reply == "In the afternoon I have 2 PM. Shall I book Friday, November 27 at 2 PM for Dana Whitfield?"
    await call.say("Yes.")
    (booked,) = call.succeeded("book_tour")
    assert booked.args["slot_start"].endswith("T14:00:00")


async def test_a_no_to_the_one_time_left_asks_which_time_and_books_nothing(sandbox: Sandbox) -> None:
    call = await _offered(sandbox, GRAND)
    turn = await call.say("In the morning, please.")
    assert turn.reply == "In the morning I have 11 AM. Shall I book Friday, November 27 at 11 AM for Dana Whitfield?"
    turn = await call.say("No.")
    assert turn.reply == "Sorry about that. Which time works for you?" and effects(sandbox)["bookings"] == 0


async def test_a_part_of_the_day_with_no_free_time_says_so_and_offers_the_rest(sandbox: Sandbox) -> None:
    call = await _offered(sandbox)
    turn = await call.say("Do you have anything in the evening?")
    assert turn.reply == ("I have nothing in the evening. I have 10 AM, 11 AM, 12 PM and 2 PM. "
                          "Which time works for you?")
    assert (await call.say("2 PM then.")).reply == "Shall I book Friday, November 27 at 2 PM for Dana Whitfield?"


async def test_a_part_of_the_day_with_a_clock_time_is_the_clock_time(sandbox: Sandbox) -> None:
    call = await _offered(sandbox)
    turn = await call.say("Eleven in the morning, please.")
    assert turn.reply == "Shall I book Friday, November 27 at 11 AM for Dana Whitfield?"


async def test_a_yes_to_the_booking_question_that_names_its_part_of_the_day_books_it(sandbox: Sandbox) -> None:
    call = await _offered(sandbox)
    assert (await call.say("11 AM, please.")).reply == "Shall I book Friday, November 27 at 11 AM for Dana Whitfield?"
    turn = await call.say("Yes, the morning is perfect.")  # a yes, not a request to narrow the offer
    assert [t.name for t in turn.tools] == ["book_tour", "update_opportunity"]
    (booked,) = call.succeeded("book_tour")
    assert booked.args["slot_start"].endswith("T11:00:00")


async def test_a_part_of_the_day_the_caller_cannot_do_does_not_narrow_to_it(sandbox: Sandbox) -> None:
    call = await _offered(sandbox)
    turn = await call.say("Not in the morning, please.")
    assert "In the morning I have" not in turn.reply and turn.tools == []


async def test_the_narrowed_question_does_not_bring_the_callback_sooner(sandbox: Sandbox) -> None:
    # bench robustness: offer, misheard, "In the morning, please." → "say it another way" → callback
    misses = ["The land will be in the morning, please.", "The elaborate in the morning, please.", "The elaborate.",
              "Hmm, what?"]  # the same part heard again is no news: it counts like any miss
    plain = await _offered(sandbox)
    plain_misses = (_MISHEARD, "The elaborate.", "The land will be.", "Hmm, what?")
    after_the_offer = [await plain.say(line) for line in plain_misses]
    call = await _offered(sandbox)
    first = await call.say(_MISHEARD)
    assert first.reply == after_the_offer[0].reply == (
        "Sorry, I didn't quite get that. Which time would you like, for example 10 AM?")
    assert (await call.say("In the morning, please.")).reply == MORNING  # not "say it another way"
    after_narrowing = [await call.say(line) for line in misses]
    # the count starts again at the narrowed offer, as at the first: asked again, another way,
    # asked again, and only then a colleague
    assert [t.replies[0] for t in after_narrowing] == [t.replies[0] for t in after_the_offer]  # case ids differ
    assert after_narrowing[1].reply == OTHER_WAYS["words"]
    assert [[r.name for r in t.tools] for t in after_narrowing] == [[], [], [], ["create_case"]]
    assert call.state == "handoff" and call.succeeded("book_tour") == []


def test_the_narrowed_offer_is_a_time_question_and_the_next_answer_is_decoded_against_it() -> None:
    assert slot_asked(MORNING) == "time" and offered_prompt(MORNING, "time") == MORNING
    none = "I have nothing in the evening. I have 10 AM, 11 AM, 12 PM and 2 PM. Which time works for you?"
    assert slot_asked(none) == "time" and offered_prompt(none, "time") == none.split(". ", 1)[1]
    expected = ExpectedAnswer()
    expected.asked("time", "On Friday, November 27 I have 10 AM, 11 AM, 12 PM and 2 PM. Which time works for you?")
    expected.asked(slot_asked(MORNING), MORNING)
    assert expected.prompt == MORNING
    # asked again in other words ("for example 10 AM" is no offer): the narrowed offer stands
    expected.asked("time", "Sorry, I didn't quite get that. Which time would you like, for example 10 AM?")
    assert expected.prompt == MORNING


async def test_a_part_of_the_day_said_with_the_day_narrows_that_days_first_offer(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(_TO_THE_TIMES)
    turn = await call.say("The one on College Avenue, tomorrow morning.")
    assert [t.name for t in turn.tools] == ["check_availability"]
    assert turn.reply == "Let me check the calendar. On Friday, November 27, in the morning I have 10 AM and 11 AM. " \
                         "Which time works for you?"
    assert offered_prompt(call.items[-1].text, slot_asked(call.items[-1].text)) == turn.replies[-1]
    again = await call.say("In the morning, please.")  # the same part again is no news: it counts
    assert again.reply == "Sorry, I didn't quite get that. Which time would you like, for example 10 AM?"
    turn = await call.say("Saturday morning instead?")  # the new day's morning (Saturday: 11 AM only)
    assert [t.name for t in turn.tools] == ["check_availability"]
    assert turn.replies[-1] == "On Saturday, November 28, in the morning I have 11 AM. " \
                               "Shall I book Saturday, November 28 at 11 AM for Dana Whitfield?"
    await call.say("Yes.")
    (booked,) = call.succeeded("book_tour")
    assert booked.args["slot_start"] == "2026-11-28T11:00:00"


GRAND_NO_10 = "I don't have 10 AM that day. I have 11 AM, 12 PM, 1 PM and 2 PM. Which time works for you?"


async def test_a_time_that_is_not_free_is_said_back_and_the_free_times_offered_again(sandbox: Sandbox) -> None:
    # bench robustness: a misheard budget found another home, whose calendar had no 11 AM; the
    # caller's "11 AM works for me." got "Which time would you like, for example 10 AM?"
    call = await _offered(sandbox, GRAND)
    turn = await call.say("10 AM works for me.")
    assert turn.reply == GRAND_NO_10 and turn.tools == []
    prompt = offered_prompt(turn.reply, slot_asked(turn.reply))
    assert prompt is not None and prompt.startswith("I have 11 AM") and "10 AM" not in prompt
    turn = await call.say("11 AM then.")
    assert turn.reply == "Shall I book Friday, November 27 at 11 AM for Dana Whitfield?"
    await call.say("Yes.")
    (booked,) = call.succeeded("book_tour")
    assert booked.args["slot_start"].endswith("T11:00:00")


async def test_a_free_time_not_read_out_is_booked_not_refused(sandbox: Sandbox) -> None:
    call = await _offered(sandbox, GRAND)  # read out: 11 AM, 12 PM, 1 PM and 2 PM; 4 PM is free too
    turn = await call.say("4 PM works for me.")
    assert turn.reply == "Shall I book Friday, November 27 at 4 PM for Dana Whitfield?"


async def test_the_same_time_that_is_not_free_asked_again_does_not_loop(sandbox: Sandbox) -> None:
    call = await _offered(sandbox, GRAND)
    replies = [(await call.say("10 AM works for me.")).reply for _ in range(5)]
    assert replies[0] == GRAND_NO_10 and replies.count(GRAND_NO_10) == 1  # said once per offer
    # heard right again: no "didn't get that" but the nearest free times and another day, then a callback offered
    assert replies[1] == "I'm sorry, 10 AM is taken that day. The closest times are 11 AM and 12 PM. " \
                         "Which time works for you, or would you like another day?"
    assert replies[2] == "I'm sorry, I can't book 10 AM that day. Which time or day would work for you instead? " \
                         "Or I can have a colleague call you back."
    # each still asks for a time: the answer is read as one, decoded with the closest times, never the refused one
    assert offered_prompt(replies[1], slot_asked(replies[1])) == "The closest times are 11 AM and 12 PM. " \
                                                                 "Which time works for you, or would you like another day?"
    assert slot_asked(replies[2]) == "time" and offered_prompt(replies[2], "time") is None
    assert not any("didn't get" in reply for reply in replies)
    assert call.succeeded("book_tour") == [] and call.state == "handoff"  # then the callback
    assert len(call.succeeded("create_case")) == 1


async def test_after_the_nearest_times_a_free_one_books_and_a_yes_to_the_callback_takes_it(sandbox: Sandbox) -> None:
    call = await _offered(sandbox, GRAND)
    await call.say("10 AM works for me.")
    await call.say("10 AM, please.")
    turn = await call.say("Eleven.")  # one of the closest times offered, said bare: read as a time
    assert turn.reply == "Shall I book Friday, November 27 at 11 AM for Dana Whitfield?"

    call = await _offered(sandbox, GRAND)
    for _ in range(3):
        turn = await call.say("10 AM works for me.")
    assert turn.reply.startswith("I'm sorry, I can't book 10 AM that day.")
    turn = await call.say("Yes.")  # to "Or I can have a colleague call you back."
    assert [t.name for t in turn.tools] == ["create_case"] and call.succeeded("book_tour") == []


async def test_the_time_question_asked_again_takes_its_example_from_the_offer(sandbox: Sandbox) -> None:
    call = await _offered(sandbox)
    turn = await call.say("In the afternoon, please.")
    assert turn.reply.startswith("In the afternoon I have 2 PM, 3 PM and 4 PM."), turn.reply
    again = await call.say("The elaborate.")  # misheard
    assert again.reply == "Sorry, I didn't quite get that. Which time would you like, for example 2 PM?"
