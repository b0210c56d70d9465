"""A card number taken four digits at a time, when the whole number was not heard right.

Why: sixteen digits read in one breath are the hardest thing a caller dictates. Whisper tiny.en
drops or doubles one digit of "four one one one, one one one one, ..." (`bench robustness`: the
card 4111 1111 1111 1111 was never heard right, in any voice), and Luhn says the number is wrong
but not where, so asking for the whole number again fails the same way. Agents on a bad line
take it group by group and say each group back ("4 1 1 1. What are the second four digits?"):
a mishearing then costs one group, not the number, and the caller fixes it at once ("No,
4 1 1 2"). Four digits in one answer are also what the recogniser hears best (decoded against a
four-digit shape after a group question: `worker.engines.whisper_digits`).

Pure functions of the conversation, like the rest of the planner. The collection starts at the
agent's `START` line (said when an answer to the card question held digits but no valid card);
every caller turn after it is an answer to a group: four digits (or eight, twelve: several
groups at once) add groups, a "no" with four digits replaces the group just said back (so does
"no, not 4 1 1 2, 4 1 1 1"), a bare "no" drops it, a whole card that passes Luhn is the card
(read all at once mid-way), an earlier group named by its place replaces that group ("the first
group was 4 5 3 9", said back), "start over" drops the groups heard, anything else adds nothing
(the group is asked again). A caller who cuts in on a group said back answers it though its
question was never heard. Four groups that pass Luhn
are the card; four that do not are asked again from the start once, then a colleague calls back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tools.cards import luhn_ok
from worker.planner.plans import AgentSaid, Plan, ToolCall, UserSaid, call_id
from worker.planner import repair
from worker.reading.tokens import Words
from worker.reading.turn import read_turn
from worker.reading.vocabulary import DIGIT_HOMOPHONES

__all__ = ["MARK", "START", "Progress", "card_number", "group_question", "progress", "step"]

MARK = "group by group"
"""The words that start (or restart) a collection; nothing else the agent says holds them."""
START = f"Let's take the card {MARK}. What are the first four digits?"
RESTART = (f"Sorry, that card number doesn't check out; I must have misheard a group. Let's go {MARK} "
           "once more. What are the first four digits?")
ORDINALS = ("first", "second", "third", "last")
GROUPS = 4
"""Groups of four in a card read this way (the 16-digit cards; an Amex is read whole)."""
_AMEX = ("34", "37")
"""An American Express number starts so: 15 digits in 4-6-5, asked for whole again, not in fours."""
_DIGIT_WORDS = {w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine".split())} | {"oh": "0"}
_SOUND_ALIKES = {w: _DIGIT_WORDS[d] for w, d in DIGIT_HOMOPHONES.items() if d in _DIGIT_WORDS} | {"time": "5"}
_NAMED = re.compile(r"\b(first|second|third) (?:group|four|set|block)\b")
"""A group named by its place ("the first group was 4 5 3 8", "no, the second four are ...")."""
_FROM_THE_START = re.compile(r"\b(?:start (?:over|again)|from the (?:start|beginning|top))\b")
_ANSWER_WORDS = frozenset({"no", "yes", "yeah", "nope", "okay", "ok"})
_NO = frozenset({"no", "nope", "nah", "not", "wrong", "incorrect"})
"""A "no" in words: the meaning's deny alone is not enough ("The last four are 4444." reads as one)."""


def group_question(groups: list[str], at: int | None = None) -> str:
    """The question for the next group, saying back the group just heard ("4 1 1 1. What are
    the second four digits?"; `at`: the group heard, when not the last): digits one by one, so
    the caller can check them."""
    ordinal = ORDINALS[min(len(groups), GROUPS - 1)]
    said = f"{' '.join(groups[-1 if at is None else at])}. " if groups else ""
    return f"{said}What are the {ordinal} four digits?"


