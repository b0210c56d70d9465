"""A sandbox file made before the step-wise ops (schema 1) is upgraded in place on open."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from tools.registry import TOOLS
from tools.sandbox import Sandbox
from tools.steps import run_plan

from tests.steps.helpers import CHARGE, booking, validated
from tests.support.dates import TOOLS_TODAY

#: The two tables whose shape changed, exactly as schema version 1 created them.
V1_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE bookings (
    id              INTEGER PRIMARY KEY,
    booking_id      TEXT NOT NULL UNIQUE,
    listing_id      TEXT NOT NULL,
    slot_start      TEXT NOT NULL,
    name            TEXT NOT NULL,
    phone           TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('caller', 'seed')),
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL,
    UNIQUE (listing_id, slot_start)
);
CREATE TABLE charges (
    id              INTEGER PRIMARY KEY,
    charge_id       TEXT NOT NULL UNIQUE,
    policy_number   TEXT NOT NULL,
    amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
    currency        TEXT NOT NULL CHECK (currency = 'USD'),
    card_token      TEXT NOT NULL,
    card_last4      TEXT NOT NULL CHECK (length(card_last4) = 4),
    status          TEXT NOT NULL CHECK (status IN ('succeeded')),
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL
);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO bookings (booking_id, listing_id, slot_start, name, phone, source, idempotency_key, created_at)
    VALUES ('BK-1001', 'L-101', '2025-06-03T11:00:00', 'Old Caller', '5105550100', 'caller', 'old', '2025-06-01T10:00:00+00:00');
INSERT INTO charges (charge_id, policy_number, amount_cents, currency, card_token, card_last4, status, created_at)
    VALUES ('CH-1001', 'POL-1093', 96550, 'USD', 'tok_aaaaaaaaaaaaaaaaaaaaaaaa', '1111', 'succeeded', '2025-06-01T10:00:00+00:00');
"""


async def test_version_1_file_is_upgraded_and_keeps_its_rows(tmp_path: Path, tomorrow: date) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(V1_TABLES)
    conn.close()
    with Sandbox.open(path, TOOLS_TODAY) as sb:
        assert sb.calendar.count_bookings() == 1 and sb.payments.count_charges() == 1
        old = sb.calendar.get_booking("BK-1001")
        assert old is not None and old.hold_id is None
        _, _, tour = await run_plan(sb, TOOLS["book_tour"].plan, validated("book_tour", booking(tomorrow)), "k1")
        _, _, charge = await run_plan(sb, TOOLS["charge_card"].plan, validated("charge_card", CHARGE), "k2")
        assert tour["booking_id"] == "BK-1002" and charge["charge_id"] == "CH-1002"
    with Sandbox.open(path, TOOLS_TODAY) as sb:  # reopening an upgraded file is a no-op
        assert sb.calendar.count_bookings() == 2 and sb.payments.count_charges() == 2
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "3"
    finally:
        conn.close()
