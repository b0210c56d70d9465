"""No full card number is ever written to the sandbox database file or its WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tools.errors import ToolFailure
from tools.registry import TOOLS
from tools.sandbox import Sandbox
from tools.steps import run_plan

from tests.steps.helpers import CHARGE, validated
from tests.support.clocks import FixedClock
from tests.support.dates import TOOLS_TODAY

CARDS = ("4242424242424242", "5555555555554444", "378282246310005", "4000000000000002", "4242424242424241")


def db_bytes(path: Path) -> bytes:
    """The main file plus -wal and -shm, whatever exists right now."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def assert_no_card(blob: bytes) -> None:
    for card in CARDS:
        for form in (card, " ".join(card[i : i + 4] for i in range(0, len(card), 4))):
            assert form.encode() not in blob, f"card ending {card[-4:]} found in the database bytes"
            assert form.encode("utf-16-le") not in blob


async def test_card_numbers_never_reach_the_database_bytes(db_path: Path, log_lines: list[str]) -> None:
    sb = Sandbox.open(db_path, TOOLS_TODAY, clock=FixedClock())
    try:
        for n, card in enumerate(CARDS):
            spoken = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
            args = validated("charge_card", {**CHARGE, "card_number": spoken})
            try:
                await run_plan(sb, TOOLS["charge_card"].plan, args, f"call-{n}:pay")
            except ToolFailure:
                pass  # declined / invalid: must not leave the number behind either
        sb.faults.arm("payments", "capture", "crash_after_effect")
        with pytest.raises(ToolFailure):
            await run_plan(sb, TOOLS["charge_card"].plan, validated("charge_card", CHARGE), "call-crash:pay")
        sb.payments.charge("POL-4821", 128_400, CARDS[1], "legacy-1")  # the single-call path too
        wal = Path(f"{db_path}-wal")
        assert wal.exists() and wal.stat().st_size > 0  # the check below really reads a live WAL
        assert_no_card(db_bytes(db_path))
        assert sb.payments.count_charges() == 5 and sb.payments.count_vault() == 4
    finally:
        sb.close()
    assert_no_card(db_bytes(db_path))
    joined = "\n".join(log_lines)
    assert all(card not in joined for card in CARDS)


def test_the_byte_scan_finds_a_planted_number(db_path: Path) -> None:
    """The scan above is not vacuous: a number written by anyone shows up in the bytes."""
    with Sandbox.open(db_path, TOOLS_TODAY) as sb:
        assert_no_card(db_bytes(db_path))
        conn = sqlite3.connect(db_path)
        conn.execute("INSERT INTO meta (key, value) VALUES ('planted', ?)", (CARDS[0],))
        conn.commit()
        conn.close()
        with pytest.raises(AssertionError, match="4242"):
            assert_no_card(db_bytes(db_path))
        assert sb.payments.count_vault() == 0
