"""A reply's written form turned into the words the agent's voice should say.

Why it exists: Piper phonemizes with espeak-ng, which reads "$1,284.00" as "dollar one
thousand two hundred eighty four point zero zero" (the unit first, the cents as digits) and a
card's last four "6467" as "six thousand four hundred sixty seven". Both are wrong to a caller,
and long: the card confirmation's read-back took ~7 s of audio and ~1 s to synthesize on 2
loaded cores, more than the short clause before it lasts ("To confirm,", 0.76 s), so the
caller heard a gap mid-sentence. Said as "1,284 dollars" and "6 4 6 7" it is ~5 s and
~0.6 s.

Only what is spoken changes: the reply text (chat history, trace, transcript, the
`says:` expectations) keeps its written form.
"""

from __future__ import annotations

import re

__all__ = ["spoken_form"]

_MONEY_RE = re.compile(r"\$(?P<whole>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<cents>\d{2}))?(?![\d,]*\d)")
_CARD_END_RE = re.compile(r"\b(?P<lead>ending in )(?P<digits>\d{4})\b", re.IGNORECASE)


def _money(match: re.Match[str]) -> str:
    whole, cents = match.group("whole"), match.group("cents")
    unit = "dollar" if whole == "1" else "dollars"
    said = f"{whole} {unit}"
    if cents and cents != "00":
        said += f" and {int(cents)} {'cent' if cents == '01' else 'cents'}"
    return said


def spoken_form(text: str) -> str:
    """Amounts as "1,284 dollars (and 50 cents)", a card's last four digit by digit."""
    text = _MONEY_RE.sub(_money, text)
    return _CARD_END_RE.sub(lambda m: m.group("lead") + " ".join(m.group("digits")), text)
