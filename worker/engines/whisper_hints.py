"""Decoder hints: what the caller's answer looks like when the agent just asked for a slot.

Why: Whisper tiny.en hears "five" as "fine", drops "oh" and merges digit groups when it has no
idea a number is coming; the state machine does know (it just asked for the phone, the card,
the policy number). Whisper's "previous text" prompt is the cheap way to say so: a short line
in the slot's written shape ("My number is 415-555-0192.") makes digits likelier and the
output formatted like the example. The prompt is a fixed example per slot, never the caller's
own data, so it cannot leak one caller's number into another's transcript.

Slot names are the reading layer's `expecting` names (`worker.reading.context.ANSWERABLE`);
this module only knows them as strings, so the engines floor imports nothing above it.
"""

from __future__ import annotations

__all__ = ["SLOT_PROMPTS", "decode_hint"]

SLOT_PROMPTS: dict[str, str] = {
    "phone": "My number is 415-555-0192.",
    "card_number": "The card number is 4111 1111 1111 1111.",
    "card": "The card number is 4111 1111 1111 1111.",
    "policy_number": "My policy number is POL-4821.",
    "policy": "My policy number is POL-4821.",
    "amount": "Please charge $1,284.50.",
    "amount_cents": "Please charge $1,284.50.",
    "budget": "My budget is $900,000.",
    "date": "On Thursday, March 12th.",
    "date_of_birth": "I was born on March 12, 1984.",
    "time": "At 2:30 PM.",
    "address": "The address is 1234 Maple Street.",
    "name": "My name is Dana Whitfield.",
    "holder_name": "My name is Dana Whitfield.",
    "full_name": "My name is Dana Whitfield.",
}


def decode_hint(expecting: str | None) -> str | None:
    """The initial prompt for an answer to `expecting`, or None (no bias) for other questions."""
    return SLOT_PROMPTS.get(expecting or "")
