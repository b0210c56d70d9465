"""Idempotency records and the one decision both stores make when a key is claimed.

Modelled on Stripe idempotency keys (same key + same parameters → the stored response;
different parameters → an error) and AWS Lambda Powertools (an in-progress record is a
lock held by an owner; records expire). The decision is a pure function so SQLite and
PostgreSQL cannot drift apart in semantics.

``expires_at`` means two things by status: for an in-progress record it is the owner's
*lease* (short, renewed while the tool runs: ``tools.journal.lease``), for a finished one
how long the stored result is kept. An expired record behaves as if absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tools.journal.records import record_fields

ClaimStatus = Literal["claimed", "done", "conflict", "in_progress", "tampered"]
RecordStatus = Literal["in_progress", "succeeded", "failed"]
FinalStatus = Literal["succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class Claim:
    """What ``claim`` tells the caller to do.

    ``claimed``: you own the key, run the tool. ``done``: it already ran with the same
    arguments; serve ``result`` (``outcome`` says whether it succeeded or failed).
    ``conflict``: the key was used with different arguments. ``in_progress``: ``owner``
    is running it right now; wait and claim again. ``tampered``: the record says it
    finished, but its signature does not match: serve nothing, run nothing.
    """

    status: ClaimStatus
    result: dict[str, Any] | None = None
    owner: str | None = None
    outcome: FinalStatus | None = None


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """One row of the idempotency table: ``(scope, key)`` is unique."""

    scope: str
    key: str
    tool: str
    args_hash: str
    status: RecordStatus
    result: dict[str, Any] | None
    owner: str | None
    created_at: float
    expires_at: float
    signature: str | None = None

    def expired(self, now: float) -> bool:
        """Expired records behave exactly as if they were absent."""
        return self.expires_at <= now

    def signed_fields(self) -> dict[str, Any]:
        """What a finished record's signature covers."""
        return record_fields(self.scope, self.key, self.tool, self.args_hash, self.status, self.result)


def decide_claim(
    record: IdempotencyRecord | None, args_hash: str, owner: str, now: float, authentic: bool = True
) -> Claim:
    """The answer to ``claim`` given the current record (``None`` when there is none).

    ``authentic``: whether a finished record's signature matches (the store checks it); a
    finished record that is not is ``tampered``: its result is never served.

    A ``claimed`` answer means the caller must (atomically, in the same transaction)
    write a fresh in-progress record for ``owner``. Not re-entrant: while a claim is in
    progress every other claim gets ``in_progress``, even from the same owner, so one
    owner token per process still runs two racing duplicates only once.
    """
    if record is None or record.expired(now):
        return Claim("claimed", owner=owner)
    if record.args_hash != args_hash:
        return Claim("conflict", owner=record.owner)
    if record.status == "in_progress":
        return Claim("in_progress", owner=record.owner)
    if not authentic:
        return Claim("tampered", owner=record.owner)
    return Claim("done", result=record.result, owner=record.owner, outcome=record.status)


def decide_reclaim(
    record: IdempotencyRecord | None, now: float, owner_dead: bool, authentic: bool = True
) -> Claim | None:
    """The answer to ``reclaim_stale`` before any write; ``claimed`` means take it over.

    Only a claim nobody owns is taken over: its lease ran out (then it is "absent": ``None``,
    call ``claim``), or its owner is known to be dead (``owner_dead``, see
    ``tools.journal.owners``). A live owner keeps its claim: ``in_progress``.
    """
    if record is None or record.expired(now):
        return None
    if record.status != "in_progress":
        if not authentic:
            return Claim("tampered", owner=record.owner)
        return Claim("done", result=record.result, owner=record.owner, outcome=record.status)
    if not owner_dead:
        return Claim("in_progress", owner=record.owner)
    return Claim("claimed", owner=record.owner)
