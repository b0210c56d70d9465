"""The card vault cannot be turned back into card numbers from what the sandbox file holds.

The attack this guards against: card brands publish their first six digits, tokens used to be
an HMAC of the number, and the HMAC key sat in the same SQLite file, so with the last four
(stored, by design) about 10^5 guesses gave the whole number back in seconds. Here the attacker
has the file and tries every value it holds as the key, against every token and fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from tools.cards import luhn_ok
from tools.sandbox import Sandbox

#: A test card whose first six digits (its brand's range) the attacker knows.
CARD = "4539148803436467"


def _luhn_term(digit: int, doubled: bool) -> int:
    return (digit * 2 - 9 if digit > 4 else digit * 2) if doubled else digit


def candidates(bin6: str, four: str) -> Iterator[str]:
    """Every Luhn-valid 16-digit number with this prefix and these last four (about 10^5)."""
    # Positions from the right: the last four are 0..3, the unknown six 4..9, the prefix 10..15.
    fixed = sum(_luhn_term(int(c), i % 2 == 1) for i, c in enumerate(reversed(bin6 + "000000" + four)))
    for head in range(10**5):  # the first five unknown digits; the sixth (position 4) is forced
        middle5 = f"{head:05d}"
        partial = fixed + sum(_luhn_term(int(c), (9 - j) % 2 == 1) for j, c in enumerate(middle5))
        for last in range(10):
            if (partial + _luhn_term(last, False)) % 10 == 0:
                number = f"{bin6}{middle5}{last}{four}"
                assert luhn_ok(number)
                yield number
                break


def stored_values(db_path: Path) -> list[str]:
    """Every text value of the meta and vault tables: where a key would have to be."""
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT value FROM meta").fetchall()
        rows += conn.execute("SELECT card_token, card_last4, created_at, fingerprint FROM vault").fetchall()
    return sorted({str(v) for row in rows for v in row if v is not None})


def recover(db_path: Path, bin6: str) -> str | None:
    """The attack: each stored value as an HMAC key (raw and hex-decoded) against each token/fingerprint."""
    with sqlite3.connect(db_path) as conn:
        vaulted = conn.execute("SELECT card_token, card_last4, fingerprint FROM vault").fetchall()
    keys: list[bytes] = []
    for value in stored_values(db_path):
        keys.append(value.encode())
        try:
            keys.append(bytes.fromhex(value.removeprefix("tok_").removeprefix("fp_")))
        except ValueError:
            pass
    for token, four, fingerprint in vaulted:
        targets = {token.removeprefix("tok_"), (fingerprint or "").removeprefix("fp_")} - {""}
        for number in candidates(bin6, four):
            message = number.encode()
            for key in keys:
                mac = hmac.digest(key, message, "sha256").hex()
                if mac in targets or mac[:24] in targets:
                    return number
    return None


def test_the_attack_finds_a_number_when_the_key_sits_beside_it(tmp_path: Path) -> None:
    """Not vacuous: with the old layout (key in meta, token = HMAC prefix) it recovers the card."""
    db = tmp_path / "old.db"
    key = bytes(range(32))
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('card_token_key', ?)", (key.hex(),))
        conn.execute("CREATE TABLE vault (card_token TEXT, card_last4 TEXT, created_at TEXT, fingerprint TEXT)")
        token = "tok_" + hmac.new(key, CARD.encode(), hashlib.sha256).hexdigest()[:24]
        conn.execute("INSERT INTO vault VALUES (?, '6467', 'x', NULL)", (token,))
    assert recover(db, CARD[:6]) == CARD


def test_the_sandbox_file_holds_nothing_that_gives_a_card_back(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with Sandbox.open(db, date(2026, 11, 26)) as sb:
        token, four = sb.payments.tokenize(CARD)
        sb.payments.charge("POL-4821", 128_400, CARD)
    assert four == "6467" and CARD not in token
    assert recover(db, CARD[:6]) is None


def test_an_older_sandbox_loses_its_stored_key_on_open(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    with Sandbox.open(db, date(2026, 11, 26)):
        pass
    with sqlite3.connect(db) as conn:  # what an older version kept in the file
        conn.execute("INSERT INTO meta VALUES ('card_token_key', ?)", ("ab" * 32,))
    with Sandbox.open(db, date(2026, 11, 26)):
        pass
    assert ("ab" * 32).encode() not in db.read_bytes()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'card_token_key'").fetchone()[0] == 0
