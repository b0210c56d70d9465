"""Normalizers and annotated field types for tool arguments.

Tool arguments come from two imperfect producers: a speech recogniser ("five one oh,
five five five ...", "pol 4821", "$900k") and a planner/LLM (ISO strings, stray
whitespace, empty strings for "unknown"). Normalizing here, once, keeps every action
strict about what it stores while staying forgiving about how values were said.

Every normalizer is a plain function (usable by the planner's slot extraction too) and
raises ``ValueError`` with a short sentence a caller-facing agent could paraphrase.
Values a normalizer does not recognise are passed through unchanged so pydantic's own
type checks produce the standard error.
"""

from __future__ import annotations

import math

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

_DIGIT_WORDS: dict[str, str] = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_SMALL_NUMBERS: dict[str, int] = {
    "zero": 0,
    "studio": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_WORD = re.compile(r"[A-Za-z]+")
_SPACES = re.compile(r"\s+")


def spoken_digits(text: str) -> str:
    """Replace spoken digit words ("five one oh") with digits; leave everything else."""
    return _WORD.sub(lambda m: _DIGIT_WORDS.get(m.group(0).lower(), m.group(0)), text)


def _reject_non_text(value: Any, what: str) -> str:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be text, not true/false")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text")
    return value


def blank_to_none(value: Any) -> Any:
    """Planners often send "" (or "unknown") for a slot they do not have; that is None."""
    if isinstance(value, str) and value.strip().lower() in {"", "none", "null", "unknown", "n/a"}:
        return None
    return value


def normalize_phone(value: Any) -> str:
    """US phone number → 10 digits ("+1 (510) 555-0142" → "5105550142")."""
    text = _reject_non_text(value, "phone number")
    digits = "".join(ch for ch in spoken_digits(text) if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        raise ValueError(f"phone number must have 10 digits (US), got {len(digits)}")
    if digits[0] in "01":
        raise ValueError("phone number area code cannot start with 0 or 1")
    return digits


_POLICY_NOISE = re.compile(r"\b(?:POLICY|NUMBER|NO\.?|NUM)\b|#", re.IGNORECASE)
_POLICY = re.compile(r"(?:P[\s.\-]*O[\s.\-]*L[\s.\-:]*)?([\d\s\-]+)")


def normalize_policy_number(value: Any) -> str:
    """Policy number → canonical "POL-4821" ("pol 4821", "POL4821", "policy number 4821")."""
    text = _reject_non_text(value, "policy number").strip().upper()
    text = _POLICY_NOISE.sub(" ", text).strip()
    match = _POLICY.fullmatch(text)
    if match is None:
        # Spoken digits only after the "POL" prefix is gone: "O" must not become zero.
        prefix_free = re.sub(r"^P[\s.\-]*O[\s.\-]*L\b[\s.\-:]*", "", text)
        match = _POLICY.fullmatch(spoken_digits(prefix_free).strip())
    digits = "".join(ch for ch in match.group(1) if ch.isdigit()) if match else ""
    if not 4 <= len(digits) <= 8:
        raise ValueError("policy number should look like POL-4821")
    return f"POL-{digits}"


_LISTING = re.compile(r"(?:LISTING\s*)?(?:L[\s.\-]*)?(\d{3,5})")


def normalize_listing_id(value: Any) -> str:
    """Listing id → canonical "L-101" ("l101", "L 101", "listing 101", "101")."""
    text = _reject_non_text(value, "listing id").strip().upper()
    text = text.replace("#", "").strip()
    match = _LISTING.fullmatch(text) or _LISTING.fullmatch(spoken_digits(text).replace(" ", ""))
    if match is None:
        raise ValueError("listing id should look like L-101")
    return f"L-{match.group(1)}"


_MONEY_NOISE = re.compile(r"\busd\b|\bdollars?\b|\bbucks\b|\b(?:a|per)\s+month\b|/mo\b|\bup\s+to\b|\bunder\b")
_DOLLARS = re.compile(r"(\d+(?:\.\d+)?)\s*(k|thousand|m|mil|million)?")
_MULTIPLIERS: dict[str, int] = {"k": 1_000, "thousand": 1_000, "m": 1_000_000, "mil": 1_000_000, "million": 1_000_000}


def parse_dollars(value: Any) -> Any:
    """Whole dollars from 900000, "$900,000", "900k", "1.2 million"."""
    if isinstance(value, bool):
        raise ValueError("amount must be a number of dollars")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("amount must be a finite number of dollars")
        return round(value)
    if not isinstance(value, str):
        return value
    text = _MONEY_NOISE.sub(" ", value.strip().lower().replace("$", "").replace(",", ""))
    match = _DOLLARS.fullmatch(_SPACES.sub(" ", text).strip())
    if match is None:
        raise ValueError("amount should be dollars, like 900000 or $900k")
    amount = Decimal(match.group(1)) * _MULTIPLIERS.get(match.group(2) or "", 1)
    return int(amount.to_integral_value())


def parse_cents(value: Any) -> Any:
    """Integer cents. Plain integers are cents; text with "$", "." or "," is dollars.

    "$1,284.00" → 128400 and "128400" → 128400. A fractional float is refused rather than
    guessed at, because a wrong guess here is a wrong charge.
    """
    if isinstance(value, bool):
        raise ValueError("amount_cents must be a whole number of cents")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("amount_cents must be a whole number of cents")
        return int(value)
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.isdigit():
        return int(text)
    cleaned = re.sub(r"\$|,|\busd\b|\bdollars?\b", "", text.lower()).strip()
    try:
        dollars = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("amount_cents must be cents (128400) or dollars ($1,284.00)") from None
    cents = dollars * 100
    if cents != cents.to_integral_value():
        raise ValueError("amount has more than two decimal places")
    return int(cents)


_BEDROOMS = re.compile(r"(\d+)\s*(?:-?\s*(?:bed(?:room)?s?|br|bd|b/r))?")


def parse_bedrooms(value: Any) -> Any:
    """Bedroom count from 2, "2", "two", "2 bedrooms", "2br", "studio"."""
    if isinstance(value, bool):
        raise ValueError("bedrooms must be a number")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        return value
    text = _SPACES.sub(" ", value.strip().lower())
    first = text.split(" ", 1)[0] if text else ""
    if first in _SMALL_NUMBERS:
        return _SMALL_NUMBERS[first]
    match = _BEDROOMS.fullmatch(text)
    if match is None:
        raise ValueError("bedrooms should be a number like 2")
    return int(match.group(1))


def normalize_name(value: Any) -> str:
    """Person name: whitespace collapsed, title-cased when the recogniser gave all-lower/upper."""
    text = _SPACES.sub(" ", _reject_non_text(value, "name")).strip(" .,;:-")
    if not any(ch.isalpha() for ch in text):
        raise ValueError("name must contain letters")
    if len(text) > 100:
        raise ValueError("name is too long (max 100 characters)")
    if text.islower() or text.isupper():
        text = text.title()
    return text


_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}")


