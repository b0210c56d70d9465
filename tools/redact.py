"""Redaction: the one module that decides what of a caller's secrets may be written anywhere.

Every sink calls it at the point where text leaves the process: the trace collector before a
turn is written or published, the data-channel publisher, the log formatter, the journal
encoder. Code upstream may mask earlier (tool arguments by their declared secret fields), but
no new path can forget it, because the sinks mask whatever reaches them.

The rules, and why:

* **Numbers are read the way they are heard.** A number run is a sequence of digits in any
  script ("4539", "４５３９"), number words ("four five three nine", "oh", "double five",
  "forty-five") joined by separators (spaces, dashes, dots, commas, slashes, brackets,
  zero-width spaces) or hesitations ("uh", "um"). A card read aloud and transcribed as
  words, digits, or both is one run.
* **Final text** (final transcripts, planned and spoken replies, tool arguments and results,
  errors, log lines, journal payloads): a run with 13 or more digits is never shown. It becomes
  ``•••• 1234``, the last four of the Luhn-valid card inside it, or ``••••`` when there is
  none: a card misheard by one digit fails Luhn, yet the checksum gives the real one back.
  The digits said next to a card in the same run are swallowed with it (over-masking a
  number that merely looks like a card is accepted; leaking a real one is not).
* **Interim text** (partial transcripts): once a partial holds more than six digits in all,
  every number in it is hidden. A partial is a prefix of what the caller is still saying;
  prefixes of different lengths, each masked as "•••• last four", would give the card away
  four digits at a time, and with the final's last four, a long prefix is the whole card.
  Six is the most PCI DSS lets a display show besides the last four.
* **A card taken group by group** (four digits a turn, each said back): the agent's group
  question hides every number before it (:func:`asks_for_card_group`), and the call hides every
  number of the caller's answer to it (`hide_numbers`; the trace, the log line, the journal).
* **Secret fields by name** (``card_number``...) are masked from their own digits whatever
  their shape, at any depth.
* **Logs** additionally escape control characters (:func:`escape_control`), so caller text can
  never start a log line of its own.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Final, Protocol

from pydantic import BaseModel, SecretStr

from tools.cards import CARD_MAX_DIGITS, CARD_MIN_DIGITS, last4, luhn_ok, masked

MASK: Final[str] = "••••"
#: Partials may show at most this many digits in all (PCI DSS: first six + last four).
INTERIM_MAX_DIGITS: Final[int] = 6
#: Argument names that are secret wherever they appear (every tool's ``secret_fields`` is
#: among them: tests/tools/test_tools_redact.py checks it).
SECRET_FIELD_NAMES: Final[frozenset[str]] = frozenset(
    {"card_number", "pan", "cvv", "cvc", "security_code", "card_security_code"}
)

_UNITS: Final[dict[str, str]] = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "nil": "0", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
_TEENS: Final[dict[str, str]] = {
    "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19",
}
_TENS: Final[dict[str, str]] = {
    "twenty": "2", "thirty": "3", "forty": "4", "fourty": "4", "fifty": "5", "sixty": "6", "seventy": "7",
    "eighty": "8", "ninety": "9",
}
_REPEATS: Final[dict[str, int]] = {"double": 2, "triple": 3}
_FILLERS: Final[tuple[str, ...]] = ("uh", "uhm", "um", "umm", "er", "erm", "ah", "hmm", "mm")


def _alt(words: Any) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_W0, _W1 = r"(?<![\w'’])", r"(?![\w'’])"  # word edges; "o'clock" and "O'Brien" hold no zero
_ATOM = re.compile(
    rf"(?P<repeat>{_W0}(?:{_alt(_REPEATS)})[\s\-]+(?:(?:{_alt(_UNITS)}){_W1}|\d(?!\d)))"
    rf"|(?P<tens>{_W0}(?:{_alt(_TENS)})(?:[\s\-]+(?:{_alt(k for k in _UNITS if _UNITS[k] != '0')}))?{_W1})"
    rf"|(?P<word>{_W0}(?:{_alt([*_UNITS, *_TEENS])}){_W1})"
    r"|(?P<digits>\d+)",
    re.IGNORECASE,
)
_SEPARATOR = r"[\s\-\u2010-\u2015.,/_()+#*\u200b-\u200d\u2060\ufeff]"
_GAP = re.compile(rf"(?:{_SEPARATOR}|{_W0}(?:{_alt(_FILLERS)}){_W1})*", re.IGNORECASE)
_MAX_GAP = 40  # characters; longer stretches between two numbers never join them
_LETTER = re.compile(r"[^\W\d_]")
# Control characters, line and paragraph separators, and bidi overrides (which can make a
# log line read differently from what it holds).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class HasSecretFields(Protocol):
    """Anything that declares which argument names are secret (a ``ToolSpec``)."""

    @property
    def secret_fields(self) -> AbstractSet[str]: ...


@dataclass(frozen=True)
class _Atom:
    start: int
    end: int
    digits: str  # ASCII


def _atom_digits(m: re.Match[str]) -> str:
    kind, raw = m.lastgroup, m.group(0)
    if kind == "digits":
        return "".join(str(unicodedata.decimal(ch, 0)) for ch in raw)
    words = re.split(r"[\s\-]+", raw.lower())
    if kind == "repeat":
        unit = words[-1]
        return _REPEATS[words[0]] * (_UNITS.get(unit) or str(unicodedata.decimal(unit, 0)))
    if kind == "tens":
        return _TENS[words[0]] + (_UNITS[words[1]] if len(words) > 1 else "0")
    return _UNITS.get(words[0]) or _TEENS[words[0]]


def _runs(text: str) -> list[list[_Atom]]:
    """Number runs: atoms joined by separators or hesitations only."""
    runs: list[list[_Atom]] = []
    for m in _ATOM.finditer(text):
        atom = _Atom(m.start(), m.end(), _atom_digits(m))
        if runs:
            gap = text[runs[-1][-1].end : atom.start]
            if len(gap) <= _MAX_GAP and _GAP.fullmatch(gap):
                runs[-1].append(atom)
                continue
        runs.append([atom])
    return runs


def _glued(text: str, run: list[_Atom]) -> bool:
    """Digits stuck to letters ("a3f51234567890123b"): an id or a hash, not something said."""
    before = text[run[0].start - 1] if run[0].start > 0 else ""
    after = text[run[-1].end] if run[-1].end < len(text) else ""
    return bool(_LETTER.match(before) or _LETTER.match(after))


def _card_spans(run: list[_Atom]) -> list[tuple[int, int]]:
    """Every Luhn-valid range of whole atoms with 13–19 digits, overlapping ranges merged."""
    spans: list[tuple[int, int]] = []  # (first atom, last atom), inclusive
    for i in range(len(run)):
        count, digits = 0, ""
        for j in range(i, len(run)):
            count += len(run[j].digits)
            digits += run[j].digits
            if count > CARD_MAX_DIGITS:
                break
            if count >= CARD_MIN_DIGITS and luhn_ok(digits):
                if spans and i <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], max(spans[-1][1], j))
                else:
                    spans.append((i, j))
    return spans


def _mask_run(text: str, run: list[_Atom]) -> str:
    spans = _card_spans(run)
    total = sum(len(a.digits) for a in run)
    if total >= CARD_MIN_DIGITS and not _glued(text, run):
        # the whole run goes: a card's neighbours in one breath may be the rest of a misheard card
        return " ".join(masked(last4("".join(a.digits for a in run[f : l + 1]))) for f, l in spans) or MASK
    pieces: list[str] = []
    cursor = run[0].start
    for first, last in spans:
        start, end = run[first].start, run[last].end
        pieces.append(text[cursor:start])
        pieces.append(masked(last4("".join(a.digits for a in run[first : last + 1]))))
        cursor = end
    pieces.append(text[cursor : run[-1].end])
    return "".join(pieces)


def _replace_runs(text: str, render: Any) -> str:
    runs = _runs(text)
    if not runs:
        return text
    out: list[str] = []
    cursor = 0
    for run in runs:
        out.append(text[cursor : run[0].start])
        out.append(render(run))
        cursor = run[-1].end
    out.append(text[cursor:])
    return "".join(out)


#: The agent's question for one group of a card taken four digits at a time
#: (`worker.planner.card_groups`); the group it says back before it is part of a card.
_CARD_GROUP_QUESTION: Final = re.compile(r"\b(?:first|second|third|last) four digits\b", re.IGNORECASE)


def asks_for_card_group(text: str) -> bool:
    """True when ``text`` asks for one group of a card read four digits at a time."""
    return bool(text) and _CARD_GROUP_QUESTION.search(text) is not None


def mask_card_numbers(text: str) -> str:
    """Final text: every number run with a card in it, or with 13+ digits, masked (see module doc).
    Before a card group question ("4 1 1 1. What are the second four digits?") every number is
    hidden: four groups said back one per turn would otherwise add up to the card."""
    if not text:
        return text
    m = _CARD_GROUP_QUESTION.search(text)
    if m is not None:
        return hide_numbers(text[:m.start()]) + text[m.start():m.end()] + mask_card_numbers(text[m.end():])
    return _replace_runs(text, lambda run: _mask_run(text, run))


def hide_numbers(text: str) -> str:
    """Every number run, whatever its length, becomes ``••••``."""
    if not text:
        return text
    return _replace_runs(text, lambda run: MASK)


def count_digits(text: str) -> int:
    """Digits in ``text`` as a listener would count them (words and every script included)."""
    return sum(len(a.digits) for run in _runs(text) for a in run) if text else 0


def mask_interim(text: str) -> str:
    """Interim (partial) text: more than six digits in all and every number is hidden."""
    if count_digits(text) > INTERIM_MAX_DIGITS:
        return hide_numbers(text)
    return mask_card_numbers(text)


def joins_long_number(previous: str, current: str) -> bool:
    """True when ``current`` reads on a number that ends ``previous`` and together they make a
    run that final-text masking would hide (a card read across two turns)."""
    if not previous or not current:
        return False
    text = previous + " " + current
    boundary = len(previous)
    for run in _runs(text):
        if run[0].start < boundary < run[-1].end:
            return sum(len(a.digits) for a in run) >= CARD_MIN_DIGITS and not _glued(text, run)
    return False


def holds_secret_number(text: str) -> bool:
    """True when final-text masking changes ``text`` (a card, or a 13+ digit run, is in it)."""
    return mask_card_numbers(text) != text


# ---------------------------------------------------------------- structured values


def mask_secret_value(value: Any) -> str:
    """Mask one secret argument value, keeping the last four digits when it has them."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
    digits = "".join(str(unicodedata.decimal(ch, 0)) for ch in raw if ch.isdecimal())
    return masked(digits[-4:]) if len(digits) >= 4 else MASK


