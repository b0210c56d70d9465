"""Self-corrections inside one utterance: the caller's last word on a value wins.

"Tuesday, no, Thursday", "my budget is 800, sorry, 900 thousand", "Berkeley — actually
Oakland", "my number is 415 555 0192, sorry, 415 555 0193": people retract a value mid-
sentence. Every extractor takes the first value it finds, so the retracted one is cut out of
the text before anything reads it: the value right before a correction marker is removed
when the words after the marker start with a value of the same kind (a number for a
number, a day for a day, an area for an area, a name after "my name is"). A marker that
is not followed by such a value ("Oakland, no preference") changes nothing, and a "no" at
the start of a turn is an answer, not a correction.

Runs on the normalised text (lowercase, punctuation kept), before tokenising, so the
reading, the yes/no patterns and the planner all see the corrected words.
"""

from __future__ import annotations

import re

from worker.reading.vocabulary import (
    AREA_WORDS, MONTHS, NUMBER_WORDS, ORDINAL_WORDS, SCALES, TEENS, TENS, UNITS, WEEKDAYS)

_MARKER = re.compile(
    r"(?:[,.;:!?]\s*|\s+[-\u2013\u2014]+\s*|\s+(?=(?:actually|i mean|or rather|make that|scratch that)\b))"
    r"(?:(?:no|nope|sorry|wait|oops|actually|i mean|or rather|rather|make that|make it|scratch that|"
    r"correction|my bad|i'm sorry)\b[\s,.;:!?\u2013\u2014-]*)+"
)
_WORD = re.compile(r"\$|\d+(?:st|nd|rd|th)\b|\d+(?:[.,]\d+)*|[a-z]+(?:'[a-z]+)*")
_SKIP = frozenset("""
it's it is its that's the on in at like about um uh er make that my number phone budget name
area day time date i'm looking let's say was it'll be should
""".split())
_NAME_TAIL = re.compile(r"(?:my name is|my name's|name is|i'm|this is|call me|it's)\s+([a-z']+(?:\s+[a-z']+)?)\s*$")

_NUMERIC = frozenset(NUMBER_WORDS) | frozenset(SCALES) | {
    "double", "triple", "point", "dollars", "dollar", "bucks", "$", "am", "pm", "o'clock", "noon"}
_DAY = frozenset(WEEKDAYS) | {"today", "tomorrow", "tonight", "weekend"}
_ORDINAL = frozenset(ORDINAL_WORDS)


def _kind(word: str) -> str | None:
    if word[0].isdigit():
        return "ordinal" if word[-2:] in ("st", "nd", "rd", "th") else "number"
    if word in _NUMERIC or word in UNITS or word in TEENS or word in TENS:
        return "number"
    if word in _ORDINAL:
        return "ordinal"
    if word in _DAY:
        return "day"
    if word in MONTHS:
        return "month"
    if word in AREA_WORDS:
        return "area"
    return None


def _first_value(after: str) -> tuple[int, str | None] | None:
    """Where the replacement value starts in `after`, and its kind (None: a plain word)."""
    for m in _WORD.finditer(after):
        w = m.group(0)
        if w in _SKIP:
            continue
        return m.start(), _kind(w)
    return None


def _retracted_start(before: str, kind: str | None) -> int | None:
    """Where the retracted value starts at the end of `before` (None: nothing to retract)."""
    if kind is None:
        m = _NAME_TAIL.search(before)
        return m.start(1) if m else None
    words = list(_WORD.finditer(before))
    start = None
    for m in reversed(words):
        k = _kind(m.group(0))
        same = k == kind or {k, kind} <= {"number", "ordinal"} or {k, kind} <= {"month", "ordinal", "number"}
        if not same:
            break
        start = m.start()
    return start


def retract(text: str) -> str:
    """The normalised text with self-corrected values removed (unchanged when there are none)."""
    pos = 0
    for _ in range(8):
        m = _MARKER.search(text, pos)
        if m is None:
            break
        before, after = text[:m.start()], text[m.end():]
        found = _first_value(after) if before.strip() else None
        cut = _retracted_start(before, found[1]) if found else None
        if found is None or cut is None:
            pos = m.end()
            continue
        head = before[:cut].rstrip()
        text = (head + " " if head else "") + after[found[0]:]
        pos = len(head)
    return text
