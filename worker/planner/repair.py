"""The planner's side of the repair dialogue: answers to a read-back the flow asked for.

The state machine decides *what* must be confirmed and counts the caller's "no"s (see
`worker.flow.readback`); this module reads *how* the caller answered: a partial correction
("the last part is 0192", "the area code is 415") patches the value read back, a plain "no"
asks for the value again, and after the same value was rejected twice the caller is offered
another way (digit by digit, or a colleague's callback) instead of a third identical question.
Pure functions of the words and the directive, like the rest of the planner.
"""

from __future__ import annotations

import re
from typing import Any

from worker.planner import replies
from worker.planner.plans import AgentSaid, Called, Item, Plan, ToolCall, UserSaid, call_id
from worker.reading.numbers import number_chunks
from worker.reading.tokens import Words, with_digit_homophones
from worker.reading.turn import read_turn

#: Where a partial correction goes, by what the caller called the part they corrected.
_HEAD = re.compile(r"\b(?:area code|first (?:part|three|3|bit|digits|group)|starts? with|beginning)\b")
_MIDDLE = re.compile(r"\b(?:middle(?: part| bit| three| 3| group)?|second (?:part|group)|exchange)\b")
_TAIL = re.compile(r"\b(?:last (?:part|four|4|bit|digits|group|three|3)|ends? (?:in|with)|ending(?: in| with)?|end)\b")
_CUE_WORDS = frozenset({"first", "second", "third", "last", "next"})

#: After this many rejected read-backs of one value, offer another way; one more, open a case.
OFFER_AFTER = 2
CASE_AFTER = 3


def said_digits(words: Words) -> str:
    """The digits said ("fine" among digits is a five), leaving out the count in "the last
    four" / "the first three" / "the second four" (a part of a phone, a group of a card)."""
    words = with_digit_homophones(words)
    toks = words.toks
    skip = [k > 0 and toks[k - 1].text in _CUE_WORDS and t.text in ("three", "four", "3", "4")
            for k, t in enumerate(toks)]
    return "".join(c.digits for c in number_chunks(words.text, toks, skip))


_OH_AS_A = re.compile(r"\b(?:last|end|final) (?:part|bit|group|four|digits) (?:is|are|should be) a\b")


def patch_digits(current: str, words: Words) -> str | None:
    """The value read back with the part the caller corrected replaced, or None when the turn
    is not a partial correction. A bare group of four after a "no" is the end of the number."""
    low = words.text
    digits = said_digits(words)
    if len(digits) == 3 and _OH_AS_A.search(low):
        digits = "0" + digits  # "the last part is a 1-9 too": Whisper's "a" for "oh" (flite rms)
    n = len(digits)
    if not current or not 3 <= n < len(current):
        return None
    if _HEAD.search(low):
        pos = 0
    elif _MIDDLE.search(low) and len(current) == 10 and n == 3:
        pos = 3
    elif _TAIL.search(low) or n == 4:
        pos = len(current) - n
    else:
        return None
    return current[:pos] + digits + current[pos + n:]


def offers_made(agent_texts: list[str]) -> int:
    return sum(replies.is_offer(t) for t in agent_texts)


def read_back_step(read_back: dict[str, Any], agent_texts: list[str]) -> str:
    """What to do about a value still unconfirmed: `ask` (read it back), `offer` another way,
    or open a `case` for a callback."""
    misheard = int(read_back.get("misheard") or 0)
    if misheard >= CASE_AFTER:
        return "case"
    if misheard >= OFFER_AFTER and offers_made(agent_texts) < misheard - OFFER_AFTER + 1:
        return "offer"
    return "ask"


def was_asked(read_back: dict[str, Any] | None, last_agent_text: str, interrupted: bool = False) -> bool:
    """The agent's last words were this read-back (or the offer of another way, or the request
    for the right value after a "no"), or began it when the caller cut in (a "no" said over "I have 4 1 5, 5 5 5, …" answers it)."""
    if not read_back:
        return False
    question = str(read_back["question"])
    if question in last_agent_text or replies.is_offer(last_agent_text):
        return True
    if replies.ask_again(str(read_back["slot"])) in last_agent_text:
        return True  # "What's the right number?" after a "no": "the last part is 0192" patches it
    return interrupted and cut_into(question, last_agent_text)


def cut_into(question: str, heard: str) -> bool:
    """What the caller heard of a reply ends in the beginning of `question` (its first three
    words at least): the caller cut in while it was being asked."""
    head = " ".join(question.split()[:3])
    at = heard.find(head) if head else -1
    return at >= 0 and question.startswith(heard[at:].strip())


