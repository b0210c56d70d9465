"""Payments backend: a card processor that never stores card numbers.

The full card number exists only in memory for the duration of :meth:`charge` or
:meth:`tokenize`: it is validated (shape, Luhn) and exchanged for a vault token, and only the
token and the last four digits reach the database, the logs, the return value or any error.

The vault works as a processor's does: tokens are random, so nothing in this database can be
turned back into a number (an HMAC token with its key in the same file fell to a 10^5-guess
brute force in two seconds). The same card gets the same token again through a keyed
fingerprint, whose key (``vault_key``) is never written anywhere: by default a random key held
in this process's memory only (so a card tokenized by another process gets a new token, as a
new payment method would), or one the deployment passes in from its own secret store.

Two ways to take money: ``charge`` does it in one call; the step-wise path is
``tokenize`` (card number → vault token + last four) → ``authorize`` (reserve the amount on
the token) → ``capture`` (turn the authorization into the charge; exactly one charge per
authorization) → ``send_receipt``. Each effect step is idempotent on its own key, so a
payment interrupted between steps is resumed without a second authorization, charge or
receipt. ``count_charges`` counts both kinds of charge (captured and single-call).

Like a real processor, it does not refuse a second charge for the same policy: stopping
double charges is the runtime's job (idempotency keys, later the journal), and a sandbox
that hid the problem would make that work untestable.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from functools import cache

from loguru import logger

from tools.cards import card_digits, card_fingerprint, is_card_shaped, last4, luhn_ok, new_card_token
from tools.errors import Conflict, NotFound, PermanentToolError
from tools.sandbox.base import Backend, key_reused, require_key
from tools.sandbox.db import Database
from tools.sandbox.faults import FaultInjector
from tools.sandbox.records import Authorization, Charge, Receipt, VaultCard

#: Test cards that pass validation but are declined (Stripe's convention).
DECLINED_CARDS: frozenset[str] = frozenset({"4000000000000002"})


@cache
def process_vault_key() -> bytes:
    """The fingerprint key of vaults opened without one: random, in this process's memory only."""
    return secrets.token_bytes(32)


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
        authorization_id=row["authorization_id"],
    )


