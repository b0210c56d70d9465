"""Card-number masking for logs and traces, and secret-argument redaction."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from tools.cards import luhn_ok, tokenize
from tools.redact import mask_card_numbers, redact_args
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
        ("4242 4242 4242 4242 12 25", "•••• 4242 12 25"),
        ("two: 4242424242424242 and 5555-5555-5555-4444", "two: •••• 4242 and •••• 4444"),
        ('{"card_number": "4111111111111111"}', '{"card_number": "•••• 1111"}'),
        ("4 2 4 2 4 2 4 2 4 2 4 2 4 2 4 2", "•••• 4242"),
        # digits said right before the card may be swallowed, the card never survives
        ("call 510 555 0142 4242 4242 4242 4242", "call 510 555 0142 •••• 4242"),
    ],
)
def test_masks_luhn_valid_numbers(text: str, expected: str) -> None:
    assert mask_card_numbers(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424241",  # fails Luhn
        "call 510-555-0142",  # phone
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


def test_tokenize_is_keyed_and_stable() -> None:
    card = "4242424242424242"
    assert tokenize(card, b"k1") == tokenize(card, b"k1")
    assert tokenize(card, b"k1") != tokenize(card, b"k2")
    assert tokenize(card, b"k1").startswith("tok_") and card not in tokenize(card, b"k1")
