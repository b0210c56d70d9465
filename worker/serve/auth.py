"""Who may ask for a caller token: the deployment's backend, by API key or signed request.

A LiveKit token is a key to a room with a live agent in it (and the agent costs money per
minute), so the endpoint that mints them must not be an open door. Two ways in:

* `Authorization: Bearer <MB_TOKEN_API_KEY>` — simplest, for a backend calling over TLS.
* HMAC-signed request — `X-MB-Timestamp: <unix seconds>` and
  `X-MB-Signature: hex(hmac_sha256(MB_TOKEN_SIGNING_SECRET, "<timestamp>." + raw body))`.
  The secret never travels; a captured request is useless after five minutes (the timestamp
  window) and cannot be replayed inside it either (each signature is accepted once).

Comparisons are constant-time so response timing does not leak how much of a key matched.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr

SIGNATURE_MAX_AGE_SECONDS = 300
"""Signed requests older (or further in the future) than this are refused: bounds replay and clock skew."""

TIMESTAMP_HEADER = "X-MB-Timestamp"
SIGNATURE_HEADER = "X-MB-Signature"


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
    """A fingerprint of the credential (never the credential itself), for logs and rate limits."""


def sign_request(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers that authenticate `body` by signature; what a deployment's backend (and the tests) send."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: digest}


def credential_fingerprint(headers: Mapping[str, str]) -> str:
    """Names the credential a request presents, authenticated or not, without revealing it.

    Used before authentication to pick a rate-limit bucket: distinct keys get distinct buckets,
    all signed requests share one (their signature differs on every request by design).
    """
    authorization = headers.get("Authorization")
    if authorization:
        return "key:" + hashlib.sha256(authorization.encode()).hexdigest()[:16]
    if SIGNATURE_HEADER in headers:
        return "signature"
    return "none"


class Authenticator:
    """Checks one request against the configured API key and/or signing secret."""

    def __init__(
        self,
        api_key: SecretStr | None,
        signing_secret: SecretStr | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not api_key and not signing_secret:
            raise ValueError("an API key or a signing secret is required")
        self._api_key = api_key.get_secret_value().encode() if api_key else None
        self._secret = signing_secret.get_secret_value().encode() if signing_secret else None
        self._clock = clock
        self._seen: dict[str, float] = {}
        """Signatures accepted within the window, with their expiry: each one works once."""

    def authenticate(self, headers: Mapping[str, str], body: bytes) -> Caller:
        """Return who is calling, or raise AuthError with a reason the caller can act on."""
        authorization = headers.get("Authorization")
        if authorization is not None:
            return self._check_key(authorization)
        if SIGNATURE_HEADER in headers or TIMESTAMP_HEADER in headers:
            return self._check_signature(headers, body)
        raise AuthError("unauthorized", "Send 'Authorization: Bearer <key>' or a signed request (X-MB-Timestamp, X-MB-Signature).")

    def _check_key(self, authorization: str) -> Caller:
        scheme, _, presented = authorization.partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise AuthError("unauthorized", "The Authorization header must be 'Bearer <key>'.")
        if self._api_key is None or not hmac.compare_digest(presented.strip().encode(), self._api_key):
            raise AuthError("unauthorized", "The API key is not valid.")
        return Caller("api_key", credential_fingerprint({"Authorization": authorization}))

    def _check_signature(self, headers: Mapping[str, str], body: bytes) -> Caller:
        if self._secret is None:
            raise AuthError("unauthorized", "Signed requests are not enabled on this server; use the API key.")
        ts_text = headers.get(TIMESTAMP_HEADER, "")
        signature = headers.get(SIGNATURE_HEADER, "").strip().lower()
        if not ts_text.isdigit() or not signature:
            raise AuthError("bad_signature", f"Signed requests need {TIMESTAMP_HEADER} (unix seconds) and {SIGNATURE_HEADER}.")
        now = self._clock()
        if abs(now - int(ts_text)) > SIGNATURE_MAX_AGE_SECONDS:
            raise AuthError("stale_request", f"{TIMESTAMP_HEADER} is more than {SIGNATURE_MAX_AGE_SECONDS} s from the server's clock.")
        expected = hmac.new(self._secret, ts_text.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise AuthError("bad_signature", "The request signature does not match its timestamp and body.")
        self._forget_expired(now)
        if signature in self._seen:
            raise AuthError("replayed_request", "This signed request was already used; sign each request anew.")
        self._seen[signature] = int(ts_text) + SIGNATURE_MAX_AGE_SECONDS
        return Caller("signature", "signature")

    def _forget_expired(self, now: float) -> None:
        for sig in [s for s, until in self._seen.items() if until < now]:
            del self._seen[sig]
