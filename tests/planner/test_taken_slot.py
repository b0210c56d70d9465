"""Two callers want the same tour slot: the second hears that it was just taken and is offered
the next free one, not "something went wrong… opening a case".

Both calls share one sandbox calendar, as two callers of one deployment do; the first books
the slot between the second's availability check and its booking (the race two concurrent
calls run). Text level: planner ⇄ state machine ⇄ the real sandbox tools.
"""

from __future__ import annotations

from datetime import datetime

from tests.planner.driver import TextCall, effects
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox

NAME, PHONE, SEARCH, CHOOSE = ("Hi, my name is Dana Whitfield.", "five one oh, four eight two, seven three nine one",
                               "Oakland, budget 900 thousand", "the one on Grand Avenue tomorrow")
OTHER = ["Hi, this is Sam Lee.", "four one five, five five five, zero one nine two", "yes", "Oakland, budget 900 thousand",
         "the one on Grand Avenue tomorrow", "2 pm", "yes"]  # each "yes" answers a read-back


async def _ready_to_book(sandbox: Sandbox) -> TextCall:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run([NAME, PHONE, "yes", SEARCH, CHOOSE])  # "yes" to the number read back
    assert call.state == "schedule" and "2 PM" in call.turns[-1].reply, call.turns[-1].reply
    return call


async def test_the_second_caller_hears_the_slot_was_taken_and_books_the_next_free_one(sandbox: Sandbox) -> None:
    second = await _ready_to_book(sandbox)
    first = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await first.run(OTHER)  # the other caller books 2 PM meanwhile
    (taken,) = first.succeeded("book_tour")
    listing, day = taken.args["listing_id"], taken.args["slot_start"][:10]
    free = sandbox.calendar.free_slots(listing, datetime.fromisoformat(day).date())
    expected = min([s for s in free if s.isoformat() > taken.args["slot_start"]] or free)

    await second.say("2 pm")  # the tour is read back; the yes books
    turn = await second.say("yes")
    assert "was just taken by another caller" in turn.reply and "went wrong" not in turn.reply, turn.reply
    assert [(t.name, t.ok) for t in turn.tools] == [("book_tour", False), ("check_availability", True)]
    assert turn.reply.endswith(f"The next free time is {expected.strftime('%-I %p')}. Does that work for you?"), \
        turn.reply
    assert effects(sandbox)["cases"] == 0

    turn = await second.say("Yes, that works.")
    (booked,) = second.succeeded("book_tour")
    assert booked.args["slot_start"] == expected.isoformat() and booked.args["listing_id"] == listing
    await second.say("no that's all bye")
    assert effects(sandbox) == {"bookings": 2, "charges": 0, "cases": 0, "opportunities": 2}
    assert second.state == "done"


async def test_no_to_the_offer_asks_which_time_and_books_the_one_named(sandbox: Sandbox) -> None:
    second = await _ready_to_book(sandbox)
    await TextCall("real_estate", sandbox, SCENARIO_TODAY).run(OTHER)
    await second.run(["2 pm", "yes"])
    turn = await second.say("No.")
    assert turn.reply.endswith("Which time works for you?") and not turn.tools, turn.reply
    await second.run(["12 pm", "yes"])  # the new time is read back
    (booked,) = second.succeeded("book_tour")
    assert booked.args["slot_start"].endswith("T12:00:00")
    assert effects(sandbox)["bookings"] == 2 and effects(sandbox)["cases"] == 0
