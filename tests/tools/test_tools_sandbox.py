"""The sandbox database itself: WAL, seeding, reopening, cross-connection reads."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path

from tools.sandbox import LISTINGS, POLICIES, SLOT_HOURS, WINDOW_DAYS, Sandbox


def test_open_uses_wal_and_seeds(sb: Sandbox, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        slots = conn.execute("SELECT COUNT(*) FROM tour_slots").fetchone()[0]
    finally:
        conn.close()
    assert slots == len(LISTINGS) * WINDOW_DAYS * len(SLOT_HOURS)
    assert len(sb.listings.list_listings()) == len(LISTINGS) >= 8
    assert {l.area for l in LISTINGS} >= {"Oakland", "Berkeley", "Alameda", "San Jose"}
    assert [p.policy_number for p in sb.policies.list_policies()] == sorted(p.policy_number for p in POLICIES)
    holds = sb.calendar.count_bookings(include_seed=True)
    assert 0.1 < holds / slots < 0.35
    assert sb.calendar.count_bookings() == 0


def test_window_is_next_fourteen_days(sb: Sandbox, today: date) -> None:
    first = today + timedelta(days=1)
    last = today + timedelta(days=WINDOW_DAYS)
    assert sb.calendar.free_slots("L-201", first)
    assert sb.calendar.free_slots("L-201", last)
    assert sb.calendar.free_slots("L-201", today) == []
    assert sb.calendar.free_slots("L-201", last + timedelta(days=1)) == []
    assert all(s.hour in SLOT_HOURS and s.minute == 0 for s in sb.calendar.free_slots("L-201", first))


def test_seed_is_deterministic_relative_to_today(tmp_path: Path) -> None:
    def pattern(today: date, name: str) -> list[list[int]]:
        with Sandbox.open(tmp_path / name, today) as sb:
            return [
                [s.hour for s in sb.calendar.free_slots(l.listing_id, today + timedelta(days=d))]
                for l in LISTINGS
                for d in range(1, WINDOW_DAYS + 1)
            ]

    assert pattern(date(2025, 6, 2), "a.db") == pattern(date(2031, 1, 17), "b.db")


def test_reopen_keeps_state_and_does_not_reseed(db_path: Path, today: date) -> None:
    tomorrow = today + timedelta(days=1)
    with Sandbox.open(db_path, today) as sb:
        sb.calendar.book("L-102", datetime.combine(tomorrow, time(12)), "Maria", "5105550142")
        sb.payments.charge("POL-4821", 128_400, "4242424242424242")
        holds = sb.calendar.count_bookings(include_seed=True)
        token = sb.payments.list_charges()[0].card_token
    with Sandbox.open(db_path, today) as sb:
        assert sb.calendar.count_bookings() == 1
        assert sb.calendar.count_bookings(include_seed=True) == holds
        assert sb.payments.charge("POL-4821", 128_400, "4242424242424242").card_token == token
        assert sb.payments.count_charges() == 2


def test_tokens_are_random_never_derived_from_the_card(tmp_path: Path, today: date) -> None:
    """Two vaults, even with the same fingerprint key, give the same card different tokens: the
    token carries nothing of the number; only a vault's own lookup maps the card back to it."""
    key = bytes(32)
    with Sandbox.open(tmp_path / "a.db", today, vault_key=key) as a, \
            Sandbox.open(tmp_path / "b.db", today, vault_key=key) as b:
        ta = a.payments.charge("POL-4821", 128_400, "4242424242424242").card_token
        tb = b.payments.charge("POL-4821", 128_400, "4242424242424242").card_token
        assert a.payments.tokenize("4242424242424242") == (ta, "4242")  # one card, one token per vault
    assert ta != tb and ta.startswith("tok_") and "4242424" not in ta[4:]  # random hex holds "4242" now and then
    with Sandbox.open(tmp_path / "a.db", today, vault_key=bytes([1]) * 32) as again:
        assert again.payments.tokenize("4242424242424242")[0] != ta  # another key: a new payment method


def test_other_connection_sees_committed_writes(sb: Sandbox, db_path: Path, tomorrow: date) -> None:
    """A scenario runner in another process can count effects while the agent runs."""
    sb.calendar.book("L-101", datetime.combine(tomorrow, time(11)), "Maria", "5105550142")
    sb.cases.create("caller_request", "call back")
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM bookings WHERE source = 'caller'").fetchone()[0] == 1
        assert conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 1
    finally:
        conn.close()


def test_close_is_idempotent_and_creates_parent(tmp_path: Path, today: date) -> None:
    sb = Sandbox.open(tmp_path / "nested" / "dir" / "s.db", today)
    sb.close()
    sb.close()
    assert (tmp_path / "nested" / "dir" / "s.db").exists()
    assert not (tmp_path / "nested" / "dir" / "s.db-wal").exists() or (
        tmp_path / "nested" / "dir" / "s.db-wal"
    ).stat().st_size == 0


def test_clock_stamps_records(sb: Sandbox) -> None:
    case = sb.cases.create("other", "x")
    assert case.created_at.year == 2025 and case.created_at.tzinfo is not None