def redact_args(spec: HasSecretFields, args: Mapping[str, Any]) -> dict[str, Any]:
    """Copy of ``args`` safe to log or trace.

    Declared secret fields are masked outright; every other value (at any depth) is still
    scrubbed, because callers read card numbers into the wrong slot (a note, a summary) more
    often than one would hope.
    """
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key in spec.secret_fields and value is not None:
            out[key] = mask_secret_value(value)
        else:
            out[key] = scrub(value)
    return out


def redact_validated(spec: HasSecretFields, args: Mapping[str, Any], raw_args: Mapping[str, Any]) -> dict[str, Any]:
    """Validated (normalized) arguments for a trace, secrets masked from their clear raw value.

    Validation turns secrets into ``SecretStr`` ("**********" once dumped), so the last four
    are taken from the raw argument instead.
    """
    clear = {f: raw_args[f] for f in spec.secret_fields if f in raw_args}
    return redact_args(spec, {**args, **clear})


def scrub(value: Any) -> Any:
    """Mask card numbers in any JSON-like value, at any depth: strings (keys too), integers, and
    the values of secret field names, whatever they hold."""
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, SecretStr):
        return mask_secret_value(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        masked_text = mask_card_numbers(text)
        return value if masked_text == text else masked_text
    if isinstance(value, Mapping):
        return {scrub(k) if isinstance(k, str) else k:
                mask_secret_value(v) if k in SECRET_FIELD_NAMES and v is not None else scrub(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def scrubbed(value: BaseModel | Mapping[str, Any] | Any) -> Any:
    """A model or JSON-like value as plain JSON values, scrubbed (what a journal entry may hold)."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return scrub(json.loads(json.dumps(data, default=str)))


# ---------------------------------------------------------------- logs


def escape_control(text: str) -> str:
    """Control characters as visible escapes (``\\n``, ``\\x1b``, ``\\u2028``): one line stays one line."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def log_safe(text: str) -> str:
    """What a log line may hold of ``text``: card numbers masked, control characters escaped."""
    return escape_control(mask_card_numbers(text))
