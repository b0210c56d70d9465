"""Shared pieces of the executor tests (imported as ``tests.executor.helpers``).

Why effects are counted with SQL on the sandbox file instead of through mocks: the claim
under test is "exactly one charge in the world", and the world is the sandbox database
that a crashed child process and the recovering parent both write to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.support.dates import SCENARIO_TODAY
from tools.journal.records import JournalEntry
from tools.journal.signing import Signer
from tools.journal.open import open_store
from tools.journal.store import JournalStore
from tools.registry import TOOLS
from tools.sandbox import Sandbox
from tools.sandbox.seed import window_days
from tools.spec import RetryPolicy

KEY = b"executor-tests-signing-key"
CARD = "4539 1488 0343 6467"
DECLINED_CARD = "4000000000000002"
#: 16 digits (passes argument validation) but fails the Luhn check in the processor.
INVALID_CARD = "4539 1488 0343 6468"
CHARGE: dict[str, Any] = {"policy_number": "POL-4821", "amount_cents": 128_400, "card_number": CARD}

#: Step names of the multi-step tools, in order.
STEPS: dict[str, tuple[str, ...]] = {
    "charge_card": ("authorize", "capture", "receipt"),
    "book_tour": ("hold_slot", "confirm_event", "send_confirmation"),
}
#: The sandbox op each step calls (what a fault must be armed on to hit that step).
STEP_OPS: dict[str, tuple[str, str]] = {
    "tokenize": ("payments", "tokenize"),
    "authorize": ("payments", "authorize"),
    "capture": ("payments", "capture"),
    "receipt": ("payments", "send_receipt"),
    "hold_slot": ("calendar", "hold"),
    "confirm_event": ("calendar", "confirm"),
    "send_confirmation": ("calendar", "send_confirmation"),
}
#: The table each effect step writes its one row to.
STEP_TABLE: dict[str, str] = {
    "authorize": "authorizations",
    "capture": "charges",
    "receipt": "receipts",
    "hold_slot": "holds",
    "confirm_event": "bookings",
    "send_confirmation": "outbox",
}
#: Effect tables written by each tool's steps (all rows carry the step's idempotency key).
EFFECT_TABLES: dict[str, tuple[str, ...]] = {
    "charge_card": ("authorizations", "charges", "receipts"),
    "book_tour": ("holds", "bookings", "outbox"),
}
ALL_EFFECT_TABLES: tuple[str, ...] = (*EFFECT_TABLES["charge_card"], *EFFECT_TABLES["book_tour"], "cases")


def fast_retry(attempts: int = 3, timeout: float = 5.0) -> dict[str, RetryPolicy]:
    """A small policy for every tool, so retry tests take milliseconds, not seconds."""
    policy = RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=0.02, jitter=0.0, timeout=timeout)
    return {name: policy for name in TOOLS}


def journal_url(path: Path) -> str:
    return "sqlite:///" + str(path)


async def open_journal(path: Path) -> JournalStore:
    return await open_store(journal_url(path), Signer(KEY))


def booking_args(listing_id: str, slot: datetime, *, name: str = "Maria Gonzalez",
                 phone: str = "5105550142") -> dict[str, Any]:
    return {"listing_id": listing_id, "slot_start": slot.isoformat(timespec="seconds"), "name": name, "phone": phone}


def free_slots(sb: Sandbox) -> list[tuple[str, datetime]]:
    """Every free (listing, slot) of the booking window: one per conversation that books."""
    return [
        (listing.listing_id, slot)
        for listing in sb.listings.list_listings()
        for day in window_days(SCENARIO_TODAY)
        for slot in sb.calendar.free_slots(listing.listing_id, day)
    ]


def taken_slot(sb: Sandbox) -> tuple[str, datetime]:
    """A slot of the window already booked by the seed: holding it is a permanent conflict."""
    with sb.db.read() as conn:
        row = conn.execute("SELECT listing_id, slot_start FROM bookings WHERE source = 'seed' ORDER BY id").fetchone()
    return str(row[0]), datetime.fromisoformat(row[1])


def effects_of(sb: Sandbox, call_id: str) -> dict[str, int]:
    """Rows each effect table holds for one conversation (step keys start with ``call_id:``)."""
    prefix = f"{call_id}:"
    with sb.db.read() as conn:
        return {
            table: int(conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE substr(idempotency_key, 1, ?) = ?", (len(prefix), prefix)
            ).fetchone()[0])
            for table in ALL_EFFECT_TABLES
        }


def total_effects(sb: Sandbox) -> dict[str, int]:
    """Rows in every effect table, whoever made them (seed bookings excluded)."""
    with sb.db.read() as conn:
        counts = {table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
                  for table in ALL_EFFECT_TABLES}
        counts["bookings"] = int(conn.execute("SELECT COUNT(*) FROM bookings WHERE source = 'caller'").fetchone()[0])
    return counts


def expected_effects(tool: str, done: bool) -> dict[str, int]:
    """What one completed (``done``) or failed-before-any-effect call of ``tool`` leaves behind."""
    counts = dict.fromkeys(ALL_EFFECT_TABLES, 0)
    if done:
        counts.update(dict.fromkeys(EFFECT_TABLES[tool], 1))
    return counts


def kinds(entries: Iterable[JournalEntry], key: str | None = None) -> list[str]:
    """Entry kinds in order (of one idempotency key, if given)."""
    return [str(e.kind) for e in entries if key is None or e.idempotency_key == key]


def of_kind(entries: Iterable[JournalEntry], kind: str) -> list[JournalEntry]:
    return [e for e in entries if str(e.kind) == kind]
