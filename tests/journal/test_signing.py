"""Signing keys: configured keys win, production refuses to start without one, dev keys persist.

Short keys are refused (a 3-byte key was brute-forced from the start-up log's fingerprint),
the fingerprint is no help to a guesser, and commands that only read never write a key.
"""

from __future__ import annotations

import hashlib
import stat
import threading
from pathlib import Path

import pytest
from loguru import logger

from tools.journal import JournalKeyError, Signer, load_signing_key
from tools.journal.signing import KEY_FILE_NAME, MIN_KEY_BYTES, parse_key


def test_production_without_key_refuses_with_one_sentence(tmp_path: Path) -> None:
    for configured in (None, "", "   "):
        with pytest.raises(JournalKeyError) as info:
            load_signing_key("production", tmp_path, configured)
        message = str(info.value)
        assert "MB_JOURNAL_KEY" in message and message.count(". ") == 0 and message.endswith(".")
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_configured_key_hex_or_text(tmp_path: Path) -> None:
    hex_key = "ab" * 32
    assert load_signing_key("production", tmp_path, hex_key) == bytes.fromhex(hex_key)
    phrase = "correct horse battery staple, twice over"
    assert load_signing_key("dev", tmp_path, phrase) == phrase.encode()
    assert parse_key("xyz") == b"xyz"
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_dev_key_created_once_private_and_reused(tmp_path: Path) -> None:
    warnings: list[str] = []
    sink = logger.add(lambda message: warnings.append(str(message)), level="WARNING")
    try:
        first = load_signing_key("dev", tmp_path / "data", None)
        path = tmp_path / "data" / KEY_FILE_NAME
        assert len(first) == 32
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(warnings) == 1 and "MB_JOURNAL_KEY" in warnings[0]
        again = load_signing_key("dev", tmp_path / "data", None)
        assert again == first
        assert len(warnings) == 1  # generated once, warned once
    finally:
        logger.remove(sink)


def test_dev_key_racing_starters_agree(tmp_path: Path) -> None:
    keys: list[bytes] = []

    def start() -> None:
        keys.append(load_signing_key("dev", tmp_path, None))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys) == 8
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]


def test_corrupt_dev_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text("not hex at all")
    (tmp_path / KEY_FILE_NAME).chmod(0o600)
    with pytest.raises(JournalKeyError, match=r"journal\.key"):
        load_signing_key("dev", tmp_path, None)


def test_signer_never_shows_its_key() -> None:
    signer = Signer(b"super-secret-key-material-000000")
    assert "super" not in repr(signer) and signer.fingerprint in repr(signer)
    with pytest.raises(JournalKeyError):
        Signer(b"")


@pytest.mark.parametrize("mode", ["production", "dev"])
@pytest.mark.parametrize("configured", ["abcdef", "ab" * (MIN_KEY_BYTES - 1), "x" * (MIN_KEY_BYTES - 1)])
def test_a_short_configured_key_is_refused_in_every_mode(tmp_path: Path, mode: str, configured: str) -> None:
    with pytest.raises(JournalKeyError) as info:
        load_signing_key(mode, tmp_path, configured)  # type: ignore[arg-type]
    message = str(info.value)
    assert "MB_JOURNAL_KEY" in message and f"at least {MIN_KEY_BYTES}" in message
    assert configured not in message  # the error never echoes the key


def test_a_short_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text("abcdef\n")
    (tmp_path / KEY_FILE_NAME).chmod(0o600)
    with pytest.raises(JournalKeyError, match="fewer than"):
        load_signing_key("dev", tmp_path, None)


def test_the_fingerprint_is_not_a_hash_of_the_key() -> None:
    """A digest of the key lets anyone with a log line test guesses offline; the fingerprint
    is an HMAC of a fixed label instead, so computing it takes the key itself."""
    key = bytes.fromhex("abcdef")
    signer = Signer(key)
    digests = {h(key).hexdigest() for h in (hashlib.sha256, hashlib.sha1, hashlib.md5, hashlib.sha512,
                                            hashlib.blake2b)}
    assert not any(d.startswith(signer.fingerprint[:8]) for d in digests)
    assert Signer(key).fingerprint == signer.fingerprint != Signer(b"\x00" + key).fingerprint


def test_without_create_a_missing_dev_key_is_not_found_and_not_written(tmp_path: Path) -> None:
    with pytest.raises(JournalKeyError) as info:
        load_signing_key("dev", tmp_path / "data", None, create=False)
    assert "not found" in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "data").exists()
    made = load_signing_key("dev", tmp_path, None)
    assert load_signing_key("dev", tmp_path, None, create=False) == made
