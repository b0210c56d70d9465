"""Listings backend: the brokerage's property inventory (read-only)."""

from __future__ import annotations

import sqlite3

from tools.errors import NotFound
from tools.sandbox.base import Backend
from tools.sandbox.records import Listing
from tools.sandbox.seed import LISTINGS


def _listing(row: sqlite3.Row) -> Listing:
    return Listing(
        listing_id=row["listing_id"], address=row["address"], area=row["area"], price=row["price"], bedrooms=row["bedrooms"]
    )


class ListingsBackend(Backend):
    """Search and lookup of listings."""

    name = "listings"
    OPS = frozenset({"search", "get"})

    def seed(self) -> None:
        with self._db.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO listings (listing_id, address, area, price, bedrooms) VALUES (?, ?, ?, ?, ?)",
                [(l.listing_id, l.address, l.area, l.price, l.bedrooms) for l in LISTINGS],
            )

    def search(self, area: str, max_price: int, min_bedrooms: int | None = None, limit: int = 3) -> list[Listing]:
        """Listings in ``area`` (case-insensitive) at or under ``max_price``, cheapest first.

        ``min_bedrooms`` is a minimum, not an exact match: a caller asking for two
        bedrooms is usually happy to hear about three.
        """
        self._faults.before(self.name, "search")
        sql = "SELECT * FROM listings WHERE lower(area) = lower(?) AND price <= ?"
        params: list[object] = [area.strip(), max_price]
        if min_bedrooms is not None:
            sql += " AND bedrooms >= ?"
            params.append(min_bedrooms)
        sql += " ORDER BY price ASC, listing_id ASC LIMIT ?"
        params.append(limit)
        with self._db.read() as conn:
            rows = conn.execute(sql, params).fetchall()
        self._faults.after(self.name, "search")
        return [_listing(r) for r in rows]

    def get(self, listing_id: str) -> Listing:
        """One listing; ``NotFound`` if the id is unknown."""
        self._faults.before(self.name, "get")
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM listings WHERE listing_id = ?", (listing_id,)).fetchone()
        if row is None:
            raise NotFound(f"No listing {listing_id}.")
        self._faults.after(self.name, "get")
        return _listing(row)

    def list_listings(self) -> list[Listing]:
        """All listings, by id (test/read helper)."""
        with self._db.read() as conn:
            return [_listing(r) for r in conn.execute("SELECT * FROM listings ORDER BY listing_id")]

    def areas(self) -> list[str]:
        """Distinct areas, so callers can be told where we do have listings."""
        with self._db.read() as conn:
            return [r[0] for r in conn.execute("SELECT DISTINCT area FROM listings ORDER BY area")]
