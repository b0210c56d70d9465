"""HMAC signing of journal entries and loading of the signing key.

Why HMAC and not a plain hash chain: anyone with write access to the database can
recompute plain hashes after editing a row; without the key they cannot produce a valid
signature, so edits, forged inserts and re-chaining are all detectable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from loguru import logger

from tools.journal.records import JournalEntry, JournalHead, canonical_json, head_fields

KEY_ENV: Final[str] = "MB_JOURNAL_KEY"
KEY_FILE_NAME: Final[str] = "journal.key"
_DEV_KEY_BYTES: Final[int] = 32
#: Shortest key accepted from anywhere: 256 bits, so neither the journal's signatures nor the
#: fingerprint give an offline guesser anything to work with.
MIN_KEY_BYTES: Final[int] = 32
#: What the fingerprint is an HMAC of: a fixed label, never anything the journal signs.
_FINGERPRINT_LABEL: Final[bytes] = b"mediabloom journal key fingerprint v1"
_PREV: Final[str] = "prev_hash"
_SEQ: Final[str] = "seq"


class JournalKeyError(RuntimeError):
    """The signing key is missing or unusable; the message is one sentence for the operator."""


class Signer:
    """Signs and checks entries with one HMAC-SHA256 key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not key:
            raise JournalKeyError("The journal signing key is empty.")
        self._key = bytes(key)

    def __repr__(self) -> str:
        # Never print the key; a short fingerprint is enough to tell keys apart in logs.
        return f"Signer(fingerprint={self.fingerprint})"

    @property
    def fingerprint(self) -> str:
        """16 hex digits that tell keys apart in logs without helping anyone find the key.

        An HMAC of a fixed label under the key, not a hash of the key: a plain hash lets
        anyone holding a log line test guesses offline (a 3-byte key fell in seconds).
        Keys are at least ``MIN_KEY_BYTES`` long, so guessing is hopeless either way.
        """
        return hmac.new(self._key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:16]

    def sign(self, entry_fields: Mapping[str, Any]) -> str:
        """HMAC-SHA256 hex over the canonical JSON of every field but ``signature``."""
        fields = {name: value for name, value in entry_fields.items() if name != "signature"}
        return hmac.new(self._key, canonical_json(fields), hashlib.sha256).hexdigest()

    def sign_canonical(self, data: bytes) -> str:
        """HMAC-SHA256 hex of bytes that already are canonical JSON (see ``ChainTemplate``)."""
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def verify(self, entry: JournalEntry) -> bool:
        """True when ``entry.signature`` was made with this key over exactly these fields."""
        return hmac.compare_digest(self.sign(entry.signed_fields()), entry.signature)

    def sign_head(self, call_id: str, seq: int, last_signature: str) -> str:
        """The signature of a call's head (``records.JournalHead``)."""
        return self.sign_canonical(canonical_json(head_fields(call_id, seq, last_signature)))

    def verify_head(self, head: JournalHead) -> bool:
        return hmac.compare_digest(self.sign_head(head.call_id, head.seq, head.last_signature), head.signature)

    def sign_record(self, fields: Mapping[str, Any]) -> str:
        """The signature of a finished idempotency record (``records.record_fields``)."""
        return self.sign_canonical(canonical_json(dict(fields)))

    def verify_record(self, fields: Mapping[str, Any], signature: str | None) -> bool:
        return signature is not None and hmac.compare_digest(self.sign_record(fields), signature)


@dataclass(frozen=True, slots=True)
class ChainTemplate:
    """An entry's canonical JSON with holes for ``prev_hash`` and ``seq``.

    Why: those two are only known inside the store's write transaction, where time
    spent holds up every other writer. Serialising everything else beforehand leaves
    the transaction with two string joins and one HMAC. Sorted keys put ``prev_hash``
    and ``seq`` next to each other, so the holes are one gap:
    ``render(p, n) == canonical_json({..., "prev_hash": p, "seq": n, ...})``.
    """

    head: bytes
    tail: bytes

    def render(self, prev_hash: str, seq: int) -> bytes:
        """The canonical JSON of the entry placed at ``seq`` after ``prev_hash``."""
        return b"".join((self.head, prev_hash.encode("ascii"), b'","seq":', str(seq).encode("ascii"), self.tail))


def chain_template(fields: Mapping[str, Any]) -> ChainTemplate:
    """Template for an entry given every field except ``prev_hash``, ``seq`` and ``signature``."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in fields.items():
        if name < _PREV:
            before[name] = value
        elif name > _SEQ and name != "signature":
            after[name] = value
        else:
            raise ValueError(f"{name!r} cannot be templated: it is, or sorts between, prev_hash and seq")
    head = b'{"prev_hash":"' if not before else canonical_json(before)[:-1] + b',"prev_hash":"'
    tail = b"}" if not after else b"," + canonical_json(after)[1:]
    return ChainTemplate(head, tail)


def parse_key(configured: str) -> bytes:
    """``MB_JOURNAL_KEY`` is hex (even length, hex digits only) or else any string (UTF-8)."""
    text = configured.strip()
    if len(text) % 2 == 0 and all(ch in string.hexdigits for ch in text):
        return bytes.fromhex(text)
    return text.encode("utf-8")


def load_signing_key(
    mode: Literal["dev", "production"], data_dir: Path, configured: str | None, *, create: bool = True
) -> bytes:
    """The key the journal is signed with.

    A configured key always wins, and must be at least ``MIN_KEY_BYTES`` long. Production
    without one refuses to start: a generated key would silently differ per machine and
    make journals unverifiable elsewhere. In dev a random key is generated once into
    ``<data_dir>/journal.key`` (mode 0600) and reused, so local journals stay verifiable
    across restarts. ``create=False`` (read-only commands, and ``resume``, which must sign
    with the key the journal was signed with) never writes a key: a missing one is a
    ``JournalKeyError`` saying the key was not found.
    """
    if configured is not None and configured.strip():
        key = parse_key(configured)
        if len(key) < MIN_KEY_BYTES:
            raise JournalKeyError(
                f"{KEY_ENV} is {len(key)} bytes long; use at least {MIN_KEY_BYTES} random bytes"
                " (64 hex digits, for example from `openssl rand -hex 32`)."
            )
        return key
    if mode == "production":
        raise JournalKeyError(
            f"MB_MODE=production needs a journal signing key: set {KEY_ENV} to 64 hex digits"
            " (for example from `openssl rand -hex 32`)."
        )
    if mode != "dev":
        raise ValueError(f"unknown mode {mode!r}: expected 'dev' or 'production'")
    path = data_dir / KEY_FILE_NAME
    if not create and not path.exists():
        raise JournalKeyError(
            f"The journal key was not found: {KEY_ENV} is not set and {path.resolve()} does not exist"
            " (nothing was written; restore the key or set the variable)."
        )
    return _dev_key(path)


def _dev_key(path: Path) -> bytes:
    """Read the dev key file, creating it atomically on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_bytes(_DEV_KEY_BYTES).hex() + "\n")
            # link() fails if another process won the race; then everyone reads its key.
            os.link(tmp, path)
            logger.warning("generated a development journal signing key in {}; set {} in production", path, KEY_ENV)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        logger.warning("journal key file {} is readable by other users; chmod 600 it", path)
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise JournalKeyError(
            f"The journal key file {path} is not valid hex; restore the original or set {KEY_ENV}."
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise JournalKeyError(
            f"The journal key file {path} holds fewer than {MIN_KEY_BYTES} bytes;"
            f" restore the original or set {KEY_ENV}."
        )
    return key
