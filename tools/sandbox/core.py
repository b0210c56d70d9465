"""The sandbox: all fake external systems of the runtime behind one SQLite file."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Self

from loguru import logger

from tools.sandbox.base import Backend
from tools.sandbox.calendar import CalendarBackend
from tools.sandbox.cases import CasesBackend
from tools.sandbox.crm import CrmBackend
from tools.sandbox.db import SCHEMA_VERSION, Database
from tools.sandbox.faults import FaultInjector
from tools.sandbox.listings import ListingsBackend
from tools.sandbox.payments import PaymentsBackend
from tools.sandbox.policies import PoliciesBackend

_BACKEND_CLASSES: tuple[type[Backend], ...] = (
    ListingsBackend,
    CalendarBackend,
    CrmBackend,
    PoliciesBackend,
    PaymentsBackend,
    CasesBackend,
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Sandbox:
    """Listings, calendar, CRM, policies, payments and case desk sharing one database.

    State is real (rows in a file), so tests and scenario runs can assert on effects —
    how many bookings, how many charges — instead of on mocks' call logs. ``today`` is the
    shared reference date (``MB_TODAY``) that lays out the tour calendar.
    """

    def __init__(
        self,
        db: Database,
        today: date,
        faults: FaultInjector,
        listings: ListingsBackend,
        calendar: CalendarBackend,
        crm: CrmBackend,
        policies: PoliciesBackend,
        payments: PaymentsBackend,
        cases: CasesBackend,
    ) -> None:
        self.db = db
        self.today = today
        self.faults = faults
        self.listings = listings
        self.calendar = calendar
        self.crm = crm
        self.policies = policies
        self.payments = payments
        self.cases = cases

    @classmethod
    def open(
        cls,
        path: Path,
        today: date,
        *,
        clock: Callable[[], datetime] | None = None,
        token_key: bytes | None = None,
    ) -> Sandbox:
        """Open (creating and seeding if needed) the sandbox database at ``path``.

        Reopening an existing file keeps its bookings, charges and cases; seeding only
        fills what is missing. ``clock`` stamps created_at columns (inject one for
        byte-identical runs). ``token_key`` keys card tokenization; by default a random
        key is generated once per database file and kept in it, so tokens are stable
        across reopen but differ between sandboxes.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        clock = clock or _utc_now
        db = Database(path)
        try:
            db.create_schema()
            key = token_key or cls._stored_token_key(db)
            faults = FaultInjector({c.name: c.OPS for c in _BACKEND_CLASSES}, clock=clock)
            common = (db, faults, clock, today)
            sandbox = cls(
                db=db,
                today=today,
                faults=faults,
                listings=ListingsBackend(*common),
                calendar=CalendarBackend(*common),
                crm=CrmBackend(*common),
                policies=PoliciesBackend(*common),
                payments=PaymentsBackend(*common, token_key=key),
                cases=CasesBackend(*common),
            )
            sandbox.listings.seed()
            sandbox.policies.seed()
            sandbox.calendar.seed()
        except BaseException:
            db.close()
            raise
        logger.info("sandbox open: {} (today={})", path, today.isoformat())
        return sandbox

    @staticmethod
    def _stored_token_key(db: Database) -> bytes:
        with db.write() as conn:
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('card_token_key', ?)", (secrets.token_hex(32),)
            )
            value = conn.execute("SELECT value FROM meta WHERE key = 'card_token_key'").fetchone()[0]
        return bytes.fromhex(value)

    @property
    def path(self) -> Path:
        return self.db.path

    def close(self) -> None:
        """Checkpoint and close; safe to call twice."""
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
