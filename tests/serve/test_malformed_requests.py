"""Malformed headers and bodies: a 4xx JSON error each, counted as a failure, no traceback logged.

Header values here are sent byte for byte over a raw socket (no client library would send a
non-UTF-8 byte), which is what an attacker does. Issue 11, items 3 and 7.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests.serve.helpers import API_KEY, SIGNING_SECRET, captured_logs, make_settings, token_backend, token_request_head
from worker.serve.tokens import TokenMinter

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

BODY = b'{"room_name": "r"}'
JSON = {"Content-Type": b"application/json"}


def _expected_signature(timestamp: bytes, body: bytes) -> str:
    return hmac.new(SIGNING_SECRET.encode(), timestamp + b"." + body, hashlib.sha256).hexdigest()


def _malformed_auth_headers() -> list[object]:
    now = str(int(time.time())).encode()
    good_sig = _expected_signature(now, BODY).encode()
    return [
        pytest.param({"X-MB-Timestamp": now, "X-MB-Signature": good_sig[:10] + b"\xff" + good_sig[11:]},
                     id="signature-non-utf8"),
        pytest.param({"X-MB-Timestamp": now, "X-MB-Signature": good_sig[:10] + "é".encode() + good_sig[11:]},
                     id="signature-non-ascii"),
        pytest.param({"X-MB-Timestamp": now + b"\xff", "X-MB-Signature": good_sig}, id="timestamp-non-utf8"),
        pytest.param({"X-MB-Timestamp": b"1" * 5000, "X-MB-Signature": good_sig}, id="timestamp-5000-digits"),
        pytest.param({"X-MB-Timestamp": "²³".encode(), "X-MB-Signature": good_sig}, id="timestamp-superscript-digits"),
        pytest.param({"X-MB-Timestamp": "١٧٠٠٠٠٠٠٠٠".encode(), "X-MB-Signature": good_sig},
                     id="timestamp-arabic-digits"),
        pytest.param({"X-MB-Timestamp": b"-" + now, "X-MB-Signature": good_sig}, id="timestamp-negative"),
        pytest.param({"Authorization": b"Bearer \xff\xfe"}, id="authorization-non-utf8"),
        pytest.param({"Authorization": b"Bearer " + API_KEY.encode() + b"\xff"}, id="authorization-key-plus-byte"),
        pytest.param({"Authorization": "Bearer ключ".encode()}, id="authorization-non-ascii"),
        pytest.param({"Authorization": b"\xff " + API_KEY.encode()}, id="authorization-scheme-non-utf8"),
        pytest.param({"Authorization": b"Bearer " + b"k" * 7000}, id="authorization-huge"),
    ]


@pytest.mark.parametrize("headers", _malformed_auth_headers())
async def test_every_malformed_auth_header_is_a_401_and_logs_no_traceback(headers: dict[str, bytes]) -> None:
    with captured_logs() as logs:
        async with token_backend(make_settings()) as client:
            reply = await client.raw(token_request_head({**JSON, **headers}, BODY), BODY)
    assert reply.status == 401, reply
    assert reply.json()["error"]["code"] in ("unauthorized", "bad_signature")
    text = "\n".join(logs)
    assert "Traceback" not in text and "ERROR" not in text, text
    timestamp = headers.get("X-MB-Timestamp", b"0")
    assert _expected_signature(timestamp, BODY) not in text  # the signature that would have worked
    assert API_KEY not in text and SIGNING_SECRET not in text


async def test_a_malformed_signature_never_reveals_the_valid_one() -> None:
    """Item 3 exactly: the 500's traceback printed the expected signature; resending it got 201."""
    now = str(int(time.time())).encode()
    expected = _expected_signature(now, BODY)
    with captured_logs() as logs:
        async with token_backend(make_settings()) as client:
            reply = await client.raw(token_request_head({**JSON, "X-MB-Timestamp": now, "X-MB-Signature": b"\xff"}, BODY),
                                     BODY)
    assert reply.status == 401 and reply.json()["error"]["code"] == "bad_signature"
    assert not any(expected in line for line in logs)
    assert expected.encode() not in reply.body


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 8000, id="8000-open-arrays"),
        pytest.param(b"[" * 8000 + b"]" * 8000, id="8000-nested-arrays"),
        pytest.param(b'{"a":' * 2000 + b"1" + b"}" * 2000, id="2000-nested-objects"),
        pytest.param(b'{"room_config": {"agents": [' + b"[" * 5000 + b"]" * 5000 + b"]}}", id="deep-inside-a-field"),
        pytest.param(b'{"room_name": "' + b"\\ud800" + b'"}', id="lone-surrogate-escape"),
        pytest.param(b'{"room_name": 1' + b"0" * 5000 + b"}", id="5000-digit-number"),
    ],
)
async def test_hostile_json_with_a_valid_key_is_a_400(body: bytes) -> None:
    with captured_logs() as logs:
        async with token_backend(make_settings()) as client:
            reply = await client.post(body)
    assert reply.status == 400, reply
    assert reply.body["error"]["code"] in ("invalid_json", "invalid_request")
    assert "Traceback" not in "\n".join(logs) and "ERROR" not in "\n".join(logs)


async def test_malformed_requests_are_counted_by_the_failure_limiter() -> None:
    """Non-UTF-8 Authorization used to be never rate limited; deep JSON was a 500, not a failure."""
    settings = make_settings(token_rate_burst=3, token_rate_per_minute=6)
    async with token_backend(settings) as client:
        bad_auth = [(await client.raw(token_request_head({**JSON, "Authorization": b"Bearer \xff"}, BODY), BODY)).status
                    for _ in range(4)]
    assert bad_auth == [401, 401, 401, 429]
    async with token_backend(settings) as client:
        deep = [(await client.post(b"[" * 8000)).status for _ in range(4)]
        still_served = await client.post({"room_name": "fine"})
    assert deep == [400, 400, 400, 429]
    assert still_served.status == 201  # failures limit failures; a valid request still gets its token


async def test_an_unexpected_error_is_a_500_json_logged_without_traceback_or_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last resort: whatever breaks, the log names the error and where, never variable values."""

    def boom(self: TokenMinter, request: object) -> None:
        local_secret = "local-value-" + "s3cr3t"
        raise RuntimeError("broken " + str(len(local_secret)))

    monkeypatch.setattr(TokenMinter, "mint", boom)
    with captured_logs() as logs:
        async with token_backend(make_settings()) as client:
            reply = await client.post({})
    assert reply.status == 500 and reply.body["error"]["code"] == "internal"
    text = "\n".join(logs)
    assert "RuntimeError" in text and "in boom" in text and "in issue_token" in text  # what, and where
    assert "Traceback" not in text and "local-value-s3cr3t" not in text and API_KEY not in text
    assert json.dumps(reply.body).count("RuntimeError") == 0  # the caller learns nothing
