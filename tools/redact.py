"""Masking of card numbers and other secret tool arguments.

Reused by logs, traces and (later) the journal: anything that persists or prints text
that may have passed through a caller's mouth goes through :func:`mask_card_numbers`,
and anything that records tool arguments goes through :func:`redact_args`. Over-masking
a number that merely *looks* like a card is accepted; leaking a real one is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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

    secret_fields: frozenset[str] | set[str]


def mask_card_numbers(text: str) -> str:
    """Replace every Luhn-valid 13–19 digit sequence in ``text`` with ``•••• NNNN``.

    Digits may be separated by spaces or dashes, as speech recognisers and people write
    them. Only the last four digits survive.
    """
    if not text or not any(ch.isdigit() for ch in text):
        return text
    return _RUN.sub(_mask_run, text)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    groups = [(g.start(), g.end(), len(g.group(0))) for g in _GROUP.finditer(run)]
    total = sum(n for _, _, n in groups)
    if total < CARD_MIN_DIGITS:
        return run
    pieces: list[str] = []
    cursor = 0  # character offset in run already emitted
    i = 0
    while i < len(groups):
        found = _longest_card_from(run, groups, i)
        if found is None:
            i += 1
            continue
        j, digits = found
        start, end = groups[i][0], groups[j][1]
        pieces.append(run[cursor:start])
        pieces.append(masked(last4(digits)))
        cursor = end
        i = j + 1
    pieces.append(run[cursor:])
    return "".join(pieces)


def _longest_card_from(run: str, groups: list[tuple[int, int, int]], i: int) -> tuple[int, str] | None:
    """Longest group range starting at ``i`` that is card-shaped and Luhn-valid."""
    best: tuple[int, str] | None = None
    count = 0
    for j in range(i, len(groups)):
        count += groups[j][2]
        if count > CARD_MAX_DIGITS:
            break
        if count >= CARD_MIN_DIGITS:
            digits = card_digits(run[groups[i][0] : groups[j][1]])
            if luhn_ok(digits):
                best = (j, digits)
    return best


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
