"""Payments backend: a card processor that never stores card numbers.

The full card number exists only in memory for the duration of :meth:`charge`: it is
validated (shape, Luhn), turned into an HMAC token, and only the token and the last four
digits reach the database, the logs, the return value or any error message.

Like a real processor, it does not refuse a second charge for the same policy: stopping
double charges is the runtime's job (idempotency keys, later the journal), and a sandbox
that hid the problem would make that work untestable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, datetime

from loguru import logger

from tools.cards import card_digits, is_card_shaped, last4, luhn_ok, tokenize
from tools.errors import PermanentToolError
from tools.sandbox.base import Backend
from tools.sandbox.db import Database
from tools.sandbox.faults import FaultInjector
from tools.sandbox.records import Charge

#: Test cards that pass validation but are declined (Stripe's convention).
DECLINED_CARDS: frozenset[str] = frozenset({"4000000000000002"})


def _charge(row: sqlite3.Row) -> Charge:
    return Charge(
        charge_id=row["charge_id"],
        policy_number=row["policy_number"],
        amount_cents=row["amount_cents"],
        currency=row["currency"],
        card_token=row["card_token"],
        card_last4=row["card_last4"],
        status=row["status"],
        idempotency_key=row["idempotency_key"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class PaymentsBackend(Backend):
    """Card charges."""

    name = "payments"
    OPS = frozenset({"charge"})

    def __init__(
        self,
        db: Database,
        faults: FaultInjector,
        clock: Callable[[], datetime],
        today: date,
        *,
        token_key: bytes,
    ) -> None:
        super().__init__(db, faults, clock, today)
        self._token_key = token_key

    def charge(
        self, policy_number: str, amount_cents: int, card_number: str, idempotency_key: str | None = None
    ) -> Charge:
        """Charge a card. Invalid or declined cards fail permanently and write nothing.

        With a repeated ``idempotency_key`` the earlier charge is returned, not repeated.
        """
        self._faults.before(self.name, "charge")
        digits = card_digits(card_number)
        if not is_card_shaped(digits):
            raise PermanentToolError("That card number should have 13 to 19 digits.", code="invalid_card")
        if not luhn_ok(digits):
            raise PermanentToolError(
                f"The card number ending in {last4(digits)} isn't valid; please check the digits.", code="invalid_card"
            )
        if digits in DECLINED_CARDS:
            raise PermanentToolError(f"The card ending in {last4(digits)} was declined.", code="card_declined")
        token = tokenize(digits, self._token_key)
        with self._db.write() as conn:
            existing = None
            if idempotency_key is not None:
                row = conn.execute("SELECT * FROM charges WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
                existing = None if row is None else _charge(row)
            if existing is None:
                next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM charges").fetchone()[0]
                charge_id = f"CH-{1000 + next_id}"
                conn.execute(
                    "INSERT INTO charges (id, charge_id, policy_number, amount_cents, currency, card_token, card_last4,"
                    " status, idempotency_key, created_at) VALUES (?, ?, ?, ?, 'USD', ?, ?, 'succeeded', ?, ?)",
                    (next_id, charge_id, policy_number, amount_cents, token, last4(digits), idempotency_key, self._now()),
                )
                row = conn.execute("SELECT * FROM charges WHERE id = ?", (next_id,)).fetchone()
                charge = _charge(row)
            else:
                charge = existing
        logger.debug(
            "payments.charge: {} {} {} cents card {}{}",
            charge.charge_id,
            charge.policy_number,
            charge.amount_cents,
            charge.card_last4,
            " (idempotency key replayed)" if existing is not None else "",
        )
        self._faults.after(self.name, "charge")
        return charge

    def get_charge(self, charge_id: str) -> Charge | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM charges WHERE charge_id = ?", (charge_id,)).fetchone()
        return None if row is None else _charge(row)

    def list_charges(self, policy_number: str | None = None) -> list[Charge]:
        sql = "SELECT * FROM charges"
        params: tuple[str, ...] = ()
        if policy_number is not None:
            sql += " WHERE policy_number = ?"
            params = (policy_number,)
        with self._db.read() as conn:
            return [_charge(r) for r in conn.execute(sql + " ORDER BY id", params)]

    def count_charges(self, policy_number: str | None = None) -> int:
        sql = "SELECT COUNT(*) FROM charges"
        params: tuple[str, ...] = ()
        if policy_number is not None:
            sql += " WHERE policy_number = ?"
            params = (policy_number,)
        with self._db.read() as conn:
            return int(conn.execute(sql, params).fetchone()[0])
