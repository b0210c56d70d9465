"""Exactly-once support for tool calls: a signed, hash-chained journal and idempotency records.

See docs/journal.md. Entry points: :func:`open_store` (SQLite by default, PostgreSQL by
URL), :class:`Signer` with :func:`load_signing_key`, and :func:`verify_chain`.
"""

from tools.journal.idempotency import Claim
from tools.journal.records import (
    GENESIS_HASH,
    EntryKind,
    JournalEntry,
    args_hash,
    canonical_json,
)
from tools.journal.signing import JournalKeyError, Signer, load_signing_key
from tools.journal.open import default_journal_url, open_store
from tools.journal.store import JournalError, JournalStore
from tools.journal.verify import VerifyReport, verify_chain, verify_store

__all__ = [
    "GENESIS_HASH",
    "Claim",
    "EntryKind",
    "JournalEntry",
    "JournalError",
    "JournalKeyError",
    "JournalStore",
    "Signer",
    "VerifyReport",
    "args_hash",
    "canonical_json",
    "default_journal_url",
    "load_signing_key",
    "open_store",
    "verify_chain",
    "verify_store",
]
