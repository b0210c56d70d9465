"""Who may ask for a caller token: the deployment's backend, by API key or signed request.

A LiveKit token is a key to a room with a live agent in it (and the agent costs money per
minute), so the endpoint that mints them must not be an open door. Two ways in:

* `Authorization: Bearer <MB_TOKEN_API_KEY>` — simplest, for a backend calling over TLS.
  The scheme is case-insensitive (RFC 9110), so `bearer` and `BEARER` are the same key.
* HMAC-signed request — `X-MB-Timestamp: <unix seconds>` and
  `X-MB-Signature: hex(hmac_sha256(MB_TOKEN_SIGNING_SECRET, "<timestamp>." + raw body))`.
  The secret never travels; a captured request is useless after five minutes (the timestamp
  window) and cannot be replayed inside it either, restarts included (each signature is
  accepted once; `replay.py` keeps them on disk).

Header values are checked for shape (printable ASCII, a bounded number of ASCII digits, 64 hex
digits) before anything else touches them: a non-UTF-8 byte, a 5,000-digit or a non-ASCII-digit
timestamp is a 401 like any other bad credential, never an exception. Comparisons are
constant-time so response timing does not leak how much of a key matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

from worker.serve.replay import ReplayCache

SIGNATURE_MAX_AGE_SECONDS = 300
"""Signed requests older (or further in the future) than this are refused: bounds replay and clock skew."""

TIMESTAMP_HEADER = "X-MB-Timestamp"
SIGNATURE_HEADER = "X-MB-Signature"

_BEARER = re.compile(r"[ \t]*bearer[ \t]+([\x21-\x7e]+)[ \t]*", re.IGNORECASE | re.ASCII)
_TIMESTAMP = re.compile(r"[0-9]{1,12}", re.ASCII)
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)


class AuthError(Exception):
    """The request did not prove it comes from the deployment; `code` goes into the 401 body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Caller:
    """An authenticated requester: how it proved itself and which rate-limit bucket it spends."""

    method: Literal["api_key", "signature"]
    credential: str
    """Names the credential (never reveals it): the rate-limit bucket, the same however it was spelled."""


def sign_request(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers that authenticate `body` by signature; what a deployment's backend (and the tests) send."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: digest}


def _fingerprint(kind: str, secret: bytes) -> str:
    return f"{kind}:{hashlib.sha256(secret).hexdigest()[:12]}"


class Authenticator:
    """Checks one request against the configured API key and/or signing secret."""

    def __init__(
        self,
        api_key: SecretStr | None,
        signing_secret: SecretStr | None,
        replays: ReplayCache | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key and not signing_secret:
            raise ValueError("an API key or a signing secret is required")
        if signing_secret and replays is None:
            raise ValueError("signed requests need a replay cache")
        self._api_key = api_key.get_secret_value().encode() if api_key else None
        self._secret = signing_secret.get_secret_value().encode() if signing_secret else None
        self._replays = replays
        self._clock = clock

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> Caller:
        """Return who is calling, or raise AuthError with a reason the caller can act on."""
        authorization = headers.get("Authorization")
        if authorization is not None:
            return self._check_key(authorization)
        if SIGNATURE_HEADER in headers or TIMESTAMP_HEADER in headers:
            return self._check_signature(headers, body)
        raise AuthError("unauthorized", "Send 'Authorization: Bearer <key>' or a signed request (X-MB-Timestamp, X-MB-Signature).")

    def _check_key(self, authorization: str) -> Caller:
        match = _BEARER.fullmatch(authorization)
        if match is None:  # also every value with a byte outside printable ASCII (non-UTF-8 arrives as surrogates)
            raise AuthError("unauthorized", "The Authorization header must be 'Bearer <key>' in printable ASCII.")
        presented = match.group(1).encode("ascii")
        if self._api_key is None or not hmac.compare_digest(presented, self._api_key):
            raise AuthError("unauthorized", "The API key is not valid.")
        return Caller("api_key", _fingerprint("key", self._api_key))

    def _check_signature(self, headers: Mapping[str, str], body: bytes) -> Caller:
        if self._secret is None or self._replays is None:
            raise AuthError("unauthorized", "Signed requests are not enabled on this server; use the API key.")
        ts_text = headers.get(TIMESTAMP_HEADER, "").strip(" \t")
        signature = headers.get(SIGNATURE_HEADER, "").strip(" \t")
        if not _TIMESTAMP.fullmatch(ts_text) or not _SIGNATURE.fullmatch(signature):
            raise AuthError("bad_signature", f"Signed requests need {TIMESTAMP_HEADER} (unix seconds, ASCII digits) "
                                             f"and {SIGNATURE_HEADER} (64 hex digits).")
        now = self._clock()
        timestamp = int(ts_text)
        if abs(now - timestamp) > SIGNATURE_MAX_AGE_SECONDS:
            raise AuthError("stale_request", f"{TIMESTAMP_HEADER} is more than {SIGNATURE_MAX_AGE_SECONDS} s from the server's clock.")
        expected = hmac.new(self._secret, ts_text.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
        signature = signature.lower()
        if not hmac.compare_digest(signature.encode("ascii"), expected.encode("ascii")):
            raise AuthError("bad_signature", "The request signature does not match its timestamp and body.")
        if not self._replays.first_use(signature, timestamp + SIGNATURE_MAX_AGE_SECONDS, now):
            raise AuthError("replayed_request", "This signed request was already used; sign each request anew.")
        return Caller("signature", _fingerprint("signature", self._secret))
