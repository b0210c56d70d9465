"""Policies backend: the insurer's policy admin system (read-only in the sandbox)."""

from __future__ import annotations

import hmac
import sqlite3
from datetime import date

from tools.errors import Conflict, NotFound
from tools.sandbox.base import Backend
from tools.sandbox.records import Policy, Quote
from tools.sandbox.seed import POLICIES, RENEWABLE_STATUSES


def _policy(row: sqlite3.Row) -> Policy:
    return Policy(
        policy_number=row["policy_number"],
        holder_name=row["holder_name"],
        date_of_birth=date.fromisoformat(row["date_of_birth"]),
        premium_cents=row["premium_cents"],
        currency=row["currency"],
        status=row["status"],
    )


class PoliciesBackend(Backend):
    """Lookup, identity check and renewal quotes."""

    name = "policies"
    OPS = frozenset({"get", "verify", "renewal_quote"})

    def seed(self) -> None:
        with self._db.write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO policies"
                " (policy_number, holder_name, date_of_birth, premium_cents, currency, status)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (p.policy_number, p.holder_name, p.date_of_birth.isoformat(), p.premium_cents, p.currency, p.status)
                    for p in POLICIES
                ],
            )

    def _fetch(self, policy_number: str) -> Policy:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM policies WHERE policy_number = ?", (policy_number,)).fetchone()
        if row is None:
            raise NotFound(f"No policy {policy_number}.")
        return _policy(row)

    def get(self, policy_number: str) -> Policy:
        """One policy; ``NotFound`` if unknown."""
        self._faults.before(self.name, "get")
        policy = self._fetch(policy_number)
        self._faults.after(self.name, "get")
        return policy

    def verify(self, policy_number: str, date_of_birth: date) -> Policy | None:
        """The policy if ``date_of_birth`` matches its holder, else None.

        An unknown policy number is ``NotFound`` (most likely misheard, worth re-asking);
        a wrong date of birth is just "not verified", without saying what was wrong.
        """
        self._faults.before(self.name, "verify")
        policy = self._fetch(policy_number)
        matches = hmac.compare_digest(policy.date_of_birth.isoformat(), date_of_birth.isoformat())
        self._faults.after(self.name, "verify")
        return policy if matches else None

    def renewal_quote(self, policy_number: str) -> Quote:
        """Renewal quote for the policy; ``Conflict`` if the policy cannot be renewed."""
        self._faults.before(self.name, "renewal_quote")
        policy = self._fetch(policy_number)
        if policy.status not in RENEWABLE_STATUSES:
            raise Conflict(f"Policy {policy_number} is {policy.status} and can't be renewed by phone.")
        digits = policy_number.split("-", 1)[1]
        quote = Quote(
            quote_id=f"Q-{digits}-{self.today:%Y%m%d}",
            policy_number=policy_number,
            amount_cents=policy.premium_cents,
            currency=policy.currency,
        )
        self._faults.after(self.name, "renewal_quote")
        return quote

    def list_policies(self) -> list[Policy]:
        with self._db.read() as conn:
            return [_policy(r) for r in conn.execute("SELECT * FROM policies ORDER BY policy_number")]
