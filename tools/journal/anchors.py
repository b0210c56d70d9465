"""Per-call anchors kept OUTSIDE the journal database: a signed file per call.

Why: the head (``journal_heads``) lives in the same database as the entries, so whoever can
write that database can delete a call's entries *and* its head (the call then looks like a
typo in its id) or put back an older head over a truncation. CloudTrail ships its signed
digests to other storage for this reason; here the anchor directory (``MB_JOURNAL_ANCHOR_DIR``,
default ``<data_dir>/journal_anchors``) can be pointed at other storage the same way.

An anchor is written when a call's first entry is stored (the call exists) and rewritten when
the call is sealed (its final seq and that entry's signature). It holds only the call id, a
seq, a signature and a time — never card numbers or caller text. Each file is HMAC-signed
with the journal key and written atomically (temp file, fsync, ``os.replace``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any, Final

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.journal.records import canonical_json
from tools.journal.signing import Signer

ANCHOR_SUFFIX: Final[str] = ".anchor.json"
_SAFE_NAME: Final[re.Pattern[str]] = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")


def anchor_fields(call_id: str, seq: int, last_signature: str, sealed: bool, at: float) -> dict[str, Any]:
    """What an anchor's signature covers; ``kind`` keeps it from ever equalling a head's or an entry's."""
    return {"kind": "journal_anchor", "call_id": call_id, "seq": seq, "last_signature": last_signature,
            "sealed": sealed, "at": at}


class Anchor(BaseModel):
    """One call's anchor: the chain reaches ``seq`` and entry ``seq`` is signed ``last_signature``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    call_id: str = Field(min_length=1)
    seq: int = Field(ge=1, description="Entry the call is known to reach (1 when opened, the last when sealed).")
    last_signature: str = Field(description="The signature of entry ``seq``.")
    sealed: bool = Field(description="Written at the end-of-call seal (else at the call's first entry).")
    at: float = Field(description="Unix seconds when the anchor was written.")
    signature: str = Field(description="HMAC-SHA256 over anchor_fields(...).")


def sign_anchor(signer: Signer, call_id: str, seq: int, last_signature: str, sealed: bool, at: float) -> Anchor:
    signature = signer.sign_canonical(canonical_json(anchor_fields(call_id, seq, last_signature, sealed, at)))
    return Anchor(call_id=call_id, seq=seq, last_signature=last_signature, sealed=sealed, at=at, signature=signature)


def anchor_authentic(signer: Signer, anchor: Anchor, call_id: str) -> bool:
    """Signed with this key over exactly these fields, and about ``call_id`` (not a copied file)."""
    expected = signer.sign_canonical(canonical_json(anchor_fields(
        anchor.call_id, anchor.seq, anchor.last_signature, anchor.sealed, anchor.at)))
    return anchor.call_id == call_id and hmac.compare_digest(expected, anchor.signature)


class AnchorDir:
    """The directory of anchors. ``create=False`` (read-only commands) never creates it."""

    def __init__(self, path: Path, signer: Signer, *, create: bool = True) -> None:
        self.path = path
        self.signer = signer
        self.create = create

    def file(self, call_id: str) -> Path:
        """``<call_id>.anchor.json`` for plain ids; a hash of the id for anything else."""
        name = call_id if _SAFE_NAME.fullmatch(call_id) else "h-" + hashlib.sha256(call_id.encode()).hexdigest()
        return self.path / f"{name}{ANCHOR_SUFFIX}"

    def load(self, call_id: str) -> Anchor | None:
        """The stored anchor (verify before trusting); ``None`` if there is none.

        A file that does not parse comes back as an anchor with an empty signature, so
        verification names it a signature mismatch instead of ignoring it.
        """
        target = self.file(call_id)
        try:
            text = target.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return Anchor.model_validate_json(text)
        except ValidationError:
            return Anchor(call_id=call_id, seq=1, last_signature="", sealed=False, at=0.0, signature="")

    def call_ids(self) -> list[str]:
        """Every call with an anchor file (by the id each file names), sorted."""
        if not self.path.is_dir():
            return []
        found = set()
        for item in self.path.glob(f"*{ANCHOR_SUFFIX}"):
            try:
                found.add(Anchor.model_validate_json(item.read_bytes()).call_id)
            except (OSError, ValidationError):
                found.add(item.name[: -len(ANCHOR_SUFFIX)])  # damaged: verification names it
        return sorted(found)

    def write(self, call_id: str, seq: int, last_signature: str, *, sealed: bool, at: float) -> None:
        """Atomically (re)write the call's anchor; never moves it back to a lower seq."""
        if not self.create and not self.path.is_dir():
            return
        current = self.load(call_id)
        if current is not None and anchor_authentic(self.signer, current, call_id) and current.seq > seq:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        anchor = sign_anchor(self.signer, call_id, seq, last_signature, sealed, at)
        target = self.file(call_id)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            with open(tmp, "wb") as handle:
                handle.write(anchor.model_dump_json().encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        logger.debug("journal anchor of {}: seq {} ({})", call_id, seq, "sealed" if sealed else "opened")
