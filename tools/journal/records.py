"""Journal entries and the canonical bytes that get hashed and signed.

Why a canonical form: a signature or an idempotency hash is only useful if the same
logical value always produces the same bytes — regardless of dict order, of whether a
value arrived as a tuple or a list, a pydantic model or a dict, or of which database
round-tripped it. Everything that is hashed or signed in the journal goes through
:func:`canonical_json`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import PurePath
from typing import Any, Final
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

#: ``prev_hash`` of the first entry of every call (there is no previous signature).
GENESIS_HASH: Final[str] = "0" * 64


class EntryKind(StrEnum):
    """What happened; the executor writes these, ``resume`` and ``replay`` read them."""

    call_requested = "call_requested"  # a call with an effect, before it prepares (redacted arguments, owner)
    call_started = "call_started"  # arguments (redacted), args_hash, idempotency key
    step_started = "step_started"
    step_succeeded = "step_succeeded"  # step output
    step_failed = "step_failed"  # error, transient, will_retry
    call_succeeded = "call_succeeded"  # result (redacted)
    call_failed = "call_failed"  # error
    call_replayed = "call_replayed"  # a duplicate served from the stored result
    call_interrupted = "call_interrupted"  # resume: a call_requested whose process died while preparing
    event = "event"  # a state-machine event or decision, for replay
    journal_sealed = "journal_sealed"  # the conversation ended: its chain was this long (tool lines may follow)


#: Kinds that close a tool call started with ``call_started`` (see ``JournalStore.unfinished``).
TERMINAL_KINDS: Final[frozenset[EntryKind]] = frozenset({EntryKind.call_succeeded, EntryKind.call_failed})


class JournalEntry(BaseModel):
    """One signed, hash-chained line of a call's journal (docs/journal.md, "Journal entry").

    ``prev_hash`` is the previous entry's ``signature`` in the same call (``GENESIS_HASH``
    for seq 1) and ``signature`` is HMAC-SHA256 over the canonical JSON of every other
    field, so editing, deleting, reordering or inserting an entry breaks verification.
    Frozen: an entry is a fact, never updated in place.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    call_id: str = Field(min_length=1, description="The conversation this entry belongs to.")
    seq: int = Field(ge=1, description="1, 2, ... per call, no gaps.")
    kind: EntryKind
    tool: str | None = None
    tool_call_id: str | None = Field(None, description="The model's id for the tool call.")
    idempotency_key: str | None = None
    step: str | None = None
    attempt: int | None = None
    turn: int | None = None
    payload: dict[str, Any] | None = Field(
        None, description="Arguments or result (redacted), error, or state-machine event; JSON values only."
    )
    args_hash: str | None = None
    at: float = Field(description="Unix seconds when the entry was written.")
    prev_hash: str = Field(min_length=64, max_length=64)
    signature: str = Field(min_length=64, max_length=64)

    def signed_fields(self) -> dict[str, Any]:
        """Every field except ``signature``, as JSON values: exactly what the HMAC covers."""
        fields = self.model_dump(mode="json")
        fields.pop("signature")
        return fields


class JournalHead(BaseModel):
    """Where a call's chain ends, kept outside the chain (its own table), signed.

    Why: a hash chain cannot show that its *last* entries were deleted: what remains is a
    valid, shorter chain. The head is rewritten with every append (in the same transaction),
    so a chain that ends before its head, or a head that is missing, edited or deleted with
    the whole call, is caught; a call id that never existed has neither.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    call_id: str
    seq: int = Field(ge=1, description="The seq of the call's last entry.")
    last_signature: str = Field(description="The signature of that entry.")
    signature: str = Field(description="HMAC-SHA256 over head_fields(call_id, seq, last_signature).")


def head_fields(call_id: str, seq: int, last_signature: str) -> dict[str, Any]:
    """What a head's signature covers; ``kind`` keeps it from ever equalling an entry's fields."""
    return {"kind": "journal_head", "call_id": call_id, "seq": seq, "last_signature": last_signature}


def record_fields(scope: str, key: str, tool: str, args_hash: str, status: str, result: Any) -> dict[str, Any]:
    """What a finished idempotency record's signature covers (the outcome served to duplicates)."""
    return {"kind": "idempotency_record", "scope": scope, "key": key, "tool": tool, "args_hash": args_hash,
            "status": status, "result": result}


def _to_json_value(obj: Any) -> Any:
    """``json.dumps`` fallback: give non-JSON types one stable textual/structural form."""
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, datetime):
        # Aware datetimes are normalised to UTC so one instant has one spelling.
        return (obj.astimezone(UTC) if obj.tzinfo is not None else obj).isoformat()
    if isinstance(obj, date | time):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, Decimal | UUID | PurePath):
        return str(obj)
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=lambda item: json.dumps(item, sort_keys=True, default=_to_json_value))
    if isinstance(obj, bytes):
        return obj.hex()
    raise TypeError(f"cannot put a {type(obj).__name__} into canonical JSON")


_CANONICAL = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=False,
    allow_nan=False,
    default=_to_json_value,
)


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON with sorted keys and no whitespace: equal values give equal bytes.

    NaN and infinities are refused (they have no JSON spelling and would not round-trip).
    """
    return _CANONICAL.encode(obj).encode("utf-8")


def args_hash(tool: str, args: Any) -> str:
    """sha256 hex of the tool name and its canonical arguments.

    Stored with the idempotency record: a repeated key with a different hash is a
    conflict (Stripe's "same key, different parameters"), not a duplicate.
    """
    return hashlib.sha256(canonical_json({"args": args, "tool": tool})).hexdigest()

