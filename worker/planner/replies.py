"""What the deterministic planner says: short, speakable sentences built from tool results.

Kept apart from the decisions in `policy.py` so wording can change without touching logic.
Replies open with a short clause ("Thanks, Dana.") so speech synthesis can start early.
"""

from __future__ import annotations

import re
import string
from datetime import date, datetime
from typing import Any

from tools import actions


def money(dollars: int | float) -> str:
    return f"${dollars:,.0f}"


def spoken_time(iso: str) -> str:
    return actions.spoken_time(datetime.fromisoformat(iso))


def spoken_day(value: str | date) -> str:
    d = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return actions.spoken_day(datetime.combine(d, datetime.min.time()))


street = actions.street_address


def join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "that"


def fill(template: str, slots: dict[str, Any], args: dict[str, Any]) -> str:
    """Fill `{slot}` fields of a flow's question from slots and the proposed arguments."""
    values = _Blank({**slots, **args})
    card = str(args.get("card_number") or "")
    digits = "".join(c for c in card if c.isdigit())
    if digits:
        values["card_last4"] = digits[-4:]
    start = args.get("slot_start")
    if start:
        values["tour_when"] = f"{spoken_day(str(start))} at {spoken_time(str(start))}"
    return string.Formatter().vformat(template, (), values)


def acknowledge(details: dict[str, Any], known: dict[str, Any]) -> str:
    if details.get("name") and not known.get("name"):
        return f"Thanks, {str(details['name']).split()[0]}."
    return "Got it."


def filler(tool: str) -> str:
    """A short line spoken while a lookup runs, so the caller is never left in silence."""
    return {
        "find_listings": "Let me look that up.",
        "check_availability": "Let me check the calendar.",
        "book_tour": "Booking that now.",
        "verify_identity": "Let me pull up your policy.",
        "get_renewal_quote": "",
        "charge_card": "Processing the payment now.",
        "update_opportunity": "",
    }.get(tool, "One moment.")


def ask_for_arg(tool: str, arg: str, slots: dict[str, Any]) -> str:
    if arg == "slot_start":
        return "Which time works for you?"
    return {
        "listing_id": "Which of those homes would you like to see?",
        "date": "What day would you like to visit?",
        "policy_number": "Can I have your policy number?",
        "date_of_birth": "And your date of birth?",
        "card_number": "Which card would you like to pay with? Please read me the number.",
        "area": "Which area are you looking in?",
        "max_price": "What's your budget?",
    }.get(arg, f"Could you tell me the {arg.replace('_', ' ')}?")


def idle_question(directive: dict[str, Any]) -> str:
    if directive.get("state") == "wrap_up":
        return str(directive.get("done_question") or "Is there anything else I can help you with?")
    return "How can I help you?"


def before_you_go(directive: dict[str, Any]) -> str:
    """The answer to a goodbye said mid-flow: ask whether the caller is done (a goodbye
    after this question ends the call)."""
    return "Before you go: " + str(directive.get("done_question") or "Is there anything else I can help you with?")


REPROMPT = "Are you still there?"
"""Said after a quiet spell (`worker.call.silence`); it asks nothing new: the caller's next words
still answer the question before it."""

#: A word for each letter first, as agents do on a bad line: a letter alone is easily misheard ("E"
#: as "T") and Whisper tiny.en read a name spelled letter by letter right 2-3 times in 36 (six names
#: x six voices), with a word per letter 15 in 36 (`whisper_hints` "spelling_words").
SPELL_NAME = ("I'm sorry, I may have your name wrong. Could you spell it for me with a word for each letter, "
              "like D as in Delta?")
#: The second try letter by letter: said again the same way, a word per letter is misheard the same way.
SPELL_NAME_LETTERS = "Sorry, I still don't have it. Could you spell it once more, letter by letter?"

OFFER_MARK = "Or I can have a colleague call you back."
OTHER_WAY = f"I'm sorry, I keep getting that wrong. Could you say it one digit at a time, slowly? {OFFER_MARK}"
"""Offered after the caller rejected the same read-back twice, instead of asking a third time."""
OTHER_WAYS = {
    "digits": OTHER_WAY,
    "listing": f"I'm sorry, I didn't get which one. You can also say the first, the second or the third one. {OFFER_MARK}",
    "words": f"I'm sorry, I didn't get that. Could you say it another way? {OFFER_MARK}",
    # a date is not a digit string: the month by its name is what a recogniser hears best
    "date": "I'm sorry, I keep getting that wrong. Could you say your date of birth with the month's name, "
            f"then the day and the year, like March 5, 1980? {OFFER_MARK}",
    # a name heard wrong twice the same way: saying it again cannot help, spelling it can
    "spell": f"{SPELL_NAME} {OFFER_MARK}",
}


