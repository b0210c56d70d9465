"""The multi-voice recognition set: what callers dictate, with the text and value expected.

Why it is generated and not recorded: the set is spoken at run time by `worker.simulate.voices`
(espeak-ng, flite, Piper at several speeds), so no audio is committed and a new voice is one
line. The lines are drawn from a fixed seed, so the set is the same on every machine.

Each `Line` carries what the caller says (`say`, the words handed to the synthesiser), the
reference transcript (`text`, written as a careful human transcriber would, for WER), the
slot the agent just asked for (`expecting`, what the state machine knows), and the slot
value the reading layer must extract (`slot`, `value` as a string: "4155550192",
"POL-4821", "2026-12-03", "14:30:00", "12050" cents ...).

Kinds: name, phone (in groups), phone_digits (digit by digit, "oh", "double five"), card,
policy, amount, date, time, address — 108 lines in all.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

__all__ = ["KINDS", "TODAY", "Line", "hearing_lines"]

TODAY = dt.date(2026, 11, 30)  # a Monday: "Thursday" is 2026-12-03

_DIGIT = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_AREA_CODES = ["415", "510", "650", "408", "925", "707", "212", "303"]
_FIRST = ["Carlos", "Dana", "Priya", "Marcus", "Elena", "James", "Aisha", "Tom", "Sofia", "Kevin",
          "Laura", "Omar"]
_LAST = ["Mendes", "Whitfield", "Patel", "Johnson", "Garcia", "Brown", "Khan", "Miller",
         "Rossi", "Nguyen", "Bennett", "Turner"]
_STREETS = ["Maple", "Oak", "Pine", "Cedar", "Lake", "Hill", "Park", "Elm", "Walnut", "Sunset"]
_SUFFIXES = ["Street", "Avenue", "Road", "Drive", "Lane", "Boulevard"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_ORD = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
        8: "eighth", 9: "ninth", 10: "tenth", 11: "eleventh", 12: "twelfth", 13: "thirteenth",
        14: "fourteenth", 15: "fifteenth", 16: "sixteenth", 17: "seventeenth", 18: "eighteenth",
        19: "nineteenth", 20: "twentieth", 21: "twenty first", 22: "twenty second",
        23: "twenty third", 24: "twenty fourth", 25: "twenty fifth", 26: "twenty sixth",
        27: "twenty seventh", 28: "twenty eighth"}
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class Line(BaseModel):
    """One caller line of the set."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    say: str
    """What the synthesiser is given (words, so every engine says the same thing)."""
    text: str
    """Reference transcript for word error rate."""
    expecting: str | None
    """The slot the agent just asked for (the reading's `expecting`)."""
    slot: str
    """The `Slots` field that must hold `value`."""
    value: str
    asked: str | None = None
    """The agent's words the line answers, when they offered choices (`offered_prompt`)."""


def _two(n: int) -> str:
    """1..99 in words."""
    if n < 10:
        return _DIGIT[n]
    if n < 20:
        return _TEENS[n - 10]
    return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _DIGIT[n % 10])