def said_digits(words: Words) -> str:
    """The digits a caller said ("fine" among digits is a five), leaving out the count in "the
    second four are ..." / "the last four". A turn of digit sound-alikes only is digits too:
    "Fine, fine, fine, fine." and "Time time time time." are espeak-ng's "five five five five"
    (`bench robustness`), and a group answer holds nothing else."""
    toks = [t for k, t in enumerate(words.toks) if not (k == 0 and t.text in _ANSWER_WORDS)]  # "No, fine, fine, ..."
    if len(toks) >= 3 and all(t.text in _SOUND_ALIKES or t.text in _DIGIT_WORDS for t in toks):
        return "".join(_SOUND_ALIKES.get(t.text) or _DIGIT_WORDS[t.text] for t in toks)
    digits = repair.said_digits(words)
    first = next((t for t in words.toks if t.kind == "num" or t.text in _DIGIT_WORDS), None)
    if len(digits) % 4 == 3 and first is not None and first.text == "oh" and not digits.startswith("0"):
        digits = "0" + digits  # "Oh, three four three.": Whisper's comma made the zero an "oh!"
    return digits


@dataclass
class Progress:
    """The collection since its last start: groups heard, and the card once they pass Luhn."""

    groups: list[str] = field(default_factory=list)
    restarts: int = 0
    """Starts before the last one (a collection whose four groups failed Luhn starts again)."""
    card: str | None = None
    card_turn: int | None = None
    """Index in the items of the caller turn that completed the card."""
    change: str = ""
    """What the caller's latest turn did to the groups: "added", "replaced", "dropped" or ""."""
    said_at: int | None = None
    """The group the caller's latest turn named and changed ("the first group was ..."), when it
    was not the last one: that one is said back."""
    answered_cut: bool = False
    """The caller's latest turn cut in on a collection line before its question was heard
    ("4 1 1 1. What are..." cut at "4 1"): it answers that line all the same."""

    @property
    def failed(self) -> bool:
        """Four groups that do not make a card: one of them was misheard."""
        return len(self.groups) >= GROUPS and self.card is None


def progress(items: list[Any], today: Any) -> Progress | None:
    """The collection in `items` (None: never started)."""
    starts = [i for i, it in enumerate(items) if isinstance(it, AgentSaid) and MARK in it.text]
    if not starts:
        return None
    p = Progress(restarts=len(starts) - 1)
    said_back = False  # the agent's last words said a group back
    cut = False  # ... and the caller cut in on a collection line (its question never heard)
    for i in range(starts[-1] + 1, len(items)):
        it = items[i]
        if isinstance(it, AgentSaid):
            if it.text.strip():
                heard = re.sub(r"\D", "", it.text)
                last = p.groups[-1 if p.said_at is None else p.said_at] if p.groups else ""
                said_back = bool(last) and (last in heard or it.interrupted and bool(heard) and last.startswith(heard))
                cut = it.interrupted and (said_back or _begins_a_group_line(it.text))
            continue
        if not isinstance(it, UserSaid) or p.card is not None or p.failed:
            continue
        before = list(p.groups)
        reading = read_turn(it.text, today)
        digits = said_digits(reading.words)
        said_no = reading.affirmation is False and any(t.text in _NO for t in reading.words.toks)
        named = _NAMED.search(reading.words.said)
        at, p.said_at = p.said_at, None
        if _FROM_THE_START.search(reading.words.said):
            p.groups, before = [], []  # "Let's start over.": the groups so far are gone, not misheard
        if named is not None and ORDINALS.index(named.group(1)) < len(p.groups) - 1 and len(digits) == 4:
            p.said_at = ORDINALS.index(named.group(1))  # an earlier group, corrected by its place
            p.groups[p.said_at] = digits
        elif said_no and said_back and at is not None and at < len(p.groups) and len(digits) == 4:
            p.groups[at], p.said_at = digits, at  # "No, ..." to an earlier group said back
        elif said_no and said_back and at is None and p.groups and len(digits) in (0, 4):
            p.groups[-1:] = [digits] if digits else []
        elif said_no and said_back and at is None and len(digits) == 8 and len(p.groups) < GROUPS:
            wrong, right = digits[:4], digits[4:]
            if wrong == p.groups[-1] and right != wrong:
                p.groups[-1] = right  # "No, it's not 4 1 1 1, it's 4 1 1 2."
            else:
                p.groups[-1:] = [wrong, right]  # "No, 4 1 1 2. And the next is 1 1 1 1."
        elif 13 <= len(digits) <= 19 and luhn_ok(digits):
            p.card, p.card_turn = digits, i  # the whole number, said at once and heard right
        elif digits and len(digits) % 4 == 0 and len(p.groups) * 4 + len(digits) <= GROUPS * 4:
            p.groups += [digits[k:k + 4] for k in range(0, len(digits), 4)]
        if len(p.groups) == GROUPS and luhn_ok("".join(p.groups)):
            p.card, p.card_turn = "".join(p.groups), i
        p.change = ("replaced" if p.said_at is not None else "") if p.groups == before else \
            "added" if len(p.groups) > len(before) else \
            "dropped" if len(p.groups) < len(before) else "replaced"
        said_back, p.answered_cut = False, cut
        cut = False
    return p


