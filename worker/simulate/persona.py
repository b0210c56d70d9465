"""Personas: simulated callers that know facts and answer what the agent asks.

A scripted caller says fixed lines whatever the agent asked, so it cannot answer a
read-back or correct a mishearing. A persona declares what the caller knows (name, phone,
area, budget, policy, card ...), how it sounds (`voices.Voice`) and how it behaves
(hesitations, a self-correction, a barge-in, a backchannel, answering read-backs), and
`PersonaAnswers` picks the next line from the agent's last question. Everything here is pure:
the same agent words give the same caller line, so a persona call is reproducible apart from
what the recogniser hears.

`judge` then checks the effects against the persona's *true* facts: a booking with a wrong
phone or name, or a charge of a wrong amount or card, is a wrong effect and fails the call.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from worker.simulate.voices import Voice

_DIGIT_WORDS = ["oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth",
             9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth", 14: "fourteenth",
             15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth", 19: "nineteenth",
             20: "twentieth", 30: "thirtieth"}


#: The agent's offer narrowed to the part of the day the caller named ("In the morning I have
#: 10 AM and 11 AM. Which time works for you?", `worker.planner.narrowing`).
_NARROWED = re.compile(r"\bin the (?:morning|afternoon|evening) i have\b|\bi have nothing in the\b")

_SEARCHED_UP_TO = re.compile(r"(?:i found \d+|couldn't find homes)\b[^:.]*? up to \$([\d,]+)")
"""The budget the agent searched with, as its listing read-out says it back."""
#: A card taken four digits at a time: the group asked for, by its ordinal.
_CARD_GROUP = re.compile(r"\b(first|second|third|last) four digits\b")
_GROUP_AT = {"first": 0, "second": 1, "third": 2, "last": 3}

#: The spelling alphabet a caller uses to spell a word per letter ("M as in Mike").
_KEY_WORDS = dict(zip("abcdefghijklmnopqrstuvwxyz", (
    "Alpha Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliet Kilo Lima Mike November Oscar Papa Quebec "
    "Romeo Sierra Tango Uniform Victor Whiskey X-ray Yankee Zulu").split()))


class Facts(BaseModel):
    """What the caller knows; the truth the call's effects are judged against."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, pattern=r"^\d{10}$")
    area: str | None = Field(None, max_length=60)
    budget: int | None = Field(None, gt=0)
    listing: str | None = Field(None, max_length=60, description="How the caller names the home: 'Grand Avenue'.")
    day: str = Field("tomorrow", max_length=40)
    time: str | None = Field(None, max_length=20, description="'2 PM', as the caller says it.")
    policy_number: str | None = Field(None, pattern=r"^\d{4,8}$")
    date_of_birth: date | None = None
    card_number: str | None = Field(None, pattern=r"^\d{13,19}$")
    premium_cents: int | None = Field(None, gt=0, description="The renewal the caller expects to pay.")


