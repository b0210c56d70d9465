"""CRM backend: sales opportunities keyed by the caller's phone number.

Every update is also appended to ``opportunity_updates``; that log is where the
idempotency key lives, because one opportunity legitimately receives many updates and
each needs its own exactly-once identity.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from loguru import logger

from tools.errors import NotFound
from tools.redact import mask_card_numbers
from tools.sandbox.base import Backend
from tools.sandbox.records import Opportunity, Stage


def _opportunity(row: sqlite3.Row) -> Opportunity:
    return Opportunity(
        opportunity_id=row["opportunity_id"],
        phone=row["phone"],
        name=row["name"],
        stage=row["stage"],
        listing_id=row["listing_id"],
        notes=row["notes"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


class CrmBackend(Backend):
    """Create-or-update of opportunities."""

    name = "crm"
    OPS = frozenset({"upsert"})

    def upsert(
        self,
        phone: str,
        name: str,
        stage: Stage,
        listing_id: str | None = None,
        note: str | None = None,
        idempotency_key: str | None = None,
    ) -> Opportunity:
        """Create the caller's opportunity or update it; notes are appended, never replaced.

        A ``listing_id`` of None keeps the listing already on file. With a repeated
        ``idempotency_key`` nothing is written and the opportunity is returned as is.
        """
        self._faults.before(self.name, "upsert")
        now = self._now()
        clean_note = mask_card_numbers(note.strip()) if note and note.strip() else None
        with self._db.write() as conn:
            replay = idempotency_key is not None and conn.execute(
                "SELECT 1 FROM opportunity_updates WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone() is not None
            if not replay:
                self._apply(conn, phone, name, stage, listing_id, clean_note, idempotency_key, now)
            row = conn.execute("SELECT * FROM opportunities WHERE phone = ?", (phone,)).fetchone()
        opportunity = _opportunity(row)
        logger.debug(
            "crm.upsert: {} {} stage={}",
            "idempotency key replayed for" if replay else "updated",
            opportunity.opportunity_id,
            opportunity.stage,
        )
        self._faults.after(self.name, "upsert")
        return opportunity

    def _apply(
        self,
        conn: sqlite3.Connection,
        phone: str,
        name: str,
        stage: Stage,
        listing_id: str | None,
        note: str | None,
        idempotency_key: str | None,
        now: str,
    ) -> None:
        if listing_id is not None and conn.execute(
            "SELECT 1 FROM listings WHERE listing_id = ?", (listing_id,)
        ).fetchone() is None:
            raise NotFound(f"No listing {listing_id}.")
        stamped = f"[{now}] {note}" if note else None
        row = conn.execute("SELECT opportunity_id, notes FROM opportunities WHERE phone = ?", (phone,)).fetchone()
        if row is None:
            count = conn.execute("SELECT COUNT(*) FROM opportunities").fetchone()[0]
            opportunity_id = f"OPP-{1001 + count}"
            conn.execute(
                "INSERT INTO opportunities (opportunity_id, phone, name, stage, listing_id, notes, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (opportunity_id, phone, name, stage, listing_id, stamped or "", now, now),
            )
        else:
            opportunity_id = row["opportunity_id"]
            notes = "\n".join(part for part in (row["notes"], stamped) if part)
            conn.execute(
                "UPDATE opportunities SET name = ?, stage = ?, listing_id = COALESCE(?, listing_id), notes = ?,"
                " updated_at = ? WHERE phone = ?",
                (name, stage, listing_id, notes, now, phone),
            )
        conn.execute(
            "INSERT INTO opportunity_updates (opportunity_id, stage, listing_id, note, idempotency_key, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (opportunity_id, stage, listing_id, note, idempotency_key, now),
        )

    def get(self, phone: str) -> Opportunity | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM opportunities WHERE phone = ?", (phone,)).fetchone()
        return None if row is None else _opportunity(row)

    def list_opportunities(self) -> list[Opportunity]:
        with self._db.read() as conn:
            return [_opportunity(r) for r in conn.execute("SELECT * FROM opportunities ORDER BY opportunity_id")]

    def count_opportunities(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM opportunities").fetchone()[0])

    def count_updates(self) -> int:
        """Number of applied updates (each write, not each opportunity)."""
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM opportunity_updates").fetchone()[0])
