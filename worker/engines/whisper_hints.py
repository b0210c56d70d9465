"""Decoder hints: what the caller's answer looks like when the agent just asked for a slot.

Why: Whisper tiny.en hears "five" as "fine", drops "oh" and merges digit groups when it has no
idea a number is coming; the state machine does know (it just asked for the phone, the card,
the policy number). Whisper's "previous text" prompt is the cheap way to say so: a short line
in the slot's shape makes the words of that slot likelier and the output formatted like the
example. After a digit question the decoder also spells the number out (`numeric`, see
`WhisperTranscriber.numeric_suppress`), so those examples are spelled out too. The prompt is a fixed example per slot, never the caller's
own data, so it cannot leak one caller's number into another's transcript.

Slot names are the reading layer's `expecting` names (`worker.reading.context.ANSWERABLE`);
this module only knows them as strings, so the engines floor imports nothing above it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["DIGIT_QUESTIONS", "EXPECTED_ANSWER", "READ_BACK_SLOTS", "SLOT_PROMPTS", "ExpectedAnswer", "decode_hint", "offered_prompt",
           "slot_asked"]

#: Questions whose answer is a string of digits: decoded with the numeric vocabulary too.
DIGIT_QUESTIONS = frozenset({"phone", "card_number", "card", "card_group", "policy_number", "policy",
                             "phone_read_back"})
#: A digit value's read-back ("I have 4 1 5, 5 5 5, 4 1 9 2. Is that right?"): decoded with the
#: value's example and spelled-out digits, but with no digit count to fit or to wait for, because
#: the answer is "yes", "no" or a part of the number ("No, the last part is 0192.").
READ_BACK_SLOTS = {"phone": "phone_read_back"}

# The examples show the shape of an answer, never a value a caller of ours or a test says: a
# prompt that holds the shipped scenarios' facts (their name, policy, birth date) makes exactly
# those callers sound well heard and nobody else (tests/engines/test_whisper_hints.py checks).
_CARD = "The card number is four two four two, four two four two, four two four two, four two four two."
# the phrasing chosen among five neutral ones on a held-out hearing set (seed 11) and confirmed on
# seeds 12 and 10; with these digits (no test value holds "2960"): 71/80 (seed 11) and 65/80
# (seed 10) policy lines right, vs 62 and 50 for "My policy number is P O L six three nine seven."
_POLICY = "It's policy P O L, two nine six oh."
_NAME = "My name is Ruth Abernathy."
# A word spelled with a word per letter: with no prompt Whisper tiny.en wrote "I'm in my opinion, I'm in
# November, ..." for espeak-ng's "M as in Mike, E as in Echo, N as in November, ...". Spelled words read
# right (six names x six voices, `spelled_word`): 10/36 with no prompt, 15/36 with this one; "Mendes" 4/6 -> 6/6.
# Letter by letter was read right 2-3/36 with any prompt (none, "R, U, T, H.", this one), so the
# spelling questions ask for a word per letter first (`worker.planner.replies.SPELL_NAME`).
_SPELLED = "R as in Romeo, U as in Uniform, T as in Tango, H as in Hotel."
# "oh" said for zero, three times and once twice in a row: with one "oh" in the example ("nine zero
# one, six four three, two eight oh seven") tiny.en dropped an "oh" ("four eight" for "four oh eight"),
# wrote one "oh" for "oh oh", or heard it as "four"/"one". Chosen on a held-out hearing set (seed 11:
# 207 -> 218 of 240 phone lines, against 215-217 for four other wordings) and confirmed on seed 12
# (212 -> 219); docs/recognition.md.
_PHONE = "My number is two oh one, six oh four, three oh oh eight."
SLOT_PROMPTS: dict[str, str] = {
    # digit questions decode spelled out (`numeric`), so their examples are spelled out too
    "phone": _PHONE,
    "phone_read_back": _PHONE,
    "card_number": _CARD,
    "card": _CARD,
    # one group of a card taken four digits at a time (`worker.planner.card_groups`)
    "card_group": "four two four two.",
    "policy_number": _POLICY,
    "policy": _POLICY,
    # no prompt for amounts: "$1,284.50" made Whisper write ".00" and ".50" into amounts (bench)
    "date": "On Tuesday, June 16th.",
    "date_of_birth": "I was born on October 9, 1971.",
    "time": "At 10:15 AM.",
    "address": "The address is 5678 Birch Court.",
    "name": _NAME,
    "spelling_words": _SPELLED,
    "holder_name": _NAME,
    "full_name": _NAME,
}


def decode_hint(expecting: str | None) -> str | None:
    """The initial prompt for an answer to `expecting`, or None (no bias) for other questions."""
    return SLOT_PROMPTS.get(expecting or "")


@dataclass
class ExpectedAnswer:
    """The slot the agent's last question asked for; one per call, updated by the call.

    The STT engine is shared by every call of a process, so the call hands its holder to the
    recognition stream through `EXPECTED_ANSWER` (a context variable set where the call's
    stream is opened; the stream keeps the holder and reads `slot` at each decode).
    """

    slot: str | None = None
    prompt: str | None = None
    """The agent's own words that narrow the answer down (`offered_prompt`: the times it offered);
    used instead of the slot's fixed example when set."""
    agent_talking: Callable[[], bool] | None = None
    """Whether the agent is speaking (or holds a reply paused), read when the caller starts: an
    utterance said over the agent that reads as a backchannel ends at the short pause."""
    group_again: bool = False
    """The agent offered another way for a group of a card ("one digit at a time, slowly?"): the
    answer is that group for the planner, so every sink hides its numbers. Not for the decoder
    (the answer may be a "yes" to the callback offered with it)."""

    def asked(self, slot: str | None, agent_text: str) -> None:
        """The agent's words `agent_text` ask for `slot` (None: for nothing known). The same slot
        asked again in other words ("Which time would you like, for example 10 AM?") keeps the
        offer it follows: the caller still picks from it."""
        prompt = offered_prompt(agent_text, slot) or (self.prompt if slot is not None and slot == self.slot else None)
        self.slot, self.prompt = slot, prompt


