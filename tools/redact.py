"""Masking of card numbers and other secret tool arguments.

Reused by logs, traces and (later) the journal: anything that persists or prints text
that may have passed through a caller's mouth goes through :func:`mask_card_numbers`,
and anything that records tool arguments goes through :func:`redact_args`. Over-masking
a number that merely *looks* like a card is accepted; leaking a real one is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Protocol

from pydantic import SecretStr

from tools.cards import CARD_MAX_DIGITS, CARD_MIN_DIGITS, card_digits, last4, luhn_ok, masked

# A "run" is a stretch of digit groups separated by single spaces or dashes, e.g.
# "4242 4242 4242 4242" or "4-2-4-2...". Card numbers are searched for inside runs along
# group boundaries, so that digits said right after a card ("... 4242 exp 12 25") do not
# hide it by making the run too long.
_RUN = re.compile(r"\d+(?:[ \-]\d+)*")
_GROUP = re.compile(r"\d+")


class HasSecretFields(Protocol):
    """Anything that declares which argument names are secret (a ``ToolSpec``)."""

    @property
    def secret_fields(self) -> AbstractSet[str]: ...


def mask_card_numbers(text: str) -> str:
    """Replace every Luhn-valid 13–19 digit sequence in ``text`` with ``•••• NNNN``.

    Digits may be separated by spaces or dashes, as speech recognisers and people write
    them. Only the last four digits survive.
    """
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return _RUN.sub(_mask_run, text)


def _mask_run(match: re.Match[str]) -> str:
    """Mask every Luhn-valid range of whole digit groups inside one run.

    All valid ranges are masked (overlapping ones merged), not just the longest from
    some start: otherwise digits said just before a card ("... 0142 4242 4242 ...") could
    form a false "card" that swallows half of the real one and leaves the rest visible.
    """
    run = match.group(0)
    groups = [(g.start(), g.end()) for g in _GROUP.finditer(run)]
    if sum(end - start for start, end in groups) < CARD_MIN_DIGITS:
        return run
    spans: list[tuple[int, int]] = []  # (first group, last group), inclusive
    for i in range(len(groups)):
        count = 0
        for j in range(i, len(groups)):
            count += groups[j][1] - groups[j][0]
            if count > CARD_MAX_DIGITS:
                break
            if count >= CARD_MIN_DIGITS and luhn_ok(card_digits(run[groups[i][0] : groups[j][1]])):
                if spans and i <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], j))
                else:
                    spans.append((i, j))
    if not spans:
        return run
    pieces: list[str] = []
    cursor = 0
    for first, last in spans:
        start, end = groups[first][0], groups[last][1]
        pieces.append(run[cursor:start])
        pieces.append(masked(last4(card_digits(run[start:end]))))
        cursor = end
    pieces.append(run[cursor:])
    return "".join(pieces)


def mask_secret_value(value: Any) -> str:
    """Mask one secret argument value, keeping the last four digits when it has them."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    digits = "".join(ch for ch in raw if ch.isdigit())
    return masked(digits[-4:]) if len(digits) >= 4 else "••••"


def redact_args(spec: HasSecretFields, args: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of ``args`` safe to log or trace.

    Declared secret fields are masked outright; every other string (at any depth) is
    still scanned for card numbers, because callers read card numbers into the wrong
    slot (a note, a summary) more often than one would hope.
    """
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key in spec.secret_fields and value is not None:
            out[key] = mask_secret_value(value)
        else:
            out[key] = _scrub(value)
    return out


def scrub(value: Any) -> Any:
    """Mask card numbers in any JSON-like value, at any depth (strings and integers)."""
    return _scrub(value)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, SecretStr):
        return mask_secret_value(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        scrubbed = mask_card_numbers(text)
        return value if scrubbed == text else scrubbed
    if isinstance(value, Mapping):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value