def _authorization(row: sqlite3.Row) -> Authorization:
    return Authorization(
        authorization_id=row["authorization_id"],
        policy_number=row["policy_number"],
        amount_cents=row["amount_cents"],
        currency=row["currency"],
        card_token=row["card_token"],
        card_last4=row["card_last4"],
        status=row["status"],
        idempotency_key=row["idempotency_key"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def _receipt(row: sqlite3.Row) -> Receipt:
    return Receipt(
        receipt_id=row["receipt_id"],
        charge_id=row["charge_id"],
        policy_number=row["policy_number"],
        amount_cents=row["amount_cents"],
        card_last4=row["card_last4"],
        idempotency_key=row["idempotency_key"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def _valid_digits(card_number: str) -> str:
    """Digits of a valid card number, or ``PermanentToolError(code="invalid_card")``."""
    digits = card_digits(card_number)
    if not is_card_shaped(digits):
        raise PermanentToolError("That card number should have 13 to 19 digits.", code="invalid_card")
    if not luhn_ok(digits):
        raise PermanentToolError(
            f"The card number ending in {last4(digits)} isn't valid; please check the digits.", code="invalid_card"
        )
    return digits


class PaymentsBackend(Backend):
    """Card charges."""

    name = "payments"
    OPS = frozenset({"charge", "tokenize", "authorize", "capture", "send_receipt"})

    def __init__(
        self,
        db: Database,
        faults: FaultInjector,
        clock: Callable[[], datetime],
        today: date,
        *,
        vault_key: bytes | None = None,
    ) -> None:
        super().__init__(db, faults, clock, today)
        self._vault_key = vault_key or process_vault_key()

    def _vault(self, conn: sqlite3.Connection, digits: str) -> str:
        """The card's vault token, vaulting it on first sight (inside the caller's transaction).

        Whether the card will be declined is decided here, on the number, and kept as a flag:
        later steps only ever see the token.
        """
        fingerprint = card_fingerprint(digits, self._vault_key)
        row = conn.execute("SELECT card_token FROM vault WHERE fingerprint = ?", (fingerprint,)).fetchone()
        if row is not None:
            return str(row[0])
        token = new_card_token()
        conn.execute(
            "INSERT INTO vault (card_token, card_last4, created_at, fingerprint, declined) VALUES (?, ?, ?, ?, ?)",
            (token, last4(digits), self._now(), fingerprint, int(digits in DECLINED_CARDS)),
        )
        return token

    def charge(
        self, policy_number: str, amount_cents: int, card_number: str, idempotency_key: str | None = None
    ) -> Charge:
        """Charge a card. Invalid or declined cards fail permanently and write nothing.

        With a repeated ``idempotency_key`` the earlier charge is returned, not repeated.
        """
        self._faults.before(self.name, "charge")
        digits = _valid_digits(card_number)
        if digits in DECLINED_CARDS:
            raise PermanentToolError(f"The card ending in {last4(digits)} was declined.", code="card_declined")
        with self._db.write() as conn:
            token = self._vault(conn, digits)
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

    # --- step-wise payment: tokenize → authorize → capture → send_receipt ----------------

    def tokenize(self, card_number: str) -> tuple[str, str]:
        """Vault a card: returns ``(token, last4)``. Invalid numbers fail permanently
        (``invalid_card``) and write nothing.

        The token is random; tokenizing the same card again (with the same vault key)
        returns the same token and adds no row. The ``vault`` keeps the token, the last four
        digits and the keyed fingerprint only.
        """
        self._faults.before(self.name, "tokenize")
        digits = _valid_digits(card_number)
        four = last4(digits)
        with self._db.write() as conn:
            token = self._vault(conn, digits)
        logger.debug("payments.tokenize: card {} -> {}", four, token)
        self._faults.after(self.name, "tokenize")
        return token, four

    def authorize(self, policy_number: str, amount_cents: int, card_token: str, idempotency_key: str) -> str:
        """Reserve ``amount_cents`` on a vaulted card; returns the authorization id.

        Unknown tokens are ``invalid_card``, declined cards ``card_declined`` (both
        permanent, nothing written). A repeated key returns the same authorization; the same
        key with another policy, amount or card is ``Conflict`` (``idempotency_key_reused``).
        """
        require_key("payments.authorize", idempotency_key)
        self._faults.before(self.name, "authorize")
        if amount_cents <= 0:
            raise PermanentToolError("The amount to authorize must be positive.", code="invalid_amount")
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT * FROM authorizations WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
            replay = row is not None
            if row is not None:
                if (row["policy_number"], row["amount_cents"], row["card_token"]) != (
                    policy_number,
                    amount_cents,
                    card_token,
                ):
                    raise key_reused("authorize", idempotency_key)
            else:
                card = conn.execute("SELECT * FROM vault WHERE card_token = ?", (card_token,)).fetchone()
                if card is None:
                    raise PermanentToolError(
                        "That card isn't on file; please give the number again.", code="invalid_card"
                    )
                if card["declined"]:
                    raise PermanentToolError(
                        f"The card ending in {card['card_last4']} was declined.", code="card_declined"
                    )
                next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM authorizations").fetchone()[0]
                conn.execute(
                    "INSERT INTO authorizations (id, authorization_id, policy_number, amount_cents, currency,"
                    " card_token, card_last4, status, idempotency_key, created_at)"
                    " VALUES (?, ?, ?, ?, 'USD', ?, ?, 'authorized', ?, ?)",
                    (next_id, f"AUTH-{1000 + next_id}", policy_number, amount_cents, card_token, card["card_last4"],
                     idempotency_key, self._now()),
                )
                row = conn.execute("SELECT * FROM authorizations WHERE id = ?", (next_id,)).fetchone()
        authorization = _authorization(row)
        logger.debug(
            "payments.authorize: {} {} {} {} cents card {}",
            "replayed" if replay else "authorized",
            authorization.authorization_id,
            authorization.policy_number,
            authorization.amount_cents,
            authorization.card_last4,
        )
        self._faults.after(self.name, "authorize")
        return authorization.authorization_id

    def capture(self, authorization_id: str, idempotency_key: str) -> str:
        """Capture an authorization into a charge; returns the charge id.

        Exactly one charge per authorization (also a unique index): capturing one that was
        already captured under another key is ``Conflict``; an unknown id is ``NotFound``.
        A repeated key returns the same charge.
        """
        require_key("payments.capture", idempotency_key)
        self._faults.before(self.name, "capture")
        with self._db.write() as conn:
            row = conn.execute("SELECT * FROM charges WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            replay = row is not None
            if row is not None:
                if row["authorization_id"] != authorization_id:
                    raise key_reused("capture", idempotency_key)
            else:
                auth_row = conn.execute(
                    "SELECT * FROM authorizations WHERE authorization_id = ?", (authorization_id,)
                ).fetchone()
                if auth_row is None:
                    raise NotFound(f"No authorization {authorization_id}.")
                auth = _authorization(auth_row)
                captured = conn.execute(
                    "SELECT charge_id FROM charges WHERE authorization_id = ?", (authorization_id,)
                ).fetchone()
                if captured is not None or auth.status == "captured":
                    charge_id = captured[0] if captured is not None else "?"
                    raise Conflict(f"Authorization {authorization_id} was already captured as {charge_id}.")
                next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM charges").fetchone()[0]
                conn.execute(
                    "INSERT INTO charges (id, charge_id, policy_number, amount_cents, currency, card_token, card_last4,"
                    " status, idempotency_key, created_at, authorization_id)"
                    " VALUES (?, ?, ?, ?, 'USD', ?, ?, 'succeeded', ?, ?, ?)",
                    (next_id, f"CH-{1000 + next_id}", auth.policy_number, auth.amount_cents, auth.card_token,
                     auth.card_last4, idempotency_key, self._now(), authorization_id),
                )
                conn.execute(
                    "UPDATE authorizations SET status = 'captured' WHERE authorization_id = ?", (authorization_id,)
                )
                row = conn.execute("SELECT * FROM charges WHERE id = ?", (next_id,)).fetchone()
        charge = _charge(row)
        logger.debug(
            "payments.capture: {} {} -> {} {} cents card {}",
            "replayed" if replay else "captured",
            authorization_id,
            charge.charge_id,
            charge.amount_cents,
            charge.card_last4,
        )
        self._faults.after(self.name, "capture")
        return charge.charge_id

    def send_receipt(self, charge_id: str, idempotency_key: str) -> str:
        """Send a receipt for a charge; returns the receipt id (``NotFound`` for an unknown
        charge). A repeated key returns the same receipt; resending takes a new key."""
        require_key("payments.send_receipt", idempotency_key)
        self._faults.before(self.name, "send_receipt")
        with self._db.write() as conn:
            row = conn.execute("SELECT * FROM receipts WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            replay = row is not None
            if row is not None:
                if row["charge_id"] != charge_id:
                    raise key_reused("send_receipt", idempotency_key)
            else:
                charge_row = conn.execute("SELECT * FROM charges WHERE charge_id = ?", (charge_id,)).fetchone()
                if charge_row is None:
                    raise NotFound(f"No charge {charge_id}.")
                next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM receipts").fetchone()[0]
                conn.execute(
                    "INSERT INTO receipts (id, receipt_id, charge_id, policy_number, amount_cents, card_last4,"
                    " idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (next_id, f"RC-{1000 + next_id}", charge_id, charge_row["policy_number"],
                     charge_row["amount_cents"], charge_row["card_last4"], idempotency_key, self._now()),
                )
                row = conn.execute("SELECT * FROM receipts WHERE id = ?", (next_id,)).fetchone()
        receipt_id = str(row["receipt_id"])
        logger.debug("payments.send_receipt: {} {} for {}", "replayed" if replay else "sent", receipt_id, charge_id)
        self._faults.after(self.name, "send_receipt")
        return receipt_id

    def get_vault_card(self, card_token: str) -> VaultCard | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM vault WHERE card_token = ?", (card_token,)).fetchone()
        return None if row is None else VaultCard(
            card_token=row["card_token"], card_last4=row["card_last4"],
            created_at=datetime.fromisoformat(row["created_at"]),
        )

    def count_vault(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM vault").fetchone()[0])

    def get_authorization(self, authorization_id: str) -> Authorization | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT * FROM authorizations WHERE authorization_id = ?", (authorization_id,)
            ).fetchone()
        return None if row is None else _authorization(row)

    def list_authorizations(self) -> list[Authorization]:
        with self._db.read() as conn:
            return [_authorization(r) for r in conn.execute("SELECT * FROM authorizations ORDER BY id")]

    def count_authorizations(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM authorizations").fetchone()[0])

    def list_receipts(self) -> list[Receipt]:
        with self._db.read() as conn:
            return [_receipt(r) for r in conn.execute("SELECT * FROM receipts ORDER BY id")]

    def count_receipts(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM receipts").fetchone()[0])

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
        """Charges made: captured authorizations and single-call ``charge``s alike."""
        sql = "SELECT COUNT(*) FROM charges"
        params: tuple[str, ...] = ()
        if policy_number is not None:
            sql += " WHERE policy_number = ?"
            params = (policy_number,)
        with self._db.read() as conn:
            return int(conn.execute(sql, params).fetchone()[0])
