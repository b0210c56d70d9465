"""Card-number masking for logs and traces, and secret-argument redaction (tools/redact.py)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from tools.cards import card_fingerprint, luhn_ok, new_card_token
from tools.redact import (
    SECRET_FIELD_NAMES,
    count_digits,
    escape_control,
    hide_numbers,
    holds_secret_number,
    joins_long_number,
    log_safe,
    mask_card_numbers,
    mask_interim,
    redact_args,
    redact_validated,
    scrub,
    scrubbed,
)
from tools.registry import TOOLS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4242424242424242", "•••• 4242"),
        ("card 4242 4242 4242 4242 please", "card •••• 4242 please"),
        ("4242-4242-4242-4242", "•••• 4242"),
        ("amex 3782 822463 10005.", "amex •••• 0005."),
        ("visa13 4222222222222", "visa13 •••• 2222"),
        ("19 digits 6011 0000 0000 0000 001", "19 digits •••• 0001"),
        ("it's 4242 4242 4242 4242 exp 12 25", "it's •••• 4242 exp 12 25"),
        # digits said in the same breath as a card go with it: they may be the rest of a misheard one
        ("4242 4242 4242 4242 12 25", "•••• 4242"),
        ("two: 4242424242424242 and 5555-5555-5555-4444", "two: •••• 4242 and •••• 4444"),
        ('{"card_number": "4111111111111111"}', '{"card_number": "•••• 1111"}'),
        ("4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2", "•••• 4242"),
        # digits said right before the card are swallowed, the card never survives
        ("call 510 555 0142 4242 4242 4242 4242", "call •••• 4242"),
        # said as words, in pairs, with "oh" and "double", in other scripts, with any separator
        ("Four five three nine, one four eight eight, zero three four three, six four six seven.", "•••• 6467."),
        ("forty-five thirty-nine fourteen eighty-eight oh three forty-three sixty-four sixty-seven", "•••• 6467"),
        ("four five three nine one four double eight oh three four three six four six seven", "•••• 6467"),
        ("it's 4539 one four eight eight 0343 six four six seven", "it's •••• 6467"),
        ("４５３９ １４８８ ０３４３ ６４６７", "•••• 6467"),
        ("4539.1488.0343.6467 or (4539) 1488-0343, 6467 or 4539/1488/0343/6467", "•••• 6467 or (•••• 6467 or •••• 6467"),
        ("4539\u200b1488\u200b0343\u200b6467", "•••• 6467"),
        ("4539 uh 1488 um, 0343 6467", "•••• 6467"),
        # 13+ digits that fail Luhn are a misheard card: hidden whole, no last four
        ("4539 1488 0343 6468", "••••"),
        ("4242424242424241", "••••"),
        ("ref 4 5 3 9 1 4 8 8 0 3 4 3 6", "ref ••••"),
    ],
)
def test_masks_luhn_valid_numbers(text: str, expected: str) -> None:
    assert mask_card_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "call 510-555-0142",  # phone
        "five one oh, four eight two, seven three nine one",  # phone in words
        "on 2026-11-27 14:00:00",  # a date and time: ':' never joins numbers
        "a3f51234567890123b and tok_0123456789012345x",  # ids and hashes: digits stuck to letters
        "double five double five double five double five four four four four",  # 12 digits
        "at five o'clock, O'Brien",
        "slot 2025-06-03T14:00:00",  # timestamps
        "policy POL-4821 premium $1,284.00",
        "424242424242",  # 12 digits: too short
        "",
        "no digits at all",
    ],
)
def test_leaves_other_numbers_alone(text: str) -> None:
    assert mask_card_numbers(text) == text


def _luhn_complete(prefix: str) -> str:
    for check in "0123456789":
        if luhn_ok(prefix + check):
            return prefix + check
    raise AssertionError("unreachable")


@settings(max_examples=200, deadline=None)
@given(
    body=st.text(alphabet="0123456789", min_size=12, max_size=18),
    seed=st.integers(min_value=0, max_value=10_000),
    before=st.sampled_from(["", "my card is ", "x", "card: ", "(", "num=", "call 510 555 0142 ", "ref 7-"]),
    after=st.sampled_from(["", " thanks", ".", " exp 0427", ")", " and zip 94610", " 12 25", "-9"]),
)
def test_property_no_valid_card_survives(body: str, seed: int, before: str, after: str) -> None:
    card = _luhn_complete(body)
    rng = random.Random(seed)
    spoken = "".join(ch + (rng.choice(["", "", " ", "-"]) if i < len(card) - 1 else "") for i, ch in enumerate(card))
    masked = mask_card_numbers(before + spoken + after)
    assert card not in masked.replace(" ", "").replace("-", "")
    if not any(ch.isdigit() for ch in before + after):
        assert f"•••• {card[-4:]}" in masked
    else:  # a neighbouring Luhn-valid range may merge in; still masked, maybe other last 4
        assert "•••• " in masked


def test_redact_args_masks_secret_field() -> None:
    spec = TOOLS["charge_card"]
    args = {"policy_number": "POL-4821", "amount_cents": 128400, "card_number": "4242 4242 4242 4242"}
    assert redact_args(spec, args) == {"policy_number": "POL-4821", "amount_cents": 128400, "card_number": "•••• 4242"}
    assert args["card_number"] == "4242 4242 4242 4242"  # input untouched


def test_redact_args_handles_secretstr_short_and_none() -> None:
    spec = TOOLS["charge_card"]
    assert redact_args(spec, {"card_number": SecretStr("4242424242424242")})["card_number"] == "•••• 4242"
    assert redact_args(spec, {"card_number": "12"})["card_number"] == "••••"
    assert redact_args(spec, {"card_number": None})["card_number"] is None
    assert redact_args(spec, {"card_number": 4242424242424242})["card_number"] == "•••• 4242"


def test_redact_args_scrubs_cards_in_other_fields() -> None:
    spec = TOOLS["create_case"]
    args = {
        "summary": "caller read 4242 4242 4242 4242 aloud",
        "extra": {"nested": ["5555555555554444", 4111111111111111, 7]},
    }
    assert redact_args(spec, args) == {
        "summary": "caller read •••• 4242 aloud",
        "extra": {"nested": ["•••• 4444", "•••• 1111", 7]},
    }


def test_card_tokens_are_random_and_fingerprints_keyed() -> None:
    card = "4242424242424242"
    tokens = {new_card_token() for _ in range(100)}
    assert len(tokens) == 100 and all(t.startswith("tok_") and len(t) == 28 for t in tokens)
    assert card_fingerprint(card, b"k1" * 16) == card_fingerprint(card, b"k1" * 16)
    assert card_fingerprint(card, b"k1" * 16) != card_fingerprint(card, b"k2" * 16)
    assert card not in card_fingerprint(card, b"k1" * 16)


# ---------------------------------------------------------------- interim text (partials)
def test_interim_text_hides_every_number_past_six_digits() -> None:
    card = "4539148803436467"
    shown = [mask_interim(" ".join(card[:k])) for k in range(1, len(card) + 1)]
    assert shown[:6] == [" ".join(card[:k]) for k in range(1, 7)]  # the first six may show, as on a receipt
    assert all(s == "••••" for s in shown[6:])  # never four more digits at a time
    assert mask_interim("my phone is five one oh four eight two seven") == "my phone is ••••"
    assert mask_interim("policy 4821, born 1984") == "policy ••••, born ••••"  # 8 digits in all
    assert mask_interim("policy 4821") == "policy 4821"


def test_a_number_read_across_two_turns_is_recognised() -> None:
    assert joins_long_number("my card is 4539 1488.", "0343 6467 thanks")
    assert joins_long_number("four five three nine one four eight eight", "uh oh three four three six four six seven")
    assert not joins_long_number("my card is 4539 1488. Is that", "0343 6467")  # a word in between
    assert not joins_long_number("call me at 510 482 7391", "yes")
    assert not joins_long_number("", "4539 1488 0343 6467")
    assert holds_secret_number("4539 1488 0343 6467") and not holds_secret_number("510 482 7391")
    assert hide_numbers("policy 4821, card four five") == "policy ••••, card ••••"
    assert count_digits("double five, 12 and forty-two") == 6


@settings(max_examples=150, deadline=None)
@given(
    body=st.text(alphabet="0123456789", min_size=12, max_size=18),
    words=st.lists(st.booleans(), min_size=19, max_size=19),
    seps=st.lists(st.sampled_from([" ", "-", ", ", ".", " uh ", "\u200b", "/", " "]), min_size=19, max_size=19),
)
def test_property_a_card_in_words_or_digits_never_survives(body: str, words: list[bool], seps: list[str]) -> None:
    card = _luhn_complete(body)
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    said = "".join((names[int(d)] if words[i] else d) + (seps[i] if i < len(card) - 1 else "")
                   for i, d in enumerate(card))
    masked = mask_card_numbers(f"my card is {said}, thanks")
    assert masked == f"my card is •••• {card[-4:]}, thanks"
    assert not any(ch.isdigit() for ch in mask_interim(said))


# ---------------------------------------------------------------- structured values and logs
def test_every_declared_secret_field_is_masked_by_name_anywhere() -> None:
    declared = {f for spec in TOOLS.values() for f in spec.secret_fields}
    assert declared and declared <= SECRET_FIELD_NAMES
    assert scrub({"x": [{"card_number": "four two four two"}], "4242 4242 4242 4242": 1}) == {
        "x": [{"card_number": "••••"}], "•••• 4242": 1}
    assert scrubbed(SecretStr("4242424242424242")) == "**********"  # a dumped SecretStr is already hidden


def test_redact_validated_masks_secrets_from_their_raw_value() -> None:
    spec = TOOLS["charge_card"]
    args = {"policy_number": "POL-4821", "amount_cents": 128400, "card_number": "**********"}
    raw = {"card_number": "4242 4242 4242 4242", "policy_number": "pol 4821"}
    assert redact_validated(spec, args, raw) == {"policy_number": "POL-4821", "amount_cents": 128400,
                                                 "card_number": "•••• 4242"}


@pytest.mark.parametrize("text, expected", [
    ("line one\nline two", "line one\\nline two"),
    ("bell\x07 esc\x1b[31m red", "bell\\x07 esc\\x1b[31m red"),
    ("cr\r del\x7f nel\x85 ls\u2028 rlo\u202e", "cr\\r del\\x7f nel\\x85 ls\\u2028 rlo\\u202e"),
    ("plain text, café ✓", "plain text, café ✓"),
])
def test_escape_control_keeps_one_line_one_line(text: str, expected: str) -> None:
    assert escape_control(text) == expected
    assert "\n" not in log_safe(text) and "\x1b" not in log_safe(text)
