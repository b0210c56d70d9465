"""A caller who changes her search over the listing read-out ("actually, can you look in Berkeley
instead?") gets a new search on her new terms, not a question about the homes she moved away from."""

from __future__ import annotations

from tests.planner.driver import TextCall
from tests.planner.test_conversations import TOUR
from tests.planner.test_unheard_outcome import cut_reply_containing
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.planner.plans import Called
from worker.planner.redirect import search_again
from worker.planner.replies import search_terms


async def test_a_new_area_said_over_the_listings_searches_again(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:4])  # name, number, yes to its read-back, Oakland under 900 thousand
    cut_reply_containing(call, "I found 3", "I found 3 in Oakland up to $900,000: 1420")

    turn = await call.say("Actually, can you look in Berkeley instead?")

    assert [(t.name, t.args) for t in turn.tools] == [
        ("save_caller_details", {"area": "Berkeley"}),
        ("find_listings", {"area": "Berkeley", "max_price": 900000})]
    assert "2231 Dwight Way" in turn.reply and "Lakeshore" not in turn.reply
    assert call.state == "choose"


async def test_a_new_budget_searches_again_and_the_new_listing_can_be_picked(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:3] + ["Berkeley, budget 900 thousand"])
    cut_reply_containing(call, "I found 1", "I found 1")

    turn = await call.say("No, no, that's not what I want, my budget is one point five million.")
    assert [t.name for t in turn.tools] == ["save_caller_details", "find_listings"]
    assert "1650 Spruce St" in turn.reply

    turn = await call.say("The one on Spruce Street, tomorrow please.")
    assert [(t.name, t.args["listing_id"]) for t in turn.tools] == [("check_availability", "L-202")]


async def test_the_same_terms_do_not_search_again(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:4])

    turn = await call.say("Oakland, yes.")

    assert "find_listings" not in [t.name for t in turn.tools]


def test_search_again_only_after_a_search_and_where_allowed() -> None:
    slots = {"area": "Berkeley", "budget": 900000}
    searched = [Called("c1", "find_listings", {"area": "Oakland", "max_price": 900000})]
    assert search_again(slots, searched, {"find_listings"}) == {"area": "Berkeley", "max_price": 900000}
    assert search_again(slots, [], {"find_listings"}) is None  # the first search is the state's own step
    assert search_again(slots, searched, {"check_availability"}) is None  # e.g. once the times were read
    assert search_again({"area": "Oakland", "budget": 900000}, searched, {"find_listings"}) is None


async def test_a_misheard_budget_is_said_with_the_results_and_the_callers_no_searches_again(sandbox: Sandbox) -> None:
    """bench robustness: "nine hundred thousand" heard as "$500,000" found other homes, without a
    word back. The read-out says the search's terms, so the caller hears the budget and fixes it."""
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:3])
    turn = await call.say("Oakland, budget 500 thousand")  # misheard
    assert "in Oakland up to $500,000" in turn.reply

    turn = await call.say("No, my budget is about 900 thousand dollars.")

    assert [(t.name, t.args) for t in turn.tools] == [
        ("save_caller_details", {"budget": 900000}),
        ("find_listings", {"area": "Oakland", "max_price": 900000})]
    assert "I found 3 in Oakland up to $900,000: " in turn.reply and call.state == "choose"


async def test_a_search_with_nothing_found_says_what_it_searched_for(sandbox: Sandbox) -> None:
    call = TextCall("real_estate", sandbox, SCENARIO_TODAY)
    await call.run(TOUR[:3])
    turn = await call.say("Oakland, budget 100 thousand")
    assert "I couldn't find homes in Oakland up to $100,000." in turn.reply


def test_the_search_terms_said_back() -> None:
    assert search_terms({"area": "Oakland", "max_price": 900000}) == "in Oakland up to $900,000"
    assert search_terms({"area": "Oakland", "max_price": 900000, "bedrooms": 1}) == \
        "in Oakland up to $900,000 with 1 bedroom or more"
    assert search_terms({"area": None, "max_price": 750000.0, "bedrooms": 3}) == "up to $750,000 with 3 bedrooms or more"
    assert search_terms({"max_price": "900000"}) == ""  # never raises on a value the planner did not type