_CLOCK = re.compile(r"\b(?:1[0-2]|[1-9])(?::[0-5]\d)? ?[AP]M\b")
# "Which time would you like, for example 10 AM?", "I don't have 11 AM that day.", "11 AM is taken", "I can't
# book 11 AM": no offer
_EXAMPLE = re.compile(r"for example [^.?!,]*|don't have [^.?!,]*|[^.?!,]*is taken[^.?!,]*|can't book [^.?!,]*")


def offered_prompt(agent_text: str, slot: str | None) -> str | None:
    """The prompt for an answer to `agent_text` when the agent offered the choices: its own words
    from the offer on ("On Friday, November 27 I have 10 AM, 11 AM, 12 PM and 2 PM. Which time
    works for you?"), else None (the slot's fixed example stands).

    Why: an answer is mostly one of the times just offered, said the way they were said; with the
    fixed "At 10:15 AM." Whisper tiny.en heard "11 AM works for me." as "The land Renae and Work
    for me." (espeak-ng en-gb) or "Till have day and works for me." (flite awb). Times read right,
    fixed example → the agent's words: 49 → 60 of 63 answers to an offer (seven voices, nine
    answers each), 81 → 82 of 96 on the hearing set's time lines (`bench recognition --kinds
    time`); times that were not offered 30 → 31 of 42, none heard as an offered one. The offer
    as a bare list ("10 AM, 11 AM or 2 PM.") read one more right but made the decoder go on with
    the list in 11 of 96 transcripts ("At 9.45 AM, 2 PM, 2 PM, 2 PM, ..."); the agent's sentence
    did so once. The agent's words come from the calendar, never from another caller."""
    if slot != "time":
        return None
    sentences = [p for p in re.split(r"(?<=[.?!])\s+", agent_text.strip()) if p]
    at = next((i for i, p in enumerate(sentences) if _CLOCK.search(_EXAMPLE.sub("", p))), None)
    return " ".join(sentences[at:]) if at is not None else None


EXPECTED_ANSWER: ContextVar[ExpectedAnswer | None] = ContextVar("mb_expected_answer", default=None)

_ASKED_BY: tuple[tuple[str, str], ...] = (
    (r"word for each letter", "spelling_words"),  # before "your name": "... your name wrong. Could you spell it ..."
    (r"\b(?:first|second|third|last) four digits\b", "card_group"),
    (r"card number|credit card|debit card|which card", "card_number"),
    (r"policy number", "policy_number"),
    # "What's the right number?" asks for the phone again after a "no" (`replies.ask_again`)
    (r"phone number|number to reach|call you back on|your number|the right number", "phone"),
    (r"date of birth|birth ?date|born", "date_of_birth"),
    (r"what time|which time|time works", "time"),
    (r"what day|which day|what date|which date", "date"),
    (r"your name|who am i speaking|name, please", "name"),
    (r"address", "address"),
    (r"budget", "budget"),
)


def slot_asked(agent_text: str) -> str | None:
    """The slot an agent question asks for ("What's the best phone number ...?" → "phone")."""
    low = agent_text.lower()
    if "?" not in low:
        return None
    return next((slot for pattern, slot in _ASKED_BY if re.search(pattern, low)), None)