def normalize_email(value: Any) -> str:
    """Email, also from dictation: "Maria at example dot com" → "maria@example.com"."""
    text = " " + _reject_non_text(value, "email").strip().lower() + " "
    text = text.replace(" at ", "@").replace(" dot ", ".")
    text = text.replace(" ", "")
    if not _EMAIL.fullmatch(text):
        raise ValueError("email address doesn't look valid")
    return text


def normalize_area(value: Any) -> str:
    """Area/city name: accents folded, state suffix dropped, tidy capitalisation."""
    text = unicodedata.normalize("NFKD", _reject_non_text(value, "area"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _SPACES.sub(" ", text).strip(" .,")
    text = re.sub(r",?\s+(?:ca|calif\.?|california)$", "", text, flags=re.IGNORECASE).strip()
    if not text:
        raise ValueError("area must not be empty")
    if text.islower() or text.isupper():
        text = text.title()
    return text


_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)\b", re.IGNORECASE)
_DATE_FORMATS = ("%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y", "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%Y/%m/%d")


def parse_date(value: Any) -> Any:
    """Dates from ISO and the common spoken/US forms ("03/12/1984", "March 12th, 1984")."""
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, str):
        return value
    text = _ORDINAL.sub(r"\1", value.strip()).replace(",", " ")
    text = _SPACES.sub(" ", text).strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return value  # let pydantic report it in its standard words


def naive_local(value: datetime) -> datetime:
    """Tour times are sandbox wall-clock times: drop any UTC offset, keep the clock reading.

    Planners sometimes attach an offset to a time the caller said locally; converting it
    would silently move the tour by hours.
    """
    return value.replace(tzinfo=None)


def non_empty_text(value: str) -> str:
    """Free text with whitespace runs collapsed; blank is an error, not an empty note."""
    text = _SPACES.sub(" ", value).strip()
    if not text:
        raise ValueError("text must not be empty")
    return text


Phone = Annotated[str, BeforeValidator(normalize_phone)]
PolicyNumber = Annotated[str, BeforeValidator(normalize_policy_number)]
ListingId = Annotated[str, BeforeValidator(normalize_listing_id)]
# Constraints come before the validators in each Annotated so that they land on the inner
# int/str schema and render as standard JSON Schema (exclusiveMinimum, maxLength, ...).
Dollars = Annotated[int, Field(gt=0), BeforeValidator(parse_dollars)]
Cents = Annotated[int, Field(gt=0), BeforeValidator(parse_cents)]
Bedrooms = Annotated[int, Field(ge=0, le=10), BeforeValidator(parse_bedrooms)]
PersonName = Annotated[str, BeforeValidator(normalize_name)]
Email = Annotated[str, BeforeValidator(normalize_email)]
Area = Annotated[str, BeforeValidator(normalize_area)]
FlexibleDate = Annotated[date, BeforeValidator(parse_date)]
LocalDateTime = Annotated[datetime, AfterValidator(naive_local)]
NoteText = Annotated[str, Field(max_length=1000), AfterValidator(non_empty_text)]
SummaryText = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(non_empty_text)]