def case_args(slot: str, misheard: int, slots: dict[str, Any]) -> dict[str, Any]:
    """A callback case when a value could not be confirmed: the unconfirmed value stays out."""
    args = {"reason": "other",
            "summary": f"Could not confirm the caller's {slot.replace('_', ' ')} after {misheard} read-backs; "
                       "please call back.",
            "name": slots.get("name") if slot != "name" else None,
            "policy_number": slots.get("policy_number")}
    return {k: v for k, v in args.items() if v is not None}


def _last_sentence(text: str) -> str:
    parts = [p for p in re.split(r"(?<=[.?!])\s+", text.strip()) if p]
    return parts[-1] if parts else ""


def repeat_step(reply: str, agent_texts: list[str], done_question: str = "") -> str:
    """The same question asked twice without progress is not asked a third time: `offer`
    another way; if the caller is still not understood after the offer, open a `case`.
    Anything else: `ask`."""
    question = _last_sentence(reply)
    # "Which card would you like to pay with? Please read me the number." asks as well
    if "?" not in reply or (done_question and question == done_question):
        return "ask"
    # "What's your policy number?" and "Can I have your policy number?" ask the same thing
    tail = " ".join(question.lower().split()[-3:])
    other = replies.asked_differently(reply)  # the second ask put it another way (`rephrase.py`)
    other_tail = " ".join(_last_sentence(other).lower().split()[-3:]) if other else ""

    def asks(text: str) -> bool:
        low = text.strip().lower()
        return low.endswith(tail) or bool(other_tail) and low.endswith(other_tail)

    recent = agent_texts[-4:]
    if any(replies.is_offer(t) for t in recent) and recent and asks(recent[-1]):
        return "case"
    if len(agent_texts) >= 2 and all(asks(t) for t in agent_texts[-2:]):
        return "offer"
    return "ask"


def stuck_case_args(what: str, slots: dict[str, Any]) -> dict[str, Any]:
    args = {"reason": "other",
            "summary": f"Could not understand the caller's {what.replace('_', ' ')} after several tries; please call back.",
            "name": slots.get("name") or slots.get("holder_name"), "phone": slots.get("phone")
            if slots.get("phone") and what != "phone" else None, "policy_number": slots.get("policy_number")}
    return {k: v for k, v in args.items() if v is not None}


DIGIT_SLOTS = frozenset({"phone", "policy_number", "card_number", "card_group"})
NAME_SLOTS = frozenset({"name", "holder_name", "full_name"})


def offer_kind(expecting: str | None, question: str) -> str:
    """Which other way fits what is being asked: digits one at a time, a birth date as month,
    day and year, a name spelled, a listing by position, or just other words."""
    if expecting in DIGIT_SLOTS:
        return "digits"
    if expecting == "date_of_birth":
        return "date"
    if expecting in NAME_SLOTS:
        return "spell"
    if "homes" in question.lower() or "listing" in question.lower():
        return "listing"
    return "words"


# ---------------------------------------------------------------- plans (`conv`: policy.Conversation)
def not_a_third_time(conv: Any, step: Plan) -> Plan:
    """Never the same question a third time in a row: offer another way, then a callback."""
    if step.tool_calls or not step.text or replies.is_narrowed(step.text):
        return step  # the offer narrowed to a part of the day is progress (`narrowing`), said once
    verdict = repeat_step(step.text, texts_without_progress(conv.items), str(conv.d.get("done_question") or ""))
    if verdict == "offer":
        return Plan(text=replies.other_way(offer_kind(conv.expecting, step.text)))
    if verdict == "case" and "create_case" in conv.allowed:
        args = stuck_case_args(conv.expecting or "details", conv.slots)
        return Plan(text="I'm sorry about the trouble. I'll have a colleague call you back.",
                    tool_calls=[ToolCall("create_case", args, call_id(conv.items, "create_case", args))])
    return step


def yes_to_the_callback(conv: Any) -> Plan | None:
    """A plain "yes" right after the offer of another way (which ends with the callback offer)
    takes the callback; a read-back's offer is answered in `read_back_case`. None otherwise, and
    when the "yes" came with a value (that is the other way taken)."""
    if conv.d.get("read_back") or not replies.is_offer(conv.last_agent_text()) or "create_case" not in conv.allowed:
        return None
    latest = conv.latest()
    values = latest.model_dump(exclude_none=True, exclude={"affirmation", "wants_human", "goodbye"})
    if latest.affirmation is not True or any(v not in (False, "", []) for v in values.values()):
        return None
    args = stuck_case_args(conv.expecting or "details", conv.slots)
    return Plan(text="Of course. I'll have a colleague call you back.",
                tool_calls=[ToolCall("create_case", args, call_id(conv.items, "create_case", args))])


_BOOK_FOR = re.compile(r"^Shall I book .+ for (.+)\?$")


_NAME_AS = re.compile(r"I have your name as (.+?)\. Is that right\?")


