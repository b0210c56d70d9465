"""Tour calendar backend: hourly tour slots per listing, and bookings of them.

A slot can be booked once; that rule lives in the schema (``UNIQUE (listing_id,
slot_start)`` on ``bookings``) rather than in a read-then-write check, so it holds even
across processes and under retries.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

from loguru import logger

from tools.errors import Conflict, NotFound
from tools.sandbox.base import Backend
from tools.sandbox.records import Booking
from tools.sandbox.seed import LISTINGS, SLOT_HOURS, is_seed_hold, slot_starts, window_days


def _slot_key(slot_start: datetime) -> str:
    return slot_start.replace(tzinfo=None).isoformat(timespec="seconds")


def _booking(row: sqlite3.Row) -> Booking:
    return Booking(
        booking_id=row["booking_id"],
        listing_id=row["listing_id"],
        slot_start=datetime.fromisoformat(row["slot_start"]),
        name=row["name"],
        phone=row["phone"],
        source=row["source"],
        idempotency_key=row["idempotency_key"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class CalendarBackend(Backend):
    """Availability and booking of tour slots."""

    name = "calendar"
    OPS = frozenset({"free_slots", "book"})

    def seed(self) -> None:
        """Create the window's slots and the deterministic pre-booked holds (idempotent)."""
        now = self._now()
        slots = slot_starts(self.today)
        with self._db.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO tour_slots (listing_id, slot_start) VALUES (?, ?)",
                [(l.listing_id, _slot_key(s)) for l in LISTINGS for s in slots],
            )
            holds = [
                (l.listing_id, _slot_key(s))
                for l in LISTINGS
                for s in slots
                if is_seed_hold(l.listing_id, (s.date() - self.today).days, s.hour)
            ]
            for listing_id, key in holds:
                conn.execute(
                    "INSERT OR IGNORE INTO bookings (booking_id, listing_id, slot_start, name, phone, source, created_at)"
                    " VALUES (?, ?, ?, 'Seed Hold', '0000000000', 'seed', ?)",
                    (f"HOLD-{listing_id}-{key}", listing_id, key, now),
                )

    def free_slots(self, listing_id: str, day: date) -> list[datetime]:
        """Unbooked slot starts of a listing on ``day`` (empty outside the booking window)."""
        self._faults.before(self.name, "free_slots")
        with self._db.read() as conn:
            if conn.execute("SELECT 1 FROM listings WHERE listing_id = ?", (listing_id,)).fetchone() is None:
                raise NotFound(f"No listing {listing_id}.")
            rows = conn.execute(
                "SELECT s.slot_start FROM tour_slots s"
                " LEFT JOIN bookings b ON b.listing_id = s.listing_id AND b.slot_start = s.slot_start"
                " WHERE s.listing_id = ? AND s.slot_start >= ? AND s.slot_start < ? AND b.id IS NULL"
                " ORDER BY s.slot_start",
                (listing_id, day.isoformat(), (day + timedelta(days=1)).isoformat()),
            ).fetchall()
        self._faults.after(self.name, "free_slots")
        return [datetime.fromisoformat(r[0]) for r in rows]

    def book(
        self, listing_id: str, slot_start: datetime, name: str, phone: str, idempotency_key: str | None = None
    ) -> Booking:
        """Book one slot. ``Conflict`` if taken, ``NotFound`` for unknown listing or slot.

        With an ``idempotency_key`` that was used before, the earlier booking is returned
        and nothing is written.
        """
        self._faults.before(self.name, "book")
        key = _slot_key(slot_start)
        with self._db.write() as conn:
            existing = self._by_idempotency_key(conn, idempotency_key)
            booking = existing or self._insert_booking(conn, listing_id, key, name, phone, idempotency_key)
        if existing is not None:
            logger.debug("calendar.book: idempotency key replayed, returning {}", booking.booking_id)
        else:
            logger.debug("calendar.book: booked {} {} {}", booking.booking_id, listing_id, key)
        self._faults.after(self.name, "book")
        return booking

    @staticmethod
    def _by_idempotency_key(conn: sqlite3.Connection, idempotency_key: str | None) -> Booking | None:
        if idempotency_key is None:
            return None
        row = conn.execute("SELECT * FROM bookings WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
        return None if row is None else _booking(row)

    def _insert_booking(
        self, conn: sqlite3.Connection, listing_id: str, key: str, name: str, phone: str, idempotency_key: str | None
    ) -> Booking:
        if conn.execute("SELECT 1 FROM listings WHERE listing_id = ?", (listing_id,)).fetchone() is None:
            raise NotFound(f"No listing {listing_id}.")
        if conn.execute(
            "SELECT 1 FROM tour_slots WHERE listing_id = ? AND slot_start = ?", (listing_id, key)
        ).fetchone() is None:
            first, last = window_days(self.today)[0], window_days(self.today)[-1]
            raise NotFound(
                f"No tour slot at {key.replace('T', ' ')}. Tours start on the hour, "
                f"{SLOT_HOURS[0]}:00 to {SLOT_HOURS[-1]}:00, from {first:%B} {first.day} to {last:%B} {last.day}."
            )
        count = conn.execute("SELECT COUNT(*) FROM bookings WHERE source = 'caller'").fetchone()[0]
        booking_id = f"BK-{1001 + count}"
        try:
            conn.execute(
                "INSERT INTO bookings (booking_id, listing_id, slot_start, name, phone, source, idempotency_key, created_at)"
                " VALUES (?, ?, ?, ?, ?, 'caller', ?, ?)",
                (booking_id, listing_id, key, name, phone, idempotency_key, self._now()),
            )
        except sqlite3.IntegrityError as exc:
            if "bookings.listing_id, bookings.slot_start" in str(exc):
                raise Conflict("That tour slot is already booked.") from None
            raise
        row = conn.execute("SELECT * FROM bookings WHERE booking_id = ?", (booking_id,)).fetchone()
        return _booking(row)

    def get_booking(self, booking_id: str) -> Booking | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM bookings WHERE booking_id = ?", (booking_id,)).fetchone()
        return None if row is None else _booking(row)

    def list_bookings(self, include_seed: bool = False) -> list[Booking]:
        """Bookings in creation order; seed holds only on request (they are scenery)."""
        sql = "SELECT * FROM bookings" + ("" if include_seed else " WHERE source = 'caller'") + " ORDER BY id"
        with self._db.read() as conn:
            return [_booking(r) for r in conn.execute(sql)]

    def count_bookings(self, include_seed: bool = False) -> int:
        """Number of bookings callers made (plus seed holds if asked)."""
        sql = "SELECT COUNT(*) FROM bookings" + ("" if include_seed else " WHERE source = 'caller'")
        with self._db.read() as conn:
            return int(conn.execute(sql).fetchone()[0])
