"""A reply's written form turned into the words the agent's voice should say.

Why it exists: Piper phonemizes with espeak-ng, which reads "$1,284.00" as "dollar one
thousand two hundred eighty four point zero zero" (the unit first, the cents as digits) and a
card's last four "6467" as "six thousand four hundred sixty seven". Both are wrong to a caller,
and long: the card confirmation's read-back took ~7 s of audio and ~1 s to synthesize on 2
loaded cores, more than the short clause before it lasts ("To confirm,", 0.76 s), so the
caller heard a gap mid-sentence. Said as "1,284 dollars" and "6 4 6 7" it is ~5 s and
~0.6 s.

The same holds for an address and a code: "1420 Lakeshore Ave" was "one thousand four
hundred twenty Lakeshore Ave" and a receipt "CH-1003" "ch one thousand three". A person says
"fourteen twenty Lakeshore Avenue" and reads a code out digit by digit ("C H 1 0 0 3"), which
is also what a caller writes down.

Only what is spoken changes: the reply text (chat history, trace, transcript, the
`says:` expectations) keeps its written form.
"""

from __future__ import annotations

import re

from worker.engines.whisper_digits import ONES, TENS

__all__ = ["spoken_form"]

_MONEY_RE = re.compile(r"\$(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<cents>\d{2}))?(?![\d,]*\d)")
_CARD_END_RE = re.compile(r"\b(?P<lead>ending in )(?P<digits>\d{4})\b", re.IGNORECASE)

_SUFFIXES = {
    "Ave": "Avenue", "St": "Street", "Blvd": "Boulevard", "Rd": "Road", "Dr": "Drive", "Ln": "Lane",
    "Ct": "Court", "Pl": "Place", "Pkwy": "Parkway", "Hwy": "Highway", "Ter": "Terrace", "Cir": "Circle",
    "Sq": "Square",
}
_STREET_WORDS = "|".join([*_SUFFIXES, *_SUFFIXES.values(), "Way"])
_DIRECTIONS = {"N": "North", "S": "South", "E": "East", "W": "West"}
#: A house number, a compass letter or not, one to three name words ("Lakeshore", "1st"), a
#: street word: "1420 Lakeshore Ave", "88 N 1st St", "2231 Dwight Way".
_ADDRESS_RE = re.compile(
    r"(?<![\w$.,])(?P<number>\d{1,5})\s+(?:(?P<dir>[NSEW])\.?\s+)?"
    r"(?P<name>(?:[A-Z][a-z']+|\d+(?:st|nd|rd|th))(?:\s+[A-Z][a-z']+){0,2})\s+"
    rf"(?P<street>{_STREET_WORDS})\b"
)
#: A receipt, case or booking code: capital letters, a dash, digits ("CH-1003", "CASE-1001").
_CODE_RE = re.compile(r"\b(?P<letters>[A-Z]{1,5})-(?P<digits>\d{3,})\b")
_CODE_WORDS = {"CASE": "case"}


def _below_100(n: int) -> str:
    if n < 20:
        return ONES[n]
    return TENS[n // 10 - 2] + ("" if n % 10 == 0 else "-" + ONES[n % 10])


def _pair(hi: int, lo: int) -> str:
    """"14", "20" → "fourteen twenty"; "14", "05" → "fourteen oh five"; "14", "00" → "fourteen hundred"."""
    if lo == 0:
        return f"{_below_100(hi)} hundred"
    return f"{_below_100(hi)} {'oh ' + ONES[lo] if lo < 10 else _below_100(lo)}"


def house_number(digits: str) -> str:
    """A house number as people say it: "412" → "four twelve", "1420" → "fourteen twenty",
    "2000" → "two thousand"; longer ones (or a leading zero) digit by digit."""
    n = int(digits)
    if digits.startswith("0") or len(digits) > 4:
        return " ".join(ONES[int(d)] for d in digits)
    if n < 100:
        return _below_100(n)
    if len(digits) == 4 and n % 1000 == 0:
        return f"{ONES[n // 1000]} thousand"
    return _pair(n // 100, n % 100)


def _address(match: re.Match[str]) -> str:
    direction = _DIRECTIONS[match.group("dir")] + " " if match.group("dir") else ""
    street = match.group("street")
    return f"{house_number(match.group('number'))} {direction}{match.group('name')} {_SUFFIXES.get(street, street)}"


def _code(match: re.Match[str]) -> str:
    letters, digits = match.group("letters"), match.group("digits")
    said = _CODE_WORDS.get(letters) or " ".join(letters)
    groups = [digits] if len(digits) <= 4 else [digits[i:i + 3] for i in range(0, len(digits), 3)]
    if len(groups) > 1 and len(groups[-1]) == 1:  # "1 2 3, 4 5 6 7", never a lone last digit
        groups[-2:] = [groups[-2] + groups[-1]]
    return f"{said} " + ", ".join(" ".join(g) for g in groups)


def _money(match: re.Match[str]) -> str:
    whole, cents = match.group("whole"), match.group("cents")
    unit = "dollar" if whole == "1" else "dollars"
    said = f"{whole} {unit}"
    if cents and cents != "00":
        said += f" and {int(cents)} {'cent' if cents == '01' else 'cents'}"
    return said


def spoken_form(text: str) -> str:
    """Amounts as "1,284 dollars (and 50 cents)", a card's last four and a code ("CH-1003")
    digit by digit, an address's house number as people say it ("fourteen twenty Lakeshore
    Avenue")."""
    text = _MONEY_RE.sub(_money, text)
    text = _CODE_RE.sub(_code, text)
    text = _ADDRESS_RE.sub(_address, text)
    return _CARD_END_RE.sub(lambda m: m.group("lead") + " ".join(m.group("digits")), text)
