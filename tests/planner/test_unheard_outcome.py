"""After a barge-in. What the caller did not hear is not lost: a barge-in that cut a tool's outcome from the reply
gets it said again, briefly, on the next turn, unless the caller moved on to something new; and a
day corrected over the read-out of its times is checked again."""

from __future__ import annotations

from dataclasses import replace

from tests.planner.driver import TextCall
from tests.planner.test_conversations import RENEWAL, TOUR
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.planner.policy import AgentSaid, Output


def cut_reply_containing(call: TextCall, words: str, heard: str) -> None:
    """The reply that said `words` was cut by the caller after `heard`."""
    for i in range(len(call.items) - 1, -1, -1):
        it = call.items[i]
        if isinstance(it, AgentSaid) and words in it.text:
            assert it.text.startswith(heard)
            call.items[i] = replace(it, text=heard, interrupted=True)
            return
    raise AssertionError(f"no reply said {words!r}")


async def test_a_booking_cut_at_youre_booked_to_see_is_told_again(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:7])  # through the yes to the tour read back: booked
    cut_reply_containing(call, "You're booked to see", "All set. You're booked to see")

    turn = await call.say("Did it go through?")

    assert turn.reply.startswith("All set. You're booked to see 412 Grand Ave on Friday, November 27 at 2 PM.")
    assert turn.tools == [] and sandbox.calendar.count_bookings() == 1


async def test_a_receipt_cut_off_is_told_again(sandbox: Sandbox) -> None:
    call = TextCall("insurance", sandbox, SCENARIO_TODAY)
    await call.run(RENEWAL[:4])
    cut_reply_containing(call, "Your receipt number is", "Done. I've charged")

    turn = await call.say("Sorry, what was that?")

    assert "Your receipt number is" in turn.reply and "card ending in 6467" in turn.reply
    assert sandbox.payments.count_charges() == 1


async def test_an_outcome_that_was_heard_is_not_repeated(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:7])  # through the yes to the tour read back: booked
    for i, it in enumerate(call.items):  # cut after the outcome: the caller heard it whole
        if isinstance(it, AgentSaid) and "You're booked to see" in it.text:
            call.items[i] = replace(it, interrupted=True)

    turn = await call.say("Did it go through?")

    assert "booked" not in turn.reply


async def test_new_details_make_it_moot(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:3])  # name, number, yes to its read-back
    await call.say("Oakland, budget 900 thousand")  # listings read out; nothing of an outcome cut
    cut_reply_containing(call, "I found 3", "I found 3 in Oakland up to $900,000: 1420")

    turn = await call.say("the one on Grand Avenue tomorrow")

    assert not turn.reply.startswith("I found")  # a list the caller cut is not read again unasked
    assert [t.name for t in turn.tools] == ["check_availability"]


async def test_a_corrected_day_is_checked_again(sandbox: Sandbox) -> None:
    """'No, Thursday, not Tuesday' after Tuesday's times: Thursday's times, then a booking on Thursday."""
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:4] + ["the one on Grand Avenue on Tuesday"])  # name, number, yes, area
    assert call.succeeded("check_availability")[-1].args["date"] == "2026-12-01"

    turn = await call.say("No, Thursday, not Tuesday.")

    assert [(t.name, t.args["date"]) for t in turn.tools] == [("check_availability", "2026-12-03")]
    assert "Thursday, December 3" in turn.reply
    await call.run(["Eleven AM, book it.", "yes"])  # "yes" to the tour read back
    assert call.succeeded("book_tour")[0].args["slot_start"] == "2026-12-03T11:00:00"


async def test_a_booking_whose_reply_was_cut_before_its_first_word_is_told(sandbox: Sandbox) -> None:
    """She talked over the gap after "Booking that now.": the reply with the outcome was cut
    before any of it played, so the chat holds the filler and the tools' outputs, no outcome."""
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:7])  # through the yes to the tour read back: booked
    booked = next(i for i, it in enumerate(call.items) if isinstance(it, Output) and it.name == "book_tour")
    cut = [it for it in call.items[booked:] if isinstance(it, AgentSaid)]
    assert "You're booked" in cut[0].text
    call.items = [it for it in call.items if not any(it is c for c in cut)]  # the tools ran; none of that was played

    turn = await call.say("Did it go through?")

    assert turn.reply.startswith("All set. You're booked to see 412 Grand Ave on Friday, November 27 at 2 PM.")
    assert turn.tools == [] and sandbox.calendar.count_bookings() == 1
