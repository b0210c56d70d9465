"""Tour calendar backend: hourly tour slots per listing, and bookings of them.

A slot can be booked once; that rule lives in the schema (``UNIQUE (listing_id,
slot_start)`` on ``bookings``) rather than in a read-then-write check, so it holds even
across processes and under retries.

Two ways to book: ``book`` does it in one call; the step-wise path is ``hold`` (reserve
the slot for a phone number) → ``confirm`` (turn the hold into a booking) →
``send_confirmation`` (an SMS in the ``outbox``). Every step is idempotent on its own key,
so a booking interrupted between steps can be resumed without holding, booking or texting
twice. A held slot counts as taken (``UNIQUE`` on ``holds`` plus triggers across the two
tables, see :mod:`tools.sandbox.db`). Holds do not expire in the sandbox.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta

from loguru import logger

from tools.errors import Conflict, NotFound
from tools.sandbox.base import Backend, key_reused, require_key
from tools.sandbox.records import Booking, Hold, OutboxMessage
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
        hold_id=row["hold_id"],
    )


def _hold(row: sqlite3.Row) -> Hold:
    return Hold(
        hold_id=row["hold_id"],
        listing_id=row["listing_id"],
        slot_start=datetime.fromisoformat(row["slot_start"]),
        phone=row["phone"],
        status=row["status"],
        booking_id=row["booking_id"],
        idempotency_key=row["idempotency_key"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def _message(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        message_id=row["message_id"],
        booking_id=row["booking_id"],
        channel=row["channel"],
        recipient=row["recipient"],
        body=row["body"],
        idempotency_key=row["idempotency_key"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


#: IntegrityError texts meaning "this slot is taken" (UNIQUE constraints and the triggers).
_SLOT_TAKEN = (
    "bookings.listing_id, bookings.slot_start",
    "holds.listing_id, holds.slot_start",
    "slot already held",
    "slot already booked",
)
SLOT_TAKEN_MESSAGE = "That tour slot is already booked."


class CalendarBackend(Backend):
    """Availability and booking of tour slots."""

    name = "calendar"
    OPS = frozenset({"free_slots", "book", "hold", "confirm", "send_confirmation"})

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
                " LEFT JOIN holds h ON h.listing_id = s.listing_id AND h.slot_start = s.slot_start"
                " WHERE s.listing_id = ? AND s.slot_start >= ? AND s.slot_start < ?"
                " AND b.id IS NULL AND h.id IS NULL"
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

    def _check_slot(self, conn: sqlite3.Connection, listing_id: str, key: str) -> None:
        """``NotFound`` unless the listing and the slot exist (taken or not)."""
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

    def _insert_booking(
        self,
        conn: sqlite3.Connection,
        listing_id: str,
        key: str,
        name: str,
        phone: str,
        idempotency_key: str | None,
        hold_id: str | None = None,
    ) -> Booking:
        self._check_slot(conn, listing_id, key)
        count = conn.execute("SELECT COUNT(*) FROM bookings WHERE source = 'caller'").fetchone()[0]
        booking_id = f"BK-{1001 + count}"
        try:
            conn.execute(
                "INSERT INTO bookings"
                " (booking_id, listing_id, slot_start, name, phone, source, idempotency_key, created_at, hold_id)"
                " VALUES (?, ?, ?, ?, ?, 'caller', ?, ?, ?)",
                (booking_id, listing_id, key, name, phone, idempotency_key, self._now(), hold_id),
            )
        except sqlite3.IntegrityError as exc:
            if any(text in str(exc) for text in _SLOT_TAKEN):
                raise Conflict(SLOT_TAKEN_MESSAGE) from None
            raise
        row = conn.execute("SELECT * FROM bookings WHERE booking_id = ?", (booking_id,)).fetchone()
        return _booking(row)

    # --- step-wise booking: hold → confirm → send_confirmation ---------------------------

    def hold(self, listing_id: str, slot_start: datetime, phone: str, idempotency_key: str) -> str:
        """Hold a slot for ``phone``; returns the hold id.

        ``Conflict`` if the slot is booked or held by anyone (including an earlier hold
        under another key), ``NotFound`` for an unknown listing or slot. A repeated key
        returns the same hold and writes nothing; the same key with another listing, slot
        or phone is ``Conflict`` (code ``idempotency_key_reused``).
        """
        require_key("calendar.hold", idempotency_key)
        self._faults.before(self.name, "hold")
        slot = _slot_key(slot_start)
        with self._db.write() as conn:
            row = conn.execute("SELECT * FROM holds WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            replay = row is not None
            if row is not None:
                if (row["listing_id"], row["slot_start"], row["phone"]) != (listing_id, slot, phone):
                    raise key_reused("hold", idempotency_key)
            else:
                self._check_slot(conn, listing_id, slot)
                next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM holds").fetchone()[0]
                try:
                    conn.execute(
                        "INSERT INTO holds (id, hold_id, listing_id, slot_start, phone, status, idempotency_key,"
                        " created_at) VALUES (?, ?, ?, ?, ?, 'held', ?, ?)",
                        (next_id, f"HD-{1000 + next_id}", listing_id, slot, phone, idempotency_key, self._now()),
                    )
                except sqlite3.IntegrityError as exc:
                    if any(text in str(exc) for text in _SLOT_TAKEN):
                        raise Conflict(SLOT_TAKEN_MESSAGE) from None
                    raise
                row = conn.execute("SELECT * FROM holds WHERE id = ?", (next_id,)).fetchone()
        hold_id = str(row["hold_id"])
        logger.debug("calendar.hold: {} {} {} {}", "replayed" if replay else "held", hold_id, listing_id, slot)
        self._faults.after(self.name, "hold")
        return hold_id

    def confirm(self, hold_id: str, name: str, phone: str, idempotency_key: str) -> str:
        """Turn a hold into a booking; returns the booking id.

        ``NotFound`` for an unknown hold; ``Conflict`` if the hold was made for another
        phone or was already confirmed under another key (one booking per hold). A
        repeated key returns the same booking and writes nothing.
        """
        require_key("calendar.confirm", idempotency_key)
        self._faults.before(self.name, "confirm")
        with self._db.write() as conn:
            existing = self._by_idempotency_key(conn, idempotency_key)
            if existing is not None:
                if existing.hold_id != hold_id:
                    raise key_reused("confirm", idempotency_key)
                booking_id = existing.booking_id
            else:
                row = conn.execute("SELECT * FROM holds WHERE hold_id = ?", (hold_id,)).fetchone()
                if row is None:
                    raise NotFound(f"No hold {hold_id}.")
                held = _hold(row)
                if held.status == "confirmed":
                    raise Conflict(f"Hold {hold_id} was already confirmed as booking {held.booking_id}.")
                if held.phone != phone:
                    raise Conflict(f"Hold {hold_id} was made for a different phone number.")
                booking = self._insert_booking(
                    conn, held.listing_id, _slot_key(held.slot_start), name, phone, idempotency_key, hold_id=hold_id
                )
                conn.execute(
                    "UPDATE holds SET status = 'confirmed', booking_id = ? WHERE hold_id = ?",
                    (booking.booking_id, hold_id),
                )
                booking_id = booking.booking_id
        logger.debug("calendar.confirm: {} {} -> {}", "replayed" if existing else "confirmed", hold_id, booking_id)
        self._faults.after(self.name, "confirm")
        return booking_id

    def send_confirmation(self, booking_id: str, idempotency_key: str) -> str:
        """Text the booking's confirmation to the caller's phone; returns the message id.

        ``NotFound`` for an unknown booking. A repeated key returns the same message and
        sends nothing; resending on purpose takes a new key.
        """
        require_key("calendar.send_confirmation", idempotency_key)
        self._faults.before(self.name, "send_confirmation")
        with self._db.write() as conn:
            row = conn.execute("SELECT * FROM outbox WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            replay = row is not None
            if row is not None:
                if row["booking_id"] != booking_id:
                    raise key_reused("send_confirmation", idempotency_key)
            else:
                booking_row = conn.execute(
                    "SELECT b.*, l.address FROM bookings b JOIN listings l ON l.listing_id = b.listing_id"
                    " WHERE b.booking_id = ?",
                    (booking_id,),
                ).fetchone()
                if booking_row is None:
                    raise NotFound(f"No booking {booking_id}.")
                start = datetime.fromisoformat(booking_row["slot_start"])
                hour = start.hour % 12 or 12
                body = (
                    f"Your tour of {booking_row['address']} on {start:%A, %B} {start.day} at {hour}:{start:%M %p}"
                    f" is confirmed. Confirmation number {booking_id}."
                )
                next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM outbox").fetchone()[0]
                conn.execute(
                    "INSERT INTO outbox (id, message_id, booking_id, channel, recipient, body, idempotency_key,"
                    " created_at) VALUES (?, ?, ?, 'sms', ?, ?, ?, ?)",
                    (next_id, f"MSG-{1000 + next_id}", booking_id, booking_row["phone"], body, idempotency_key,
                     self._now()),
                )
                row = conn.execute("SELECT * FROM outbox WHERE id = ?", (next_id,)).fetchone()
        message_id = str(row["message_id"])
        logger.debug(
            "calendar.send_confirmation: {} {} for {}", "replayed" if replay else "sent", message_id, booking_id
        )
        self._faults.after(self.name, "send_confirmation")
        return message_id

    def get_hold(self, hold_id: str) -> Hold | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM holds WHERE hold_id = ?", (hold_id,)).fetchone()
        return None if row is None else _hold(row)

    def list_holds(self) -> list[Hold]:
        with self._db.read() as conn:
            return [_hold(r) for r in conn.execute("SELECT * FROM holds ORDER BY id")]

    def count_holds(self, status: str | None = None) -> int:
        """Holds ever made (or only those ``held`` / ``confirmed``)."""
        sql = "SELECT COUNT(*) FROM holds" + ("" if status is None else " WHERE status = ?")
        with self._db.read() as conn:
            return int(conn.execute(sql, () if status is None else (status,)).fetchone()[0])

    def list_outbox(self, booking_id: str | None = None) -> list[OutboxMessage]:
        sql = "SELECT * FROM outbox" + ("" if booking_id is None else " WHERE booking_id = ?") + " ORDER BY id"
        with self._db.read() as conn:
            return [_message(r) for r in conn.execute(sql, () if booking_id is None else (booking_id,))]

    def count_outbox(self) -> int:
        """Messages sent (booking confirmations)."""
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

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