def other_way(kind: str) -> str:
    """The offer of another way to give a value the agent keeps mishearing (`digits`, `date`,
    `listing`, `spell`, `words`); each ends with the callback offer."""
    return OTHER_WAYS.get(kind, OTHER_WAYS["words"])


def is_offer(text: str) -> bool:
    return OFFER_MARK in text


def asked_to_spell(text: str) -> bool:
    return SPELL_NAME in text or SPELL_NAME_LETTERS in text


_ASK_AGAIN = {"time": "No problem. Which time works better for you?"}


#: A question asked again at once, put another way: shorter, or with the shape of the answer.
#: Found by words of the question; each keeps those words, which the caller's answer is read
#: against (`policy._ASKED_BY`: "policy number", "date of birth", "which time", "card number").
ASKED_DIFFERENTLY = (
    ("policy number", "What are the four digits of your policy number?"),
    ("date of birth", "What's your date of birth, for example March 5, 1980?"),
    ("read me the number", "Could you read me the card number, four digits at a time?"),
    ("card number", "Could you read me the card number, four digits at a time?"),
    ("phone number", "What's your phone number, with the area code?"),
    ("your name", "Could I get your name, first and last?"),
    ("which area", "Which area, a city or a neighborhood?"),
    ("budget", "Roughly what's your budget, in dollars?"),
    ("which time", "Which time would you like, for example 10 AM?"),
    ("what day", "What day would you like, for example tomorrow?"),
    ("which of those homes", "Which of those homes would you like to see: the first, the second or the third?"),
    ("how can i help", "What can I do for you?"),
)


def asked_differently(question: str) -> str | None:
    """`question` put another way (None: no other phrasing known)."""
    low = question.lower()
    return next((other for words, other in ASKED_DIFFERENTLY if words in low), None)


_YES_NO = ("is ", "are ", "shall ", "should ", "did ", "do ", "does ", "was ")


def is_yes_no(text: str) -> bool:
    """The last question of `text` asks for a yes or a no ("Is 415 555 0192 the best number to
    reach you?"), not for a value ("Can I have your policy number?" asks for the number)."""
    questions = [p for p in re.split(r"(?<=[.?!])\s+", text.strip()) if p.endswith("?")]
    return bool(questions) and questions[-1].lower().startswith(_YES_NO)


def ask_again(slot: str) -> str:
    """After a plain "no" to a read-back or a confirmation: ask for the value once more."""
    if slot in _ASK_AGAIN:
        return _ASK_AGAIN[slot]
    what = {"phone": "number", "name": "name"}.get(slot, slot.replace("_", " "))
    return f"Sorry about that. What's the right {what}?"


def farewell(directive: dict[str, Any]) -> str:
    slots = directive.get("slots") or {}
    if directive.get("state") == "handoff":
        case = slots.get("case_id")
        ref = f" Your case number is {case}." if case else ""
        return f"A colleague will call you back shortly.{ref} Goodbye!"
    return "Thanks for calling. Goodbye!"


def slot_taken(iso: str) -> str:
    """The caller's time went to someone else between our check and their booking."""
    return f"I'm sorry, {spoken_time(iso)} was just taken by another caller. Let me see what's still free."


def next_free(free: list[str], taken: str) -> str:
    """Offer the first free slot after the taken one (or the first of the day)."""
    later = [s for s in free if s > taken] or free
    if not later:
        return "That day is now fully booked. Which other day would you like?"
    return f"The next free time is {spoken_time(later[0])}. Does that work for you?"


_NARROWED = re.compile(r"^(?:In the (?:morning|afternoon|evening) I have "
                       r"|I have nothing in the (?:morning|afternoon|evening)\b)")


def narrowed(part: str, within: list[str], rest: list[str], confirm: str = "", day: str = "") -> str:
    """The offer narrowed to the part of the day the caller named (`within`: its free times,
    spoken), or, when none is in it, the other free times (`rest`). One time left is put as the
    booking's yes/no question (`confirm`, filled), as a person would ("Shall I book ... ?").
    `day` ("Friday, November 27") opens it when it is the first offer of that day."""
    times = within or rest
    opening = f"On {day}, in" if day else "In"
    nothing = f"On {day} I" if day else "I"
    said = (f"{opening} the {part} I have {join_words(times[:4])}." if within
            else f"{nothing} have nothing in the {part}, only {times[0]}." if len(times) == 1
            else f"{nothing} have nothing in the {part}. I have {join_words(times[:4])}.")
    return f"{said} {confirm if len(times) == 1 and confirm else 'Which time works for you?'}"