def _begins_a_group_line(heard: str) -> bool:
    """Words a collection line starts with (its question cut off by the caller)."""
    heard = heard.strip()
    return any(line.startswith(heard) for line in (START, RESTART, "What are the", "Sorry, I didn't get that."))


def card_number(conv: Any) -> str | None:
    """The newest card the caller gave: read whole in one turn, or completed group by group."""
    p = progress(conv.items, conv.today)
    users = [i for i, it in enumerate(conv.items) if isinstance(it, UserSaid)]
    for i, asked in zip(reversed(users), reversed(conv.asked)):
        if p is not None and p.card_turn == i:
            return p.card
        if asked == "card_group":
            continue  # a group answer is never a card on its own
        value = read_turn(conv.items[i].text, conv.today).slots(asked).card_number
        if value:
            return str(value)
    return None


def step(conv: Any) -> Plan | None:
    """The next line of a card collection, or None when none is going on (or it is done: the
    charge's confirmation follows). A collection starts when the caller answered the card
    question with digits that are no valid card."""
    if "charge_card" not in conv.allowed:
        return None
    latest = conv.reading()
    asked = conv.asked[-1] if conv.asked else None
    if asked == "card_number" and latest.slots(asked).card_number is None:
        said = said_digits(latest.words)
        if len(said) >= 4 and not said.startswith(_AMEX):  # an Amex (4-6-5) does not go in fours
            return Plan(text=f"Sorry, I didn't get the whole number. {START}")
        return None
    p = progress(conv.items, conv.today)
    if p is None or p.card is not None or not (asked == "card_group" or p.answered_cut):
        return None
    if p.failed:
        if p.restarts == 0:
            return Plan(text=RESTART)
        return _callback(conv)
    if p.change == "" and not p.groups and _FROM_THE_START.search(latest.words.said):
        return Plan(text=f"Sure, from the start. {_ask_only(p.groups)}")
    if p.change == "dropped":
        return Plan(text=f"Sorry about that. {_ask_only(p.groups)}")
    if p.change:
        return Plan(text=group_question(p.groups, p.said_at))
    if latest.affirmation is True and p.groups:  # "Yes." to the group said back: the next one, then
        return Plan(text=_ask_only(p.groups))
    return Plan(text=f"Sorry, I didn't get that. {_ask_only(p.groups)}")


def _ask_only(groups: list[str]) -> str:
    """The next group's question, without saying the last group back again."""
    return f"What are the {ORDINALS[min(len(groups), GROUPS - 1)]} four digits?"


def _callback(conv: Any) -> Plan:
    """Two collections failed Luhn: a colleague calls back (a charge on a wrong card is worse)."""
    if "create_case" not in conv.allowed:
        return Plan(text=START)
    args = repair.stuck_case_args("card_number", conv.slots)
    return Plan(text="I'm sorry about the trouble. I'll have a colleague call you back.",
                tool_calls=[ToolCall("create_case", args, call_id(conv.items, "create_case", args))])
