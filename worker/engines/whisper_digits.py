"""Dictated numbers of the wrong shape: the slot's digit shape, and counting a decode's digits.

Why: after "what's your phone number?" a right answer holds ten digits (eleven after a leading
1); a card number 15 or 16 that pass Luhn. Whisper tiny.en's greedy spelled-out decode of a
dictated number drops an "oh" or a repeated digit ("five five five" as two or four fives), or
stops after a few words; a decode of another shape is certainly wrong. The decoder then decodes
again from where it hesitated (`whisper_branch.fitting_decode`) and keeps the likeliest decode
that fits (docs/recognition.md); it costs two or three decoder calls on those answers only.

Slot names are the reading layer's `expecting` names, as strings (`whisper_hints`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tools.cards import luhn_ok

__all__ = ["DIGIT_SHAPES", "ONES", "TENS", "DigitShape", "spoken_digits"]

@dataclass(frozen=True)
class DigitShape:
    """How many digits a right answer holds, and whether an extra leading 1 is allowed."""

    counts: frozenset[int]
    leading_one: bool = False
    """One more digit is fine when it is a leading 1 (a US number with its country code)."""
    luhn: bool = False
    """The digits must pass the Luhn checksum (card numbers): a dropped "oh" or a lost repeat
    in a 16-digit card leaves 15 digits, a count an American Express card has too."""

    def fits(self, text: str) -> bool:
        """Whether a spelled-out decode holds a right count of digits ("nine two five five five
        five five five ..." for 925 555 is one five too many: 11 digits, right only after a 1)
        and, for cards, passes Luhn."""
        said = spoken_digits(text)
        if self.luhn and not luhn_ok(said):
            return False
        return len(said) in self.counts or (
            self.leading_one and said.startswith("1") and len(said) - 1 in self.counts)

    def distance(self, text: str) -> int:
        """How many digits a decode is away from a right count (0 for a count that fits)."""
        said = spoken_digits(text)
        n = len(said) - (self.leading_one and said.startswith("1") and len(said) - 1 in self.counts)
        return min(abs(n - c) for c in self.counts)


#: The digit shapes of the slots (US phone: 10 digits, or 11 with the leading 1; cards: 15 for
#: American Express, 16 for the others). A spelled-out decode of another shape is certainly
#: wrong, and so is a card number that fails Luhn, so the decoder looks for a likelier reading
#: that fits (see `WhisperTranscriber._decode`). Policy numbers are left out: "P O L" holds an "o".
DIGIT_SHAPES: dict[str, DigitShape] = {
    "phone": DigitShape(frozenset({10}), leading_one=True),
    "card_number": DigitShape(frozenset({15, 16}), luhn=True),
    "card": DigitShape(frozenset({15, 16}), luhn=True),
    "card_group": DigitShape(frozenset({4})),  # one group of a card taken four digits at a time
}

ONES: tuple[str, ...] = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                         "nineteen")
"""The number words for 0-19, in order (read here, said by `spoken_form`)."""
TENS: tuple[str, ...] = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
"""The number words for 20, 30, ... 90, in order."""
_UNITS = {**{w: str(i) for i, w in enumerate(ONES[:10])}, "oh": "0", "o": "0"}
_TEENS = {w: str(10 + i) for i, w in enumerate(ONES[10:])}
_TENS = {w: str(2 + i) for i, w in enumerate(TENS)}
_REPEAT = {"double": 2, "triple": 3}


def spoken_digits(text: str) -> str:
    """The digits of a dictated number as the decoder wrote it, roughly: "four oh eight" 408,
    "double five" 55, "forty one" 41, "forty" 40, "five hundred" 500, "415" 415 (other words
    are skipped). Only to count digits: the reading layer reads the value."""
    out: list[str] = []
    repeat = 1
    tens = False
    for word in re.findall(r"[a-z]+|\d+", text.lower()):
        if tens and word in _UNITS and word not in ("zero", "oh", "o"):
            out[-1] = out[-1][0] + _UNITS[word]  # "forty one"
            tens = False
            continue
        tens = word in _TENS
        if word.isdigit():
            out.append(word)
        elif word in _UNITS:
            out.append(_UNITS[word] * repeat)
        elif word in _TEENS:
            out.append(_TEENS[word] * repeat)
        elif tens:
            out.append(_TENS[word] + "0")
        elif word == "hundred":
            out.append("00")
        repeat = _REPEAT.get(word, 1)
    return "".join(out)
