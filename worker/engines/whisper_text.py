"""Checks on the text of a Whisper decode: a dictated number, a loop, a sentence said twice.

Why apart from `whisper_decode`: they are pure functions of the decoded text (no model), used
by the decoder to decide what to keep, and tested on their own.
"""

from __future__ import annotations

import re

from faster_whisper.transcribe import get_compression_ratio

__all__ = ["NUMERIC_WORDS", "dictates_number", "goes_on_after_number", "is_looping", "said_once"]

_LOOP_COMPRESSION_RATIO = 2.4

#: Words a caller says around a dictated number; with `numeric=True` nothing else is written.
NUMERIC_WORDS: tuple[str, ...] = (
    "my", "number", "is", "it", "it's", "its", "the", "card", "policy", "phone", "you", "can", "reach",
    "me", "at", "oh", "o", "double", "triple", "and", "then", "p", "l", "pol", "that's", "uh", "um",
    "yes", "yeah", "no", "sorry", "actually", "not", "that", "right", "correct", "last", "part", "ends", "with",
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
)

_WORD_RE = re.compile(r"[a-z0-9']+")

_DIGIT_WORDS = frozenset(
    {"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "double", "triple"}
)


def dictates_number(text: str) -> bool:
    """Whether a transcript reads like a dictated number: three digits or digit words at least."""
    low = text.lower()
    return sum(ch.isdigit() for ch in low) + sum(w in _DIGIT_WORDS for w in _WORD_RE.findall(low)) >= 3


_GO_ON_WORDS = 3
"""Words outside the numeric vocabulary after the number that make it more than a dictation."""


def goes_on_after_number(text: str) -> bool:
    """Whether the caller said more than a number: `_GO_ON_WORDS` words or more that the numeric
    vocabulary cannot write, after the number's first digit ("My policy number is 4821, and my date of
    birth is March 12, 1984."). A spelled-out decode of that would stop at the number."""
    words = _WORD_RE.findall(text.lower())
    first = next((i for i, w in enumerate(words) if w in _DIGIT_WORDS or any(ch.isdigit() for ch in w)), len(words))
    numeric = set(NUMERIC_WORDS)
    return sum(1 for w in words[first:] if not w.isdigit() and w not in numeric) >= _GO_ON_WORDS


def said_once(text: str) -> str:
    """A sentence Whisper wrote twice, once: "My policy number is 4821. My policy number is 4821."

    With a slot prompt ("My policy number is P O L four eight two one.") Whisper tiny doubles an
    answer that starts after a little silence (a caller going on right after a pause); `is_looping`
    wants three repeats. Only a sentence of words is collapsed: a number said twice
    ("five five five, five five five") may be digits that belong together.
    """
    words = _WORD_RE.findall(text.lower())
    half = len(words) // 2
    if len(words) % 2 or half < 3 or words[:half] != words[half:]:
        return text
    if len({w for w in words[:half] if w not in _DIGIT_WORDS and not w.isdigit()}) < 2:
        return text
    # cut the written text after the first half's last word
    seen, cut = 0, len(text)
    for m in _WORD_RE.finditer(text.lower()):
        seen += 1
        if seen == half:
            cut = m.end()
            break
    return text[:cut].rstrip(" ,;") + ("." if text.rstrip().endswith(".") else "")


_DIGITS = _DIGIT_WORDS - {"double", "triple"}
_DIGIT_RUN = 10
"""One digit said this many times in a row is a number, not a loop ("three oh three five five five
five five oh nine" holds five fives; flagged as a loop, the right reading was thrown away)."""


def is_looping(text: str) -> bool:
    """True for Whisper's repetition loops ("Bye. Bye. Bye. Bye.", a phrase over and over).

    Flags text whose compression ratio is high, or where one 1–8 word unit repeats three or
    more times back to back and covers at least half of the words (one digit word up to
    `_DIGIT_RUN` times is a dictated number; a runaway loop hits the token cap instead).
    """
    if len(text) > 20 and get_compression_ratio(text) > _LOOP_COMPRESSION_RATIO:
        return True
    words = _WORD_RE.findall(text.lower())
    for size in range(1, min(8, len(words) // 3) + 1):
        for start in range(len(words) - 3 * size + 1):
            unit = words[start : start + size]
            count = 1
            while words[start + count * size : start + (count + 1) * size] == unit:
                count += 1
            said = len(set(unit)) == 1 and (unit[0] in _DIGITS or unit[0].isdigit()) and count * size <= _DIGIT_RUN
            if count >= 3 and count * size * 2 >= len(words) and not said:
                return True
    return False