def _name_read_back(text: str) -> str | None:
    """The name in a read-back: the booking's ("Shall I book … for X?") or the name's own."""
    m = _BOOK_FOR.search(_last_sentence(text)) or _NAME_AS.search(text)
    return m.group(1).strip() if m else None


def rejected_names(conv: Any) -> set[str]:
    """Names the caller said no to when they were read back (the booking's or the name's own)."""
    out: set[str] = set()
    asked: str | None = None
    for it in conv.items:
        if isinstance(it, AgentSaid):
            asked = _name_read_back(it.text)
        elif isinstance(it, UserSaid):
            if asked and read_turn(it.text, conv.today).affirmation is False:
                out.add(asked.lower())
            asked = None
    return out


def heard_a_rejected_name_again(conv: Any) -> bool:
    """After a "no" to a name's read-back, the caller's name was heard as one they already
    turned down, or two names were turned down already ("Menz", "Mense", "Menz", ... went back
    and forth six times in bench robustness): reading it back once more cannot help, spelling it can."""
    name = conv.latest().name
    if not name or _name_read_back(conv.last_agent_text()) is None:
        return False
    rejected = rejected_names(conv)
    return str(name).lower() in rejected or len(rejected) >= 2


def spell_name(conv: Any, prefix: str = "") -> Plan:
    """The name rejected at the booking's read-back and heard the same again: ask to spell it
    with a word per letter, then letter by letter; rejected after both, a colleague calls back
    (a booking under a wrong name is worse than none)."""
    spelled = sum(replies.asked_to_spell(t) for t in conv.agent_texts())
    if spelled == 0:
        return Plan(text=prefix + replies.SPELL_NAME)
    if spelled == 1 or "create_case" not in conv.allowed:
        return Plan(text=prefix + replies.SPELL_NAME_LETTERS)
    args = case_args("name", spelled, conv.slots) | ({"phone": conv.slots["phone"]} if conv.slots.get("phone") else {})
    return Plan(text="I'm sorry about the trouble. I'll have a colleague call you back.",
                tool_calls=[ToolCall("create_case", args, call_id(conv.items, "create_case", args))])


def read_back_case(conv: Any, read_back: dict[str, Any]) -> Plan:
    if "create_case" not in conv.allowed:
        return Plan(text=replies.ask_again(str(read_back["slot"])))
    args = case_args(str(read_back["slot"]), int(read_back.get("misheard") or 0), conv.slots)
    return Plan(text="I'm sorry about the trouble. I'll have a colleague call you back.",
                tool_calls=[ToolCall("create_case", args, call_id(conv.items, "create_case", args))])


def said_since_a_tool(items: list[Item]) -> list[str]:
    """The agent's replies since a tool last ran, newest first (for a time: the offer in force)."""
    out: list[str] = []
    for it in reversed(items):
        if isinstance(it, Called):
            break
        if isinstance(it, AgentSaid):
            out.append(it.text)
    return out


def texts_without_progress(items: list[Item]) -> list[str]:
    """The agent's replies since a tool last ran: a caller who gave anything usable (a saved
    detail, a search) is not stuck, even if the same question comes back."""
    out: list[str] = []
    for text in said_since_a_tool(items):
        out.append(text)
        if _GROUP_SAID_BACK.match(text):
            break  # a group of the card was heard: asking for the next one is progress
        if replies.is_narrowed(text):
            break  # the caller's part of the day narrowed the offer: a new offer
    return out[::-1]


#: The agent saying back a group of a card taken four digits at a time (`card_groups`).
_GROUP_SAID_BACK = re.compile(r"(?:\d ){3}\d\. What are the")


def confirmed(conv: Any, template: str, args: dict[str, Any]) -> bool:
    """The caller said yes right after hearing the confirmation question."""
    if not conv.user_texts:
        return False
    asked = replies.fill(template, conv.slots, args)
    said = conv.last_agent_text()
    # the next free time offered after the caller's was taken already read the new time back
    offered = bool(args.get("slot_start")) and replies.next_free([str(args["slot_start"])], "") in said
    if said.strip() != asked.strip() and asked.strip() not in said and not offered:
        return False
    return conv.latest().affirmation is True


def respelled_name(current: str, spelled: str) -> str:
    """The name with the word the caller spelled put in place of the word it corrects (the most
    similar one: "Gaina Whitfield" + "Dana" → "Dana Whitfield"); a spelled whole name replaces it."""
    from difflib import SequenceMatcher

    words = current.split()
    if not words:
        return spelled
    if len(spelled) > max(len(w) for w in words) + 3:
        return spelled
    best = max(range(len(words)), key=lambda i: SequenceMatcher(None, words[i].lower(), spelled.lower()).ratio())
    words[best] = spelled
    return " ".join(words)
