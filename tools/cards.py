"""Card-number helpers shared by the payments sandbox and the redaction code.

Kept separate from both so that redaction (used by logs and traces) and the payment
processor agree on exactly one definition of "looks like a card number".
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

CARD_MIN_DIGITS = 13
CARD_MAX_DIGITS = 19

_SEPARATORS = re.compile(r"[\s\-]+")


def luhn_ok(digits: str) -> bool:
    """Return True when ``digits`` (digits only) passes the Luhn checksum.

    Luhn catches almost every single-digit mistake and adjacent transposition, which are
    precisely the errors a speech recogniser or a caller reading a card aloud makes.
    """
    if not digits or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_digits(raw: str) -> str:
    """Strip spaces and dashes; the result may still be invalid (callers check)."""
    return _SEPARATORS.sub("", raw.strip())


def is_card_shaped(digits: str) -> bool:
    """13–19 ASCII digits: the length range of real PANs."""
    return digits.isascii() and digits.isdigit() and CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS


def last4(digits: str) -> str:
    """The last four digits, the only part of a card number we ever keep or show."""
    return digits[-4:]


def masked(last_four: str) -> str:
    """Speakable, loggable form of a card: ``•••• 4242``."""
    return f"•••• {last_four}"


def new_card_token() -> str:
    """A fresh vault token: random, so nothing about the card can be computed from it.

    A token derived from the number (a hash, even a keyed one) can be reversed by anyone who
    holds what derived it: the PAN space is small (a known brand prefix and the last four
    leave about 10^5 candidates). A processor's vault hands out random tokens instead.
    """
    return "tok_" + secrets.token_hex(12)


def card_fingerprint(digits: str, key: bytes) -> str:
    """What a vault looks a card up by, to give the same card the same token.

    Keyed (HMAC-SHA256), like a processor's card fingerprint: an unkeyed hash of a PAN is
    brute-forced in seconds. Only as safe as ``key``, which must never be stored with the
    fingerprints (see ``tools.sandbox.payments``).
    """
    return "fp_" + hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()
