"""Common plumbing of the sandbox backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import ClassVar

from tools.errors import Conflict
from tools.sandbox.db import Database
from tools.sandbox.faults import FaultInjector


class Backend:
    """A sandbox stand-in for one external system, sharing the sandbox database.

    ``OPS`` lists the operations the runtime calls (the ones fault injection can target);
    read helpers for tests (``count_*``, ``list_*``) are deliberately not in it, so a
    test's own assertions can never trip an armed fault.
    """

    name: ClassVar[str]
    OPS: ClassVar[frozenset[str]]

    def __init__(self, db: Database, faults: FaultInjector, clock: Callable[[], datetime], today: date) -> None:
        self._db = db
        self._faults = faults
        self._clock = clock
        self.today = today

    def _now(self) -> str:
        """Timestamp for created_at/updated_at columns (ISO 8601, seconds, with offset)."""
        return self._clock().isoformat(timespec="seconds")


def require_key(op: str, idempotency_key: str | None) -> None:
    """The step-wise ops exist to be exactly-once: calling one without a key is a bug, and
    silently storing a NULL key would turn the deduplication off."""
    if not isinstance(idempotency_key, str) or not idempotency_key:
        raise ValueError(f"{op} needs a non-empty idempotency_key")


def key_reused(op: str, idempotency_key: str) -> Conflict:
    """The error for an idempotency key replayed with different parameters.

    Like Stripe: a key names one request, so the same key with other arguments is a bug in
    the caller (a key derived from the wrong fields), never something to quietly serve.
    """
    return Conflict(
        f"Idempotency key {idempotency_key!r} was already used for a different {op} request.",
        code="idempotency_key_reused",
    )
