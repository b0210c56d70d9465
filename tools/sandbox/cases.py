"""Case desk backend: where calls the agent cannot finish are handed to people."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from loguru import logger

from tools.redact import mask_card_numbers
from tools.sandbox.base import Backend
from tools.sandbox.records import Case, CaseReason


def _case(row: sqlite3.Row) -> Case:
    return Case(
        case_id=row["case_id"],
        reason=row["reason"],
        summary=row["summary"],
        caller_name=row["caller_name"],
        caller_phone=row["caller_phone"],
        policy_number=row["policy_number"],
        idempotency_key=row["idempotency_key"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


class CasesBackend(Backend):
    """Creation and listing of cases."""

    name = "cases"
    OPS = frozenset({"create"})

    def create(
        self,
        reason: CaseReason,
        summary: str,
        caller_name: str | None = None,
        caller_phone: str | None = None,
        policy_number: str | None = None,
        idempotency_key: str | None = None,
    ) -> Case:
        """Open a case. Summaries are masked for card numbers before they are stored:
        they are often built from transcripts, and a caller may have read a card aloud."""
        self._faults.before(self.name, "create")
        with self._db.write() as conn:
            row = None
            if idempotency_key is not None:
                row = conn.execute("SELECT * FROM cases WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            replay = row is not None
            if row is None:
                next_id = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM cases").fetchone()[0]
                conn.execute(
                    "INSERT INTO cases (id, case_id, reason, summary, caller_name, caller_phone, policy_number,"
                    " idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        next_id,
                        f"CASE-{1000 + next_id}",
                        reason,
                        mask_card_numbers(summary),
                        caller_name,
                        caller_phone,
                        policy_number,
                        idempotency_key,
                        self._now(),
                    ),
                )
                row = conn.execute("SELECT * FROM cases WHERE id = ?", (next_id,)).fetchone()
        case = _case(row)
        logger.debug("cases.create: {} {} {}", "replayed" if replay else "opened", case.case_id, case.reason)
        self._faults.after(self.name, "create")
        return case

    def get_case(self, case_id: str) -> Case | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return None if row is None else _case(row)

    def list_cases(self) -> list[Case]:
        with self._db.read() as conn:
            return [_case(r) for r in conn.execute("SELECT * FROM cases ORDER BY id")]

    def count_cases(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM cases").fetchone()[0])