def not_free(heard: str, free: list[str]) -> str:
    """A time asked for that is not free that day, said back, and the free ones offered again
    (the first four, as in the first offer)."""
    return f"I don't have {heard} that day. I have {join_words(free[:4])}. Which time works for you?"


def not_free_again(heard: str, nearest: list[str]) -> str:
    """The same time asked for again: it was heard right, so no "didn't get that"; the free times
    nearest to it (one or two), and another day as the way out. It asks "which time" as the offer
    did, so the answer is read (and decoded) as a time."""
    closest = f"is {nearest[0]}" if len(nearest) == 1 else f"times are {join_words(nearest)}"
    return (f"I'm sorry, {heard} is taken that day. The closest {closest}. Which time works for you, or would you "
            "like another day?")


def not_free_callback(heard: str) -> str:
    """The same time that is not free asked for a third time: a colleague can find the caller a time
    (an offer: a "yes" takes the callback, another time or day goes on)."""
    return f"I'm sorry, I can't book {heard} that day. Which time or day would work for you instead? {OFFER_MARK}"


def is_narrowed(text: str) -> bool:
    """`text` is an offer narrowed to a part of the day (`narrowed`)."""
    return bool(_NARROWED.match(text.strip()))


def search_terms(args: dict[str, Any]) -> str:
    """The search's terms said back ("in Oakland up to $900,000", "with 3 bedrooms or more"): an
    implicit confirmation. A misheard budget or area was searched for without a word back (bench
    robustness: "nine hundred thousand" heard "$500,000" found other homes); said with the results,
    the caller hears it and can correct it ("No, my budget is 900 thousand"), which searches again
    (`redirect`). "" when the arguments name nothing."""
    parts = []
    if args.get("area"):
        parts.append(f"in {args['area']}")
    if isinstance(args.get("max_price"), (int, float)) and args["max_price"] > 0:
        parts.append(f"up to {money(args['max_price'])}")
    if isinstance(args.get("bedrooms"), int) and args["bedrooms"] > 0:
        rooms = args["bedrooms"]
        parts.append(f"with {rooms} bedroom{'' if rooms == 1 else 's'} or more")
    return " ".join(parts)


def on_result(tool: str, result: dict[str, Any], args: dict[str, Any], slots: dict[str, Any]) -> str:
    """One or two sentences that tell the caller what a tool just did."""
    if tool == "find_listings":
        listings = result.get("listings") or []
        terms = search_terms(args)
        if not listings:
            return f"I couldn't find homes {terms}." if terms else "I couldn't find homes there within that budget."
        parts = [f"{street(l['address'])} for {money(l['price'])}" for l in listings]
        return f"I found {len(listings)}{' ' + terms if terms else ''}: {join_words(parts)}."
    if tool == "check_availability":
        free = result.get("slots") or []
        day = spoken_day(args["date"]) if args.get("date") else "That day"
        if not free:
            return f"{day} is fully booked."
        return f"On {day} I have {join_words([spoken_time(s) for s in free[:4]])}."
    if tool == "book_tour":
        when = result.get("slot_start") or args.get("slot_start")
        place = street(result.get("address") or "") or "the home"
        # "All set." first: the voice's first clause is short, so its first audio comes soon (the
        # next clause, "You're booked to see 412 Grand Ave on Friday,", renders while it plays)
        return f"All set. You're booked to see {place} on {spoken_day(when)} at {spoken_time(when)}."
    if tool == "verify_identity":
        if result.get("verified"):
            return f"Thanks, {str(result.get('holder_name') or '').split(' ')[0]}, you're verified.".replace(", ,", ",")
        return "I'm sorry, I couldn't verify those details."
    if tool == "get_renewal_quote":
        return f"Your renewal premium is {result.get('amount_text')} for the next year."
    if tool == "charge_card":
        return (f"Done. I've charged {slots.get('quote_amount_text') or 'the premium'} to the card ending in "
                f"{result.get('card_last4')}. Your receipt number is {result.get('charge_id')}.")
    if tool == "create_case":
        return f"I've opened case {result.get('case_id')}."
    if tool == "save_caller_details" or tool == "update_opportunity":
        return ""
    return "Done."