class Behaviours(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hesitation: bool = False
    """Fillers and a pause in the area line ("um, so, I'm looking in, uh, Oakland")."""
    self_correction: bool = False
    """Say a wrong area first and correct it in the same breath ("Berkeley, actually Oakland")."""
    barge_in: bool = False
    """Name the home while the agent is still reading out the listings."""
    backchannel: bool = False
    """An "uh-huh" over the listing read-out (which must not stop the agent)."""
    answer_read_backs: bool = True
    """Confirm a read-back when it is right, correct it when it is wrong."""
    partial_corrections: bool = True
    """Correct only the wrong group of a phone number ("the last part is 7391")."""


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid")
    facts: Facts
    voice: Voice = Field(default_factory=lambda: Voice(engine="piper", name="joe"))
    behaviours: Behaviours = Field(default_factory=Behaviours)
    max_turns: int = Field(30, ge=1, le=200)


def digits_said(digits: str, groups: tuple[int, ...] = (3, 3, 4)) -> str:
    """"5104827391" → "five one oh, four eight two, seven three nine one"."""
    out, i = [], 0
    for g in groups if sum(groups) == len(digits) else (4,) * ((len(digits) + 3) // 4):
        out.append(" ".join(_DIGIT_WORDS[int(d)] for d in digits[i:i + g]))
        i += g
    return ", ".join(p for p in out if p)


def birth_date_said(d: date) -> str:
    day = _ORDINALS.get(d.day) or (("twenty " if d.day < 30 else "thirty ") + _ORDINALS[d.day % 10])
    return f"{d:%B} {day}, {d.year}"


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _question(agent_text: str) -> str:
    """The last question the agent asked (or its last sentence), lower-cased; a short question
    keeps the sentence before it ("I have 5 1 0 .... Is that right?")."""
    parts = [p.strip() for p in re.split(r"(?<=[.?!])\s+", agent_text.strip()) if p.strip()]
    at = max((i for i, p in enumerate(parts) if p.endswith("?")), default=len(parts) - 1)
    if at < 0:
        return ""
    q = parts[at]
    if len(q.split()) <= 4 and at > 0:
        q = parts[at - 1] + " " + q
    return q.lower()


class PersonaAnswers:
    """Chooses the persona's next line from what the agent just said (None: hang up)."""

    def __init__(self, persona: Persona, flow: str) -> None:
        self.p = persona
        self.f = persona.facts
        self.flow = flow
        self.last_line = ""
        self.read_backs = 0
        self.corrections = 0
        self.corrected_area = False
        self.unknown = 0
        self.done = False
        self.asked: dict[str, int] = {}
        self.last_kind = ""
        self.listings = ""
        self.heard_name = ""
        self.group = ""
        self.group_at = 0
        """The card group last said (a card taken four digits at a time), and its place."""
        self.confirmed: dict[str, int] = {}
        """read-back question → how often the persona already said yes to it"""

    def answer(self, agent_text: str) -> str | None:
        line = self._answer(agent_text)
        if line is not None:
            self.last_line = line
        return line

    def _answer(self, agent_text: str) -> str | None:
        low = agent_text.lower()
        if any(w in low for w in ("goodbye", "thanks for calling", "will call you back")):
            return None
        q = _question(agent_text)
        if self.done:  # said goodbye; asked again whether that's all, say so plainly
            return "No, thank you. Goodbye." if "anything else" in q else None
        if "is that right" in q or "shall i" in q:
            self.read_backs += 1
            return self._read_back(agent_text, q)
        line = self._ask(q, low)
        if line is not None:
            self.unknown = 0
            return line
        self.unknown += 1
        return self.last_line if self.unknown <= 2 and self.last_line else None

    # ------------------------------------------------------------ questions
    def _slowly(self, kind: str) -> str | None:
        """A value said again, differently: one digit per phrase, as people do when misheard."""
        digits = {"phone": self.f.phone, "policy": self.f.policy_number, "card": self.f.card_number,
                  "card_group": self.group}.get(kind)
        if not digits:
            return None
        return ". ".join(("zero" if d == "0" else _DIGIT_WORDS[int(d)]).capitalize() for d in digits) + "."

    def _listing_by_position(self) -> str | None:
        """"The second one": the persona's home by its place in the agent's read-out."""
        word = (self.f.listing or "").split()[0].lower() if self.f.listing else ""
        items = [part for part in re.split(r",\s+(?=\d)|\s+and\s+(?=\d)", self.listings.split(":", 1)[-1]) if part.strip()]
        for i, item in enumerate(items[:10]):
            if word and word in item.lower():
                return f"The {_ORDINALS[i + 1]} one, {self.f.day} please."
        return None

    def _ask(self, q: str, low: str) -> str | None:
        if "i found" in low:
            self.listings = low
        line = self._ask_once(q, low)
        kind = self.last_kind
        # the question itself, without what came before it ("Sorry, I didn't quite get that."); a
        # value asked for again in other words ("What are the four digits of your policy number?")
        # is the same question
        key = kind or re.split(r"(?<=[.?!])\s+", q)[-1]
        if kind == "card_group":  # each group is its own question, and so is a group's correction
            key = f"{kind} {self.group_at}{' no' if line and line.startswith('No, ') else ''}"
        self.asked[key] = again = self.asked.get(key, 0) + 1
        if line is not None and again > 1 and kind in ("phone", "policy", "card", "card_group"):
            slowly = self._slowly(kind)
            if slowly and line.startswith("No, "):  # a group said back wrong, corrected again
                return f"No. {slowly}"
            return slowly or line
        if line is not None and again > 1 and kind == "listing":
            return self._listing_by_position() or line
        if line is not None and again > 1 and kind == "area":
            return f"{self.f.area}." if again == 2 else f"{self.f.area}. {', '.join((self.f.area or '').upper())}."
        if line is not None and kind == "time" and _NARROWED.search(low) and self.f.time:
            # the offer narrowed to a part of the day: the time as offered, which the decoder's
            # prompt (the narrowed offer) holds; "Eleven in the morning" lost its "Eleven" again
            return f"{self.f.time}, please."
        if line is not None and again > 1 and kind == "time":
            return self._time_in_words() or line
        return line

    def _time_in_words(self) -> str | None:
        """"11 AM" said again as "Eleven in the morning, please." (a misheard "A M" is gone)."""
        m = re.fullmatch(r"\s*(\d{1,2})\s*([AaPp])\.?\s*[Mm]\.?\s*", self.f.time or "")
        if m is None:
            return None
        hour, pm = int(m.group(1)), m.group(2).lower() == "p"
        if hour == 12:
            return "Twelve noon, please." if pm else None
        words = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"][hour]
        part = "in the morning" if not pm else "in the afternoon" if hour < 6 else "in the evening"
        return f"{words.capitalize()} {part}, please."

    def _ask_once(self, q: str, low: str) -> str | None:
        f = self.f
        if "one digit at a time" in low:
            return self._slowly(self.last_kind or "phone")
        if "the first, the second" in low:
            return self._listing_by_position()
        if "spell it" in low and f.name:
            self.last_kind = "spelling"  # not the question before it (a time asked again is said in words)
            heard = self.heard_name.split()
            wrong = [w for i, w in enumerate(f.name.split()) if i >= len(heard) or heard[i] != w.lower()]
            word = (wrong or f.name.split())[0]
            if "as in" in low:  # "a word for each letter, like D as in Delta"
                return ", ".join(f"{c.upper()} as in {_KEY_WORDS[c.lower()]}" for c in word if c.isalpha()) + "."
            return ", ".join(word.upper()) + "."
        if "say it another way" in low:
            if self.last_kind == "time":
                return self._time_in_words() or self.last_line or None
            if self.last_kind in ("phone", "policy", "card"):
                return self._slowly(self.last_kind) or self.last_line or None
            if self.last_kind == "area" and self.f.area:  # said plainly, then spelled
                return f"{self.f.area}. {', '.join(self.f.area.upper())}."
            return self.last_line or None
        group = _CARD_GROUP.search(q)
        if group and f.card_number:
            return self._card_group(_GROUP_AT[group.group(1)], _digits(low.rsplit("what are", 1)[0]))
        self.last_kind = ""
        if "anything else" in q:
            self.done = True
            return "No, that's all. Thanks, bye."
        if ("who am i speaking" in q or "your name" in q) and f.name:
            return f"Hi, my name is {f.name}."
        if ("phone number" in q or "right number" in q) and f.phone:
            self.last_kind = "phone"
            return f"It's {digits_said(f.phone)}."
        if "area" in q and f.area:
            self.last_kind = "area"
            return self._area_line()
        if "budget" in q and f.budget:
            return f"My budget is about {f.budget // 1000} thousand dollars."
        searched = _SEARCHED_UP_TO.search(low)
        if searched and f.budget and int(searched.group(1).replace(",", "")) != f.budget:
            # the search's terms said back ("I found 3 in Oakland up to $500,000: ..."): a misheard budget
            self.corrections += 1
            return f"No, my budget is about {f.budget // 1000} thousand dollars."
        if ("homes would you like" in q or "which of those" in q) and f.listing:
            self.last_kind = "listing"
            word = f.listing.split()[0].lower()
            if " for $" in self.listings and word not in self.listings and f.budget:
                # the home she called about is not among those read: the search missed her terms
                return f"I don't hear the one on {f.listing}. My budget is about {f.budget // 1000} thousand dollars."
            return f"The one on {f.listing}, {f.day} please."
        if "what day" in q:
            return f"{f.day.capitalize()}, please."
        if ("taken that day" in low or "can't book" in low) and f.time:
            # "I'm sorry, 1 PM is taken that day. The closest ...": she said another time; say it in words
            self.last_kind = "time"
            return self._time_in_words() or f"No, {f.time}, please."
        if "which time" in q and f.time:
            self.last_kind = "time"
            return f"{f.time} works for me."
        if "policy number" in q and f.policy_number:
            self.last_kind = "policy"
            return f"Sure, my policy number is {' '.join(f.policy_number)}."
        if "date of birth" in q and f.date_of_birth:
            return birth_date_said(f.date_of_birth) + "."
        if ("card" in q or "read me the number" in q) and f.card_number:
            self.last_kind = "card"
            return digits_said(f.card_number, (4, 4, 4, 4)) + "."
        return None

    def _card_group(self, at: int, said_back: str) -> str:
        """One group of four of the card, when the agent takes it group by group; the group the
        agent just said back is corrected first when it is wrong ("No, four one one one.")."""
        card = self.f.card_number or ""
        self.last_kind = "card_group"
        prev = card[(at - 1) * 4:at * 4] if at > 0 else ""
        if len(said_back) == 4 and prev and said_back != prev and self.p.behaviours.answer_read_backs:
            self.corrections += 1
            self.group, self.group_at = prev, at - 1
            return f"No, {digits_said(prev, (4,))}."
        self.group, self.group_at = card[at * 4:at * 4 + 4], at
        return digits_said(self.group, (4,)) + "."

    def _area_line(self) -> str:
        area = self.f.area or ""
        b = self.p.behaviours
        if b.self_correction and not self.corrected_area:
            self.corrected_area = True
            wrong = "Berkeley" if area != "Berkeley" else "Oakland"
            return f"I'm looking in {wrong}, actually, {area}."
        if b.hesitation:
            return f"Um, so, I'm looking in, uh, {area}."
        return f"I'm looking in {area}."

    # ------------------------------------------------------------ read-backs
    def _read_back(self, agent_text: str, q: str) -> str:
        f = self.f
        wrong = self._wrong_in(agent_text, q)
        if wrong is None or not self.p.behaviours.answer_read_backs:
            return self._yes(q)
        self.corrections += 1
        return wrong

    def _yes(self, q: str) -> str:
        """A yes; said plainer when the same read-back comes again (the first yes was evidently
        not understood), as a person would: "Yes, that's right." → "Yes." → "Yes, correct."."""
        key = _digits(q) or q
        n = self.confirmed.get(key, 0)
        self.confirmed[key] = n + 1
        if "is that right" in q:
            return ("Yes, that's right.", "Yes.", "Yes, correct.")[n % 3]
        return ("Yes, please go ahead.", "Yes.", "Yes, go ahead.")[n % 3]

    def _wrong_in(self, agent_text: str, q: str) -> str | None:
        """The correction this read-back needs, or None when everything read back is right."""
        f = self.f
        said = _digits(q)
        if "your name as" in q and f.name and f.name.lower() not in q:
            self.heard_name = q.split("your name as", 1)[1].split(". is that right")[0].strip(" .?")
            return f"No, my name is {f.name}."
        if "is that right" in q and f.phone and len(said) >= 7 and said != f.phone:
            return self._phone_fix(said)
        if "shall i book" in q:
            if f.name and f.name.lower() not in q:
                self.heard_name = q.rsplit(" for ", 1)[-1].rstrip("?").strip()
                return f"No, my name is {f.name}."
            if f.time and f.time.lower().replace(" ", "") not in q.replace(" ", ""):
                return f"No, {f.time}, please."
        if "charge" in q:
            if f.card_number and f.card_number[-4:] not in said:
                return f"No, the card is {digits_said(f.card_number, (4, 4, 4, 4))}."
        return None

    def _phone_fix(self, heard: str) -> str:
        f = self.f
        assert f.phone
        if self.p.behaviours.partial_corrections and len(heard) == 10:
            groups = [(0, 3, "the area code is"), (3, 6, "the middle part is"), (6, 10, "the last part is")]
            bad = [g for g in groups if heard[g[0]:g[1]] != f.phone[g[0]:g[1]]]
            if len(bad) == 1:
                a, b, words = bad[0]
                return f"No, {words} {digits_said(f.phone[a:b], (b - a,))}."
        return f"No, it's {digits_said(f.phone)}."


# ---------------------------------------------------------------- judging the effects
class PersonaOutcome(BaseModel):
    """What a persona call achieved, judged against the persona's true facts."""

    completed: bool
    wrong_effects: list[str] = Field(default_factory=list)
    read_backs: int = 0
    corrections: int = 0


def _same_name(a: Any, b: str) -> bool:
    return " ".join(str(a or "").lower().split()) == " ".join(b.lower().split())


def judge(persona: Persona, flow: str, runs: list[Any]) -> PersonaOutcome:
    """`runs`: the call's tool runs (name, ok, arguments). Completed = the goal's effect
    happened exactly once with every value right; wrong effects = any effect with a value
    that contradicts the facts."""
    f = persona.facts
    ok = [r for r in runs if r.ok]
    wrong: list[str] = []
    for r in ok:
        args = r.arguments
        if r.name in ("book_tour", "update_opportunity"):
            if f.phone and _digits(str(args.get("phone"))) != f.phone:
                wrong.append(f"{r.name} with phone {args.get('phone')!r}, the caller's is {f.phone}")
            if f.name and args.get("name") is not None and not _same_name(args.get("name"), f.name):
                wrong.append(f"{r.name} with name {args.get('name')!r}, the caller is {f.name!r}")
        if r.name == "charge_card":
            if f.premium_cents and args.get("amount_cents") != f.premium_cents:
                wrong.append(f"charge_card of {args.get('amount_cents')} cents, the premium is {f.premium_cents}")
            # traces hold a card masked to its last four (never in clear): compare those
            if f.card_number and not _digits(str(args.get("card_number"))).endswith(f.card_number[-4:]):
                wrong.append("charge_card on a card that is not the caller's")
            if f.policy_number and str(args.get("policy_number")) != f"POL-{f.policy_number}":
                wrong.append(f"charge_card on policy {args.get('policy_number')!r}")
    goal = "book_tour" if flow == "real_estate" else "charge_card"
    done = [r for r in ok if r.name == goal]
    return PersonaOutcome(completed=len(done) == 1 and not wrong, wrong_effects=wrong)
