"""A test oracle for card leaks, written apart from `tools.redact` so it does not share its bugs.

It reads text the way a person hunting for a card number would: digits in any script and
number words ("four", "oh", "double eight", "forty-five") become digits; spaces, punctuation,
zero-width characters and hesitations do not break a number; any other word does. A text
leaks a card when one of its digit streams holds more than six consecutive digits of it:
PCI DSS lets a display show at most the first six and the last four, and a longer stretch,
with the last four that masking shows on purpose, is most or all of the number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

UNITS = {"zero": "0", "oh": "0", "o": "0", "nought": "0", "one": "1", "two": "2", "three": "3", "four": "4",
         "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
TEENS = {"ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
         "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19"}
TENS = {"twenty": "2", "thirty": "3", "forty": "4", "fifty": "5", "sixty": "6", "seventy": "7", "eighty": "8",
        "ninety": "9"}
HESITATIONS = {"uh", "um", "umm", "er", "erm", "ah", "hmm", "mm"}
MAX_SHOWN = 6

_TOKEN = re.compile(r"\d|[^\W\d_]+")
#: Hashes, signatures and random tokens: 16 or more hex characters, which hold any four digits by chance.
_DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{16,}(?![0-9A-Za-z])")


def outside_digests(text: str) -> str:
    """``text`` with every hex digest replaced by ``<digest>``, for a "these four digits never
    appear" check that a signature must not fail by chance (CI, stop 14: "…b4539eb…")."""
    return _DIGEST.sub("<digest>", text)


def digit_streams(text: str) -> list[str]:
    """Every stretch of digits a listener would hear as one number."""
    streams: list[str] = []
    current: list[str] = []
    pending_repeat = 1
    pending_tens: str | None = None

    def close() -> None:
        nonlocal pending_tens
        if pending_tens is not None:
            current.append(pending_tens + "0")
            pending_tens = None
        if current:
            streams.append("".join(current))
            current.clear()

    for m in _TOKEN.finditer(text.lower()):
        tok = m.group(0)
        if tok.isdigit():
            digit = str(unicodedata.decimal(tok, 0))
            if pending_tens is not None:
                current.append(pending_tens + "0")
                pending_tens = None
            current.append(digit * pending_repeat)
            pending_repeat = 1
        elif tok in UNITS or tok in TEENS:
            value = UNITS.get(tok) or TEENS[tok]
            if pending_tens is not None and tok in UNITS and value != "0":
                current.append(pending_tens + value)
                pending_tens = None
            else:
                if pending_tens is not None:
                    current.append(pending_tens + "0")
                    pending_tens = None
                current.append(value * pending_repeat)
            pending_repeat = 1
        elif tok in TENS:
            if pending_tens is not None:
                current.append(pending_tens + "0")
            pending_tens = TENS[tok]
        elif tok in ("double", "triple"):
            pending_repeat = 2 if tok == "double" else 3
        elif tok in HESITATIONS:
            continue
        else:
            close()
            pending_repeat = 1
    close()
    return streams


def longest_shown(text: str, card: str) -> int:
    """The longest stretch of ``card`` that appears whole in one of ``text``'s digit streams."""
    best = 0
    for stream in digit_streams(text):
        for i in range(len(card)):
            for j in range(len(card), i + best, -1):
                if card[i:j] in stream:
                    best = j - i
                    break
    return best


def texts_of(value: Any) -> Iterable[str]:
    """Every string (keys included) and integer of a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        return
    elif isinstance(value, int):
        yield str(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from texts_of(k)
            yield from texts_of(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from texts_of(v)


def leaks(texts: Iterable[str], card: str) -> list[str]:
    """The texts that show more of ``card`` than six digits in a row."""
    return [t for t in texts if longest_shown(t, card) > MAX_SHOWN]


def assert_no_card(texts: Iterable[str], card: str, where: str) -> None:
    """No text shows more than six digits of ``card`` in a row, and all of them together,
    in order, do not spell it (a number split across partials or turns)."""
    texts = list(texts)
    bad = leaks(texts, card)
    assert not bad, f"{where}: card ending {card[-4:]} shown in {len(bad)} text(s), first: {bad[0][:200]!r}"
    joined = " ".join(texts)
    assert card not in "".join(digit_streams(joined)), f"{where}: the texts together spell the card"