def _number(n: int) -> str:
    """0..999999 in words ("twelve thousand four hundred fifty")."""
    if n == 0:
        return "zero"
    parts: list[str] = []
    if n >= 1000:
        parts.append(_number(n // 1000) + " thousand")
        n %= 1000
    if n >= 100:
        parts.append(_DIGIT[n // 100] + " hundred")
        n %= 100
    if n:
        parts.append(_two(n))
    return " ".join(parts)


def _digits_said(digits: str, rng: random.Random, *, oh: bool = True, doubles: bool = False) -> str:
    """Digit by digit; zero as "oh" when `oh`; a repeated digit as "double five" when `doubles`."""
    out: list[str] = []
    i = 0
    while i < len(digits):
        d = int(digits[i])
        word = "oh" if d == 0 and oh else _DIGIT[d]
        if doubles and i + 1 < len(digits) and digits[i + 1] == digits[i] and (
            i + 2 >= len(digits) or digits[i + 2] != digits[i]
        ):
            out.append("double " + word)
            i += 2
            continue
        out.append(word)
        i += 1
    return " ".join(out)


def _phone(rng: random.Random) -> str:
    exchange = rng.choice(["555", str(rng.randint(200, 989))])
    line = f"{rng.randint(0, 9999):04d}"
    if rng.random() < 0.5:  # make zeros and repeats common: "oh" and "double" are what fails
        line = rng.choice(["0", "00", "55"]).ljust(2, line[1]) + line[2:] if rng.random() < 0.5 else line[:2] + "0" + line[3]
    return rng.choice(_AREA_CODES) + exchange + line


def _luhn_card(rng: random.Random) -> str:
    body = rng.choice(["4", "51", "52", "37"]) + "".join(str(rng.randint(0, 9)) for _ in range(20))
    body = body[:15]
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _names(rng: random.Random, n: int) -> list[Line]:
    out = []
    for i in range(n):
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 5) % len(_LAST)]
        lead = rng.choice(["My name is {}.", "It's {}.", "{}.", "This is {}."])
        out.append(Line(id=f"name-{i}", kind="name", say=lead.format(f"{first} {last}"),
                        text=lead.format(f"{first} {last}"), expecting="name", slot="name",
                        value=f"{first} {last}"))
    return out


def _phones_grouped(rng: random.Random, n: int) -> list[Line]:
    out = []
    for i in range(n):
        p = _phone(rng)
        a, b, c = p[:3], p[3:6], p[6:]
        style = i % 3
        if style == 0:  # digit groups with pauses
            said = ", ".join(_digits_said(g, rng) for g in (a, b, c))
        elif style == 1:  # area code digit by digit, line number in pairs when it has no zero first
            pairs = c if c[0] == "0" or c[2] == "0" else None
            tail = _digits_said(c, rng) if pairs else f"{_two(int(c[:2]))}, {_two(int(c[2:]))}"
            said = f"{_digits_said(a, rng)}, {_digits_said(b, rng)}, {tail}"
        else:  # "zero" said as zero
            said = ", ".join(_digits_said(g, rng, oh=False) for g in (a, b, c))
        lead = rng.choice(["My number is {}.", "It's {}.", "{}.", "You can reach me at {}."])
        out.append(Line(id=f"phone-{i}", kind="phone", say=lead.format(said),
                        text=lead.format(f"{a} {b} {c}"), expecting="phone", slot="phone", value=p))
    return out


def _phones_digits(rng: random.Random, n: int) -> list[Line]:
    out = []
    for i in range(n):
        p = _phone(rng)
        said = _digits_said(p, rng, doubles=True)
        lead = rng.choice(["My number is {}.", "{}.", "It's {}."])
        out.append(Line(id=f"phone-digits-{i}", kind="phone_digits", say=lead.format(said),
                        text=lead.format(p), expecting="phone", slot="phone", value=p))
    return out


def _cards(rng: random.Random, n: int) -> list[Line]:
    out = []
    for i in range(n):
        card = _luhn_card(rng)
        groups = [card[k:k + 4] for k in range(0, 16, 4)]
        said = ", ".join(_digits_said(g, rng, oh=i % 2 == 0) for g in groups)
        lead = rng.choice(["The card number is {}.", "{}.", "It's {}."])
        out.append(Line(id=f"card-{i}", kind="card", say=lead.format(said),
                        text=lead.format(" ".join(groups)), expecting="card_number", slot="card_number",
                        value=card))
    return out


def _policies(rng: random.Random, n: int) -> list[Line]:
    out = []
    for i in range(n):
        num = f"{rng.randint(1000, 9999)}"
        said = _digits_said(num, rng) if i % 2 == 0 or num[1] == "0" else f"{_two(int(num[:2]))} {_digits_said(num[2:], rng)}"
        said = said if said.split()[0] != "oh" else _digits_said(num, rng, oh=False)
        if i % 3 == 0:
            say, text = f"My policy number is P O L {said}.", f"My policy number is POL {num}."
        else:
            say, text = f"It's policy {said}.", f"It's policy {num}."
        out.append(Line(id=f"policy-{i}", kind="policy", say=say, text=text, expecting="policy_number",
                        slot="policy_number", value=f"POL-{num}"))
    return out


def _amounts(rng: random.Random, n: int) -> list[Line]:
    out = []
    for i in range(n):
        dollars = rng.choice([rng.randint(20, 999), rng.randint(1000, 4999)])
        cents = rng.choice([0, 0, rng.randint(1, 99)])
        said = f"{_number(dollars)} dollars" + (f" and {_two(cents)} cents" if cents else "")
        text = f"${dollars:,}" + (f".{cents:02d}" if cents else "")
        out.append(Line(id=f"amount-{i}", kind="amount", say=f"Please charge {said}.", text=f"Please charge {text}.",
                        expecting="amount", slot="amount_cents", value=str(dollars * 100 + cents)))
    return out


def _dates(rng: random.Random, n: int) -> list[Line]:
    out = []
    for i in range(n):
        if i % 3 == 0:
            wd = rng.randrange(7)
            day = TODAY + dt.timedelta(days=(wd - TODAY.weekday()) % 7 or 7)
            say = text = f"How about {_WEEKDAYS[wd]}?"
        else:
            day = TODAY + dt.timedelta(days=rng.randint(2, 80))
            month = _MONTHS[day.month - 1]
            say = f"On {month} {_ORD[min(day.day, 28)]}."
            day = day.replace(day=min(day.day, 28))
            if day <= TODAY:
                day = day.replace(year=day.year + 1)
            text = f"On {month} {day.day}."
        out.append(Line(id=f"date-{i}", kind="date", say=say, text=text, expecting="date", slot="date",
                        value=day.isoformat()))
    return out


def _clock(hour: int, minute: int) -> str:
    h12 = hour - 12 if hour > 12 else hour
    return f"{h12}{f':{minute:02d}' if minute else ''} {'PM' if hour >= 12 else 'AM'}"


def _offer(hour: int, minute: int, i: int) -> str:
    """The agent's offer the caller picked the time from: it and three other free times, in order
    (from an rng of its own, so the set's lines stay what they were)."""
    rng = random.Random(f"offer-{i}")
    others = rng.sample([(h, 0) for h in (9, 10, 11, 12, 13, 14, 15, 16, 17) if h != hour], 3)
    times = sorted({(hour, minute), *others})
    said = [_clock(h, m) for h, m in times]
    return f"On Friday I have {', '.join(said[:-1])} and {said[-1]}. Which time works for you?"


def _times(rng: random.Random, n: int) -> list[Line]:
    out = []
    for i in range(n):
        hour = rng.choice([9, 10, 11, 13, 14, 15, 16, 17])
        minute = rng.choice([0, 0, 15, 30, 45])
        h12 = hour - 12 if hour > 12 else hour
        ampm = "PM" if hour >= 12 else "AM"
        spoken_min = "" if minute == 0 else " " + _two(minute)
        if i % 3 == 2 and minute == 0:
            part = "in the afternoon" if hour >= 12 else "in the morning"
            say, text = f"{_two(h12)} {part}, if you have it.", f"{h12} {part}, if you have it."
        else:
            say = f"At {_two(h12)}{spoken_min} {ampm}."
            text = f"At {h12}:{minute:02d} {ampm}." if minute else f"At {h12} {ampm}."
        out.append(Line(id=f"time-{i}", kind="time", say=say, text=text, expecting="time", slot="time",
                        value=dt.time(hour, minute).isoformat(), asked=_offer(hour, minute, i)))
    return out


def _addresses(rng: random.Random, n: int) -> list[Line]:
    out = []
    for i in range(n):
        number = rng.choice([rng.randint(10, 99), rng.randint(100, 999), rng.randint(1000, 4999)])
        street, suffix = _STREETS[i % len(_STREETS)], rng.choice(_SUFFIXES)
        if number >= 1000 and number % 100 >= 10:
            said = f"{_two(number // 100)} {_two(number % 100)}"
        else:
            said = _number(number)
        say = f"The address is {said} {street} {suffix}."
        out.append(Line(id=f"address-{i}", kind="address", say=say,
                        text=f"The address is {number} {street} {suffix}.", expecting="address",
                        slot="address", value=f"{number} {street} {suffix}"))
    return out


_MAKERS: dict[str, tuple[Callable[[random.Random, int], list[Line]], int]] = {
    "name": (_names, 12),
    "phone": (_phones_grouped, 15),
    "phone_digits": (_phones_digits, 15),
    "card": (_cards, 10),
    "policy": (_policies, 10),
    "amount": (_amounts, 12),
    "date": (_dates, 12),
    "time": (_times, 12),
    "address": (_addresses, 10),
}
KINDS: tuple[str, ...] = tuple(_MAKERS)


def hearing_lines(kinds: tuple[str, ...] | None = None, seed: int = 10) -> list[Line]:
    """The set (108 lines), drawn from `seed`; `kinds` keeps only those kinds."""
    out: list[Line] = []
    for kind, (make, count) in _MAKERS.items():
        rng = random.Random(f"{seed}-{kind}")
        lines = make(rng, count)
        if kinds is None or kind in kinds:
            out.extend(lines)
    return out
