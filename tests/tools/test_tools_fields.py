"""Normalizers: strict about meaning, forgiving about how a recogniser wrote it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tools import fields


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5105550142", "5105550142"),
        ("(510) 555-0142", "5105550142"),
        ("+1 510 555 0142", "5105550142"),
        ("1-510-555-0142", "5105550142"),
        ("five one oh five five five oh one four two", "5105550142"),
        (5105550142, "5105550142"),
    ],
)
def test_phone(raw: Any, expected: str) -> None:
    assert fields.normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["555 0142", "510555014299", "0105550142", "", True, None])
def test_phone_rejects(raw: Any) -> None:
    with pytest.raises(ValueError):
        fields.normalize_phone(raw)


@pytest.mark.parametrize(
    "raw",
    ["POL-4821", "pol 4821", "POL4821", "pol-4821", "Policy number 4821", "4821", "p.o.l. 4821", "policy #4821",
     "pol four eight two one", "POL 48 21"],
)
def test_policy_number(raw: str) -> None:
    assert fields.normalize_policy_number(raw) == "POL-4821"


@pytest.mark.parametrize("raw", ["hello", "POL-12", "ABC-4821", "POL-123456789", ""])
def test_policy_number_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        fields.normalize_policy_number(raw)


@pytest.mark.parametrize("raw", ["L-101", "l101", "L 101", "listing 101", "101", "#101", "l.101"])
def test_listing_id(raw: str) -> None:
    assert fields.normalize_listing_id(raw) == "L-101"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(900000, 900000), ("900000", 900000), ("$900,000", 900000), ("900k", 900000), ("900 K", 900000),
     ("1.2 million", 1_200_000), ("$1.2M", 1_200_000), ("under 750 thousand dollars", 750_000), (899999.6, 900000)],
)
def test_dollars(raw: Any, expected: int) -> None:
    assert fields.parse_dollars(raw) == expected


@pytest.mark.parametrize("raw", ["a lot", "nine hundred k", True, float("inf"), float("-inf"), float("nan")])
def test_dollars_rejects(raw: Any) -> None:
    with pytest.raises(ValueError):
        fields.parse_dollars(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(128400, 128400), ("128400", 128400), ("$1,284.00", 128400), ("1284.5", 128450), (128400.0, 128400)],
)
def test_cents(raw: Any, expected: int) -> None:
    assert fields.parse_cents(raw) == expected


@pytest.mark.parametrize("raw", [1284.5, "$12.345", "twelve", False])
def test_cents_rejects(raw: Any) -> None:
    with pytest.raises(ValueError):
        fields.parse_cents(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [(2, 2), ("2", 2), ("two", 2), ("2 bedrooms", 2), ("3br", 3), ("studio", 0), ("Three bed", 3)]
)
def test_bedrooms(raw: Any, expected: int) -> None:
    assert fields.parse_bedrooms(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("maria gonzalez", "Maria Gonzalez"), ("MARIA  GONZALEZ", "Maria Gonzalez"), ("Maria de la Cruz", "Maria de la Cruz"),
     (" o'brien. ", "O'Brien")],
)
def test_name(raw: str, expected: str) -> None:
    assert fields.normalize_name(raw) == expected


def test_name_rejects() -> None:
    for raw in ("", "1234", "x" * 101):
        with pytest.raises(ValueError):
            fields.normalize_name(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Maria@Example.com", "maria@example.com"), ("maria at example dot com", "maria@example.com"),
     ("maria.g at mail dot example dot org", "maria.g@mail.example.org")],
)
def test_email(raw: str, expected: str) -> None:
    assert fields.normalize_email(raw) == expected


def test_email_rejects() -> None:
    with pytest.raises(ValueError):
        fields.normalize_email("maria at example")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("oakland", "Oakland"), ("Oakland, CA", "Oakland"), ("SAN JOSE", "San Jose"), ("San José", "San Jose"),
     ("berkeley california", "Berkeley")],
)
def test_area(raw: str, expected: str) -> None:
    assert fields.normalize_area(raw) == expected


@pytest.mark.parametrize(
    "raw", ["1984-03-12", "03/12/1984", "3/12/1984", "March 12, 1984", "March 12th 1984", "12 March 1984", "Mar 12 1984"]
)
def test_dates(raw: str) -> None:
    assert fields.parse_date(raw) == date(1984, 3, 12)


def test_unparseable_date_passes_through_for_pydantic() -> None:
    assert fields.parse_date("someday") == "someday"


@pytest.mark.parametrize("raw", ["", "  ", "unknown", "None", "null", "N/A"])
def test_blank_to_none(raw: str) -> None:
    assert fields.blank_to_none(raw) is None
