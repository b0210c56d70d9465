"""One SQLite file shared by all sandbox backends.

Why one file: a test (or a second process, such as a scenario runner checking results)
can open it and count bookings and charges with plain SQL, and a write that spans two
tables (an opportunity plus its update log) is one transaction.

Why WAL and ``BEGIN IMMEDIATE``: readers in other processes never block the agent, and
every write transaction takes the write lock up front, so "check then insert" sequences
(idempotency-key lookups, id allocation) cannot interleave between connections.

The connection is shared across ``asyncio.to_thread`` worker threads, so all access is
serialised by a lock; the sandbox is about correctness, not throughput.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from loguru import logger

SCHEMA_VERSION = "3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS listings (
    listing_id TEXT PRIMARY KEY,
    address    TEXT NOT NULL,
    area       TEXT NOT NULL,
    price      INTEGER NOT NULL CHECK (price > 0),
    bedrooms   INTEGER NOT NULL CHECK (bedrooms >= 0)
);

CREATE TABLE IF NOT EXISTS tour_slots (
    listing_id TEXT NOT NULL REFERENCES listings (listing_id),
    slot_start TEXT NOT NULL,
    PRIMARY KEY (listing_id, slot_start)
);

CREATE TABLE IF NOT EXISTS bookings (
    id              INTEGER PRIMARY KEY,
    booking_id      TEXT NOT NULL UNIQUE,
    listing_id      TEXT NOT NULL,
    slot_start      TEXT NOT NULL,
    name            TEXT NOT NULL,
    phone           TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('caller', 'seed')),
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL,
    hold_id         TEXT,
    UNIQUE (listing_id, slot_start),
    FOREIGN KEY (listing_id, slot_start) REFERENCES tour_slots (listing_id, slot_start)
);

CREATE TABLE IF NOT EXISTS holds (
    id              INTEGER PRIMARY KEY,
    hold_id         TEXT NOT NULL UNIQUE,
    listing_id      TEXT NOT NULL,
    slot_start      TEXT NOT NULL,
    phone           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('held', 'confirmed')),
    booking_id      TEXT UNIQUE REFERENCES bookings (booking_id),
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL,
    UNIQUE (listing_id, slot_start),
    FOREIGN KEY (listing_id, slot_start) REFERENCES tour_slots (listing_id, slot_start),
    CHECK ((status = 'confirmed') = (booking_id IS NOT NULL))
);

CREATE TABLE IF NOT EXISTS outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    booking_id      TEXT NOT NULL REFERENCES bookings (booking_id),
    channel         TEXT NOT NULL CHECK (channel IN ('sms')),
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS opportunities (
    opportunity_id TEXT NOT NULL UNIQUE,
    phone          TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    stage          TEXT NOT NULL CHECK (stage IN ('new', 'qualified', 'tour_booked', 'lost')),
    listing_id     TEXT REFERENCES listings (listing_id),
    notes          TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS opportunity_updates (
    id              INTEGER PRIMARY KEY,
    opportunity_id  TEXT NOT NULL REFERENCES opportunities (opportunity_id),
    stage           TEXT NOT NULL,
    listing_id      TEXT,
    note            TEXT,
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS policies (
    policy_number TEXT PRIMARY KEY,
    holder_name   TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    premium_cents INTEGER NOT NULL CHECK (premium_cents > 0),
    currency      TEXT NOT NULL CHECK (currency = 'USD'),
    status        TEXT NOT NULL CHECK (status IN ('active', 'lapsed', 'cancelled'))
);

CREATE TABLE IF NOT EXISTS charges (
    id              INTEGER PRIMARY KEY,
    charge_id       TEXT NOT NULL UNIQUE,
    policy_number   TEXT NOT NULL,
    amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
    currency        TEXT NOT NULL CHECK (currency = 'USD'),
    card_token      TEXT NOT NULL CHECK (card_token LIKE 'tok\\_%' ESCAPE '\\'),
    card_last4      TEXT NOT NULL CHECK (length(card_last4) = 4),
    status          TEXT NOT NULL CHECK (status IN ('succeeded')),
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL,
    authorization_id TEXT
);

-- card_token is random; fingerprint (keyed, the key is never stored here) gives one card one token.
CREATE TABLE IF NOT EXISTS vault (
    card_token  TEXT PRIMARY KEY CHECK (card_token LIKE 'tok\\_%' ESCAPE '\\'),
    card_last4  TEXT NOT NULL CHECK (length(card_last4) = 4),
    created_at  TEXT NOT NULL,
    fingerprint TEXT,
    declined    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS authorizations (
    id               INTEGER PRIMARY KEY,
    authorization_id TEXT NOT NULL UNIQUE,
    policy_number    TEXT NOT NULL,
    amount_cents     INTEGER NOT NULL CHECK (amount_cents > 0),
    currency         TEXT NOT NULL CHECK (currency = 'USD'),
    card_token       TEXT NOT NULL REFERENCES vault (card_token),
    card_last4       TEXT NOT NULL CHECK (length(card_last4) = 4),
    status           TEXT NOT NULL CHECK (status IN ('authorized', 'captured')),
    idempotency_key  TEXT UNIQUE,
    created_at       TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS receipts (
    id              INTEGER PRIMARY KEY,
    receipt_id      TEXT NOT NULL UNIQUE,
    charge_id       TEXT NOT NULL REFERENCES charges (charge_id),
    policy_number   TEXT NOT NULL,
    amount_cents    INTEGER NOT NULL,
    card_last4      TEXT NOT NULL CHECK (length(card_last4) = 4),
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS cases (
    id              INTEGER PRIMARY KEY,
    case_id         TEXT NOT NULL UNIQUE,
    reason          TEXT NOT NULL CHECK (reason IN ('caller_request', 'tool_failure', 'other')),
    summary         TEXT NOT NULL,
    caller_name     TEXT,
    caller_phone    TEXT,
    policy_number   TEXT,
    idempotency_key TEXT UNIQUE,
    created_at      TEXT NOT NULL
);
"""

