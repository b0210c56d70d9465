"""How a journal entry becomes a database row and back.

Why separate from the stores: both backends must write byte-identical rows and read
them back identically — including rows someone tampered with, which must come back
as entries that fail verification rather than as exceptions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from loguru import logger
from pydantic import ValidationError

from tools.journal.records import EntryKind, JournalEntry, JournalHead, canonical_json
from tools.journal.signing import ChainTemplate, Signer, chain_template
from tools.redact import scrub

#: Column order shared by both backends' ``journal_entries`` tables.
ENTRY_COLUMNS: Final[tuple[str, ...]] = (
    "call_id",
    "seq",
    "kind",
    "tool",
    "tool_call_id",
    "idempotency_key",
    "step",
    "attempt",
    "turn",
    "payload",
    "args_hash",
    "at",
    "prev_hash",
    "signature",
)
#: The payload stands in for a stored payload that is not JSON (so verification, not parsing, reports it).
CORRUPT_PAYLOAD_KEY: Final[str] = "__corrupt_payload__"


@dataclass(frozen=True, slots=True)
class Draft:
    """A validated entry waiting for its place in the chain (``seq``, ``prev_hash``).

    Everything that does not depend on the place — JSON, the signing template, the
    stored payload text — is computed before the write transaction, which then only
    joins bytes, signs and inserts.
    """

    fields: dict[str, Any]  # every entry field except seq, prev_hash and signature (JSON values)
    template: ChainTemplate
    payload_text: str | None

    @property
    def call_id(self) -> str:
        return str(self.fields["call_id"])

    def sign(self, signer: Signer, seq: int, prev_hash: str) -> str:
        """The signature the entry gets at ``seq`` after ``prev_hash``."""
        return signer.sign_canonical(self.template.render(prev_hash, seq))

    def row(self, seq: int, prev_hash: str, signature: str) -> tuple[Any, ...]:
        """Column values in ``ENTRY_COLUMNS`` order."""
        f = self.fields
        return (
            f["call_id"],
            seq,
            f["kind"],
            f["tool"],
            f["tool_call_id"],
            f["idempotency_key"],
            f["step"],
            f["attempt"],
            f["turn"],
            self.payload_text,
            f["args_hash"],
            f["at"],
            prev_hash,
            signature,
        )

    def entry(self, seq: int, prev_hash: str, signature: str) -> JournalEntry:
        """The entry as stored at ``seq``."""
        return JournalEntry.model_validate({**self.fields, "seq": seq, "prev_hash": prev_hash, "signature": signature})


def make_draft(
    call_id: str,
    kind: EntryKind | str,
    *,
    tool: str | None,
    tool_call_id: str | None,
    idempotency_key: str | None,
    step: str | None,
    attempt: int | None,
    turn: int | None,
    payload: Mapping[str, Any] | None,
    args_hash: str | None,
    at: float,
) -> Draft:
    """Check an append's arguments before touching the database.

    ``call_started`` must name its tool and idempotency key: that is what ``unfinished``
    (and so resume) finds it by. ``at`` is a float so it round-trips through REAL /
    double precision columns to the same JSON (an int would come back as ``5.0``).
    """
    if not isinstance(call_id, str) or not call_id:
        raise ValueError("call_id must be a non-empty string")
    entry_kind = EntryKind(kind)
    if entry_kind is EntryKind.call_started and (not tool or not idempotency_key):
        raise ValueError("a call_started entry needs tool and idempotency_key")
    for name, number in (("attempt", attempt), ("turn", turn)):
        if number is not None and (not isinstance(number, int) or isinstance(number, bool)):
            raise ValueError(f"{name} must be an int or None")
    for name, text in (
        ("tool", tool),
        ("tool_call_id", tool_call_id),
        ("idempotency_key", idempotency_key),
        ("step", step),
        ("args_hash", args_hash),
    ):
        if text is not None and not isinstance(text, str):
            raise ValueError(f"{name} must be a str or None")
    if payload is None:
        payload_text, stored_payload = None, None
    else:
        payload_text = canonical_json(scrub(dict(payload))).decode("utf-8")  # the journal's redaction point
        stored_payload = json.loads(payload_text)
    fields: dict[str, Any] = {
        "call_id": call_id,
        "kind": entry_kind.value,
        "tool": tool,
        "tool_call_id": tool_call_id,
        "idempotency_key": idempotency_key,
        "step": step,
        "attempt": attempt,
        "turn": turn,
        "payload": stored_payload,
        "args_hash": args_hash,
        "at": float(at),
    }
    return Draft(fields, chain_template(fields), payload_text)


def entry_to_row(entry: JournalEntry) -> tuple[Any, ...]:
    """Column values in ``ENTRY_COLUMNS`` order; the payload is stored as canonical JSON text."""
    payload = None if entry.payload is None else canonical_json(entry.payload).decode("utf-8")
    return (
        entry.call_id,
        entry.seq,
        str(entry.kind),
        entry.tool,
        entry.tool_call_id,
        entry.idempotency_key,
        entry.step,
        entry.attempt,
        entry.turn,
        payload,
        entry.args_hash,
        entry.at,
        entry.prev_hash,
        entry.signature,
    )


def entry_from_row(row: Sequence[Any]) -> JournalEntry:
    """Rebuild an entry exactly as stored, even a tampered one.

    A row that no longer parses or validates is still returned (unvalidated), so that
    ``verify_chain`` reports it as a bad signature instead of the read crashing.
    """
    fields = dict(zip(ENTRY_COLUMNS, row, strict=True))
    text = fields["payload"]
    if text is not None:
        try:
            fields["payload"] = json.loads(text)
        except (ValueError, TypeError):
            fields["payload"] = {CORRUPT_PAYLOAD_KEY: str(text)}
    try:
        return JournalEntry.model_validate(fields)
    except ValidationError as exc:
        logger.warning("journal row {}#{} does not validate: {}", fields["call_id"], fields["seq"], exc.errors()[0])
        return JournalEntry.model_construct(**fields)


def head_from_row(row: Sequence[Any]) -> JournalHead:
    """A head as stored, even one edited into something invalid (it then fails verification)."""
    fields = dict(zip(("call_id", "seq", "last_signature", "signature"), row, strict=True))
    try:
        return JournalHead.model_validate(fields)
    except ValidationError:
        return JournalHead.model_construct(**fields)
