"""The sandbox: all fake external systems of the runtime behind one SQLite file."""

from __future__ import annotations

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
from tools.sandbox.db import Database
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
        vault_key: bytes | None = None,
    ) -> Sandbox:
        """Open (creating and seeding if needed) the sandbox database at ``path``.

        Reopening an existing file keeps its bookings, charges and cases; seeding only
        fills what is missing. ``clock`` stamps created_at columns (inject one for
        byte-identical runs). ``vault_key`` keys the card vault's fingerprints (see
        ``tools.sandbox.payments``); it is never written to the file. By default a random
        key of this process: the same card keeps its token while the process runs.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        clock = clock or _utc_now
        db = Database(path)
        try:
            db.create_schema()
            cls._forget_stored_token_key(db)
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
                payments=PaymentsBackend(*common, vault_key=vault_key),
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
    def _forget_stored_token_key(db: Database) -> None:
        """Older sandboxes kept the key their card tokens were derived from in this file, which
        made every token reversible: erase it (overwritten, not just unlinked from the page)."""
        with db.write() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'card_token_key'").fetchone() is None:
                return
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("DELETE FROM meta WHERE key = 'card_token_key'")
        logger.warning("sandbox {}: erased the card token key older versions stored in it", db.path)

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
