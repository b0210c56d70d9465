"""Canonical JSON, argument hashing and the signing template agree with each other."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from tools.journal import EntryKind, JournalEntry, Signer, args_hash, canonical_json
from tools.journal.records import GENESIS_HASH
from tools.journal.rows import make_draft
from tools.journal.signing import chain_template
from tools.redact import scrub

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


class Args(BaseModel):
    amount_cents: int
    when: datetime


def test_canonical_json_sorted_compact_and_stable() -> None:
    assert (
        canonical_json({"b": 1, "a": [1, 2], "c": {"z": None, "y": "é"}})
        == '{"a":[1,2],"b":1,"c":{"y":"é","z":null}}'.encode()
    )
    assert canonical_json({"a": (1, 2)}) == canonical_json({"a": [1, 2]})


def test_canonical_json_normalises_rich_types() -> None:
    paris = timezone(timedelta(hours=1))
    instant = datetime(2026, 1, 2, 10, 0, tzinfo=paris)
    assert canonical_json(instant) == canonical_json(instant.astimezone(UTC)) == b'"2026-01-02T09:00:00+00:00"'
    assert canonical_json(date(2026, 1, 2)) == b'"2026-01-02"'
    assert canonical_json(Decimal("12.50")) == b'"12.50"'
    assert canonical_json(EntryKind.event) == b'"event"'
    assert canonical_json({3, 1, 2}) == b"[1,2,3]"
    model = Args(amount_cents=5, when=instant)
    assert canonical_json(model) == canonical_json({"when": "2026-01-02T10:00:00+01:00", "amount_cents": 5})


def test_canonical_json_refuses_nan_and_unknown_types() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


def test_args_hash_depends_on_tool_and_values_not_order() -> None:
    first = args_hash("charge_card", {"amount": 1, "policy": "P"})
    assert first == args_hash("charge_card", {"policy": "P", "amount": 1})
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != args_hash("charge_card", {"amount": 2, "policy": "P"})
    assert first != args_hash("book_tour", {"amount": 1, "policy": "P"})


@given(payload=st.dictionaries(st.text(max_size=10), json_values, max_size=5), seq=st.integers(1, 10**9))
def test_signing_template_equals_signing_all_fields(payload: dict[str, Any], seq: int) -> None:
    """The fast path used inside write transactions signs exactly the documented bytes."""
    signer = Signer(b"k" * 32)
    draft = make_draft(
        "call-1",
        "step_succeeded",
        tool="t",
        tool_call_id=None,
        idempotency_key="k",
        step="s",
        attempt=2,
        turn=None,
        payload=payload,
        args_hash=None,
        at=1_800_000_000.25,
    )
    entry = draft.entry(seq, GENESIS_HASH, draft.sign(signer, seq, GENESIS_HASH))
    assert signer.sign(entry.signed_fields()) == entry.signature
    assert signer.verify(entry)
    # The stored payload is what JSON gives back, so a reread entry is equal; the encoder is a
    # redaction point, so anything card-like in it is stored masked (tools.redact.scrub).
    assert entry.payload == json.loads(canonical_json(scrub(payload)))


def test_chain_template_rejects_fields_in_the_gap() -> None:
    with pytest.raises(ValueError):
        chain_template({"call_id": "c", "seq": 1})
    with pytest.raises(ValueError):
        chain_template({"call_id": "c", "rank": 1})  # sorts between prev_hash and seq


def test_entry_model_is_frozen_and_strict() -> None:
    signer = Signer(b"k" * 32)
    draft = make_draft(
        "c",
        "event",
        tool=None,
        tool_call_id=None,
        idempotency_key=None,
        step=None,
        attempt=None,
        turn=None,
        payload={"e": 1},
        args_hash=None,
        at=1.0,
    )
    entry = draft.entry(1, GENESIS_HASH, draft.sign(signer, 1, GENESIS_HASH))
    assert isinstance(entry, JournalEntry) and entry.kind is EntryKind.event
    with pytest.raises(ValueError):
        entry.seq = 2  # type: ignore[misc,unused-ignore]  # frozen model
    with pytest.raises(ValueError):
        JournalEntry.model_validate({**entry.model_dump(), "extra": 1})