#: Columns added after schema version 1: (table, column, declaration). ``ALTER TABLE ADD
#: COLUMN`` cannot add UNIQUE columns, so their uniqueness lives in :data:`INDEXES`.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("bookings", "hold_id", "TEXT"),
    ("charges", "authorization_id", "TEXT"),
    ("vault", "fingerprint", "TEXT"),
    ("vault", "declined", "INTEGER NOT NULL DEFAULT 0"),
)

#: Run after the tables (and the column migration) exist. The triggers make "a slot is
#: held or booked once" a rule of the schema across the two tables, like the UNIQUE
#: constraints do within each: a caller booking (``book`` or a confirmed hold) may not take
#: a slot someone else holds, and a hold may not take a booked slot. Seed rows are exempt
#: so reseeding for another ``today`` can never make ``Sandbox.open`` fail.
INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS bookings_hold_id ON bookings (hold_id);
CREATE UNIQUE INDEX IF NOT EXISTS charges_authorization_id ON charges (authorization_id);
CREATE UNIQUE INDEX IF NOT EXISTS vault_fingerprint ON vault (fingerprint);
CREATE INDEX IF NOT EXISTS receipts_charge_id ON receipts (charge_id);
CREATE INDEX IF NOT EXISTS outbox_booking_id ON outbox (booking_id);

CREATE TRIGGER IF NOT EXISTS holds_slot_not_booked BEFORE INSERT ON holds
WHEN EXISTS (SELECT 1 FROM bookings WHERE listing_id = NEW.listing_id AND slot_start = NEW.slot_start)
BEGIN
    SELECT RAISE(ABORT, 'slot already booked');
END;

CREATE TRIGGER IF NOT EXISTS bookings_slot_not_held BEFORE INSERT ON bookings
WHEN NEW.source = 'caller' AND EXISTS (
    SELECT 1 FROM holds
    WHERE listing_id = NEW.listing_id AND slot_start = NEW.slot_start AND hold_id IS NOT NEW.hold_id
)
BEGIN
    SELECT RAISE(ABORT, 'slot already held');
END;
"""


class Database:
    """A locked sqlite3 connection with explicit read and write-transaction scopes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10.0)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._closed = False

    def create_schema(self) -> None:
        """Idempotent: reopening an existing sandbox file keeps its data (and upgrades a
        version-1 file in place: new tables, the added columns, indexes and triggers)."""
        with self._lock:
            self._conn.executescript(SCHEMA)
            for table, column, declaration in ADDED_COLUMNS:
                present = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
                if column not in present:
                    logger.info("sandbox schema: adding {}.{}", table, column)
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            self._conn.executescript(INDEXES)
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (SCHEMA_VERSION,),
            )

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Serialised access for queries (autocommit; WAL gives a consistent snapshot per statement)."""
        with self._lock:
            self._check_open()
            yield self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking SQLite's write lock immediately; rolled back on error."""
        with self._lock:
            self._check_open()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close, so the file alone holds the data."""
        with self._lock:
            if self._closed:
                return
            try:
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # another process may hold a reader; data is still safe in the WAL
                logger.debug("sandbox WAL checkpoint skipped: {}", exc)
            self._conn.close()
            self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("sandbox database is closed")
