"""POST /api/token as an HTTP API: who may call it, what it accepts, what the token grants.

These run the backend in-process on a real 127.0.0.1 port and need no LiveKit server; what
LiveKit does with the tokens is in tests/livekit/test_livekit_join.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from livekit import api

from tests.serve.helpers import AGENT_NAME, API_KEY, SIGNING_SECRET, make_settings, token_backend
from worker.serve import create_app, sign_request
from worker.settings import ConfigError

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

ADMIN_GRANTS = ("room_admin", "room_create", "room_list", "room_record", "hidden", "recorder", "agent",
                "ingress_admin", "can_update_own_metadata", "can_manage_agent_session", "can_subscribe_metrics")


def decode(token: str) -> api.access_token.Claims:
    return api.TokenVerifier("devkey", "secret", leeway=timedelta(0)).verify(token)


async def test_healthz_and_standard_response_shape() -> None:
    async with token_backend(make_settings()) as client:
        async with client.session.get(f"{client.base_url}/healthz") as resp:
            assert resp.status == 200 and await resp.json() == {"status": "ok"}
        reply = await client.post({"room_name": "r-1", "participant_identity": "pat", "participant_name": "Pat",
                                   "participant_metadata": '{"plan":"gold"}', "participant_attributes": {"tier": "gold"},
                                   "room_config": {"agents": [{"agent_name": AGENT_NAME}]}})
    assert reply.status == 201, reply
    assert set(reply.body) == {"server_url", "participant_token"}
    assert reply.body["server_url"] == "ws://127.0.0.1:7880"
    assert reply.headers["Cache-Control"] == "no-store"
    claims = decode(reply.body["participant_token"])
    assert (claims.identity, claims.name, claims.metadata, claims.attributes) == ("pat", "Pat", '{"plan":"gold"}', {"tier": "gold"})


async def test_token_grants_only_what_a_caller_needs() -> None:
    async with token_backend(make_settings()) as client:
        issued = await client.token()  # no fields at all: room and identity are generated
    token = issued.participant_token
    claims = decode(token)
    video = claims.video
    assert video is not None
    assert video.room_join is True and video.room.startswith("call-") and claims.identity.startswith("caller-")
    assert video.can_publish_sources == ["microphone"]
    assert video.can_subscribe is True and video.can_publish_data is True
    assert not any(getattr(video, grant) for grant in ADMIN_GRANTS), video
    raw = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))
    assert set(raw) <= {"sub", "iss", "nbf", "exp", "name", "kind", "video", "roomConfig"}, raw  # no sip/agent/... grants
    assert raw["kind"] == "standard"
    assert raw["exp"] - raw["nbf"] == 600
    assert abs(raw["exp"] - (time.time() + 600)) < 5
    # The agent is dispatched by the token, for this room only.
    assert claims.room_config is not None
    assert [(a.agent_name, a.metadata) for a in claims.room_config.agents] == [(AGENT_NAME, "")]


async def test_generated_names_are_unique_and_ttl_follows_settings() -> None:
    async with token_backend(make_settings(token_ttl_seconds=90)) as client:
        first, second = [decode((await client.token()).participant_token) for _ in range(2)]
    assert first.video and second.video and first.video.room != second.video.room
    assert first.identity != second.identity


async def test_signed_request_is_accepted_once() -> None:
    body = json.dumps({"room_name": "signed-room"}).encode()
    headers = sign_request(SIGNING_SECRET, body)
    async with token_backend(make_settings()) as client:
        ok = await client.post(body, auth="none", headers=headers)
        replay = await client.post(body, auth="none", headers=headers)
    assert ok.status == 201, ok
    assert decode(ok.body["participant_token"]).video.room == "signed-room"  # type: ignore[union-attr]
    assert replay.status == 401 and replay.body["error"]["code"] == "replayed_request"


BODY = json.dumps({"room_name": "x"}).encode()
Headers = Callable[[], dict[str, str]]
"""Built when the test runs, not at collection, so timestamps are relative to the request."""


def _bad_auth_cases() -> list[Any]:
    def signed(secret: str = SIGNING_SECRET, body: bytes = BODY, offset: int = 0) -> Headers:
        return lambda: sign_request(secret, body, int(time.time()) + offset)

    return [
        pytest.param(dict, "unauthorized", id="no-credentials"),
        pytest.param(lambda: {"Authorization": "Bearer wrong-key"}, "unauthorized", id="wrong-key"),
        pytest.param(lambda: {"Authorization": f"Basic {API_KEY}"}, "unauthorized", id="wrong-scheme"),
        pytest.param(lambda: {"Authorization": "Bearer "}, "unauthorized", id="empty-key"),
        pytest.param(signed(secret="not-the-secret"), "bad_signature", id="wrong-secret"),
        pytest.param(lambda: {**sign_request(SIGNING_SECRET, BODY), "X-MB-Signature": "0" * 64}, "bad_signature",
                     id="bad-signature"),
        pytest.param(signed(body=b'{"room_name": "y"}'), "bad_signature", id="signature-of-other-body"),
        pytest.param(signed(offset=-301), "stale_request", id="stale-timestamp"),
        pytest.param(signed(offset=+301), "stale_request", id="future-timestamp"),
        pytest.param(lambda: {"X-MB-Timestamp": "soon", "X-MB-Signature": "ab"}, "bad_signature", id="garbage-timestamp"),
    ]


@pytest.mark.parametrize(("headers", "code"), _bad_auth_cases())
async def test_unauthenticated_requests_get_401(headers: Headers, code: str) -> None:
    async with token_backend(make_settings()) as client:
        reply = await client.post(BODY, auth="none", headers=headers())
    assert reply.status == 401, reply
    assert reply.body["error"]["code"] == code and reply.body["error"]["message"]
    assert reply.headers.get("WWW-Authenticate", "").startswith("Bearer")
    assert API_KEY not in json.dumps(reply.body) and SIGNING_SECRET not in json.dumps(reply.body)


async def test_signatures_are_refused_when_only_a_key_is_configured() -> None:
    body = b"{}"
    async with token_backend(make_settings(token_signing_secret=None)) as client:
        reply = await client.post(body, auth="none", headers=sign_request(SIGNING_SECRET, body))
        assert (await client.post(body)).status == 201
    assert reply.status == 401


@pytest.mark.parametrize("identity", ["agent-x", "AGENT-7f3a", AGENT_NAME, AGENT_NAME.upper()])
async def test_agent_identities_are_reserved(identity: str) -> None:
    async with token_backend(make_settings()) as client:
        reply = await client.post({"participant_identity": identity})
    assert reply.status == 403, reply
    assert reply.body["error"]["code"] == "reserved_identity"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param(b'{"room_name": ', 400, "invalid_json", id="truncated-json"),
        pytest.param(b"\xff\xfe", 400, "invalid_json", id="not-utf8"),
        pytest.param(b'["room"]', 400, "invalid_request", id="array-body"),
        pytest.param(b'"room"', 400, "invalid_request", id="string-body"),
        pytest.param({"room_name": 42}, 400, "invalid_request", id="wrong-type"),
        pytest.param({"participant_name": ["a"]}, 400, "invalid_request", id="wrong-type-list"),
        pytest.param({"room": "x"}, 400, "invalid_request", id="unknown-field"),
        pytest.param({"room_name": "../etc"}, 400, "invalid_request", id="bad-room-name"),
        pytest.param({"room_name": "r" * 65}, 400, "invalid_request", id="room-name-too-long"),
        pytest.param({"participant_identity": "a b"}, 400, "invalid_request", id="bad-identity"),
        pytest.param({"participant_attributes": {"lk.agent.state": "x"}}, 400, "invalid_request", id="reserved-attribute"),
        pytest.param({"room_config": {"agents": [{"agent_name": "other-agent"}]}}, 403, "agent_not_allowed", id="other-agent"),
        pytest.param({"room_config": {"empty_timeout": 5}}, 400, "invalid_request", id="room-config-field"),
        pytest.param({"room_config": {"agents": [{}, {}]}}, 400, "invalid_request", id="two-agents"),
    ],
)
async def test_malformed_requests_get_4xx_json(body: bytes | dict[str, Any], status: int, code: str) -> None:
    async with token_backend(make_settings()) as client:
        reply = await client.post(body)
    assert reply.status == status, reply
    assert reply.body["error"]["code"] == code and reply.body["error"]["message"]


async def test_wrong_content_type_and_oversized_body() -> None:
    async with token_backend(make_settings()) as client:
        form = await client.post(b"room_name=x", content_type="application/x-www-form-urlencoded")
        huge = await client.post(json.dumps({"participant_metadata": "x" * 20_000}).encode())
        async with client.session.get(f"{client.base_url}/api/token") as resp:
            wrong_method = (resp.status, await resp.json())
    assert form.status == 415 and form.body["error"]["code"] == "unsupported_media_type"
    assert huge.status == 413 and huge.body["error"]["code"] == "body_too_large"
    assert wrong_method[0] == 405 and wrong_method[1]["error"]["code"] == "method_not_allowed"


async def test_rate_limit_answers_429_with_retry_after() -> None:
    async with token_backend(make_settings(token_rate_burst=3, token_rate_per_minute=6)) as client:
        statuses = [(await client.post({})).status for _ in range(3)]
        limited = await client.post({})
    assert statuses == [201, 201, 201]
    assert limited.status == 429 and limited.body["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10


async def test_key_guessing_is_rate_limited_per_client() -> None:
    async with token_backend(make_settings(token_rate_burst=3, token_rate_per_minute=6)) as client:
        guesses = [(await client.post({}, auth="none", headers={"Authorization": f"Bearer guess-{i}"})).status
                   for i in range(3)]
        locked = await client.post({}, auth="none", headers={"Authorization": "Bearer guess-4"})
        the_right_key = await client.post({})
    assert guesses == [401, 401, 401]
    assert locked.status == 429 and "Retry-After" in locked.headers
    # Issue 11 item 8: failures spend the address's failure bucket only; the real backend
    # (behind a proxy, the same address as the guesser) keeps getting tokens.
    assert the_right_key.status == 201


async def test_frontend_is_served_only_when_it_has_an_index(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>widget</title>")
    (tmp_path / "app.js").write_text("console.log('hi')")
    async with token_backend(make_settings(), frontend_dir=tmp_path) as client:
        async with client.session.get(f"{client.base_url}/") as resp:
            assert resp.status == 200 and "widget" in await resp.text()
        async with client.session.get(f"{client.base_url}/app.js") as resp:
            assert resp.status == 200
        async with client.session.get(f"{client.base_url}/missing.js") as resp:
            assert resp.status == 404
        assert (await client.post({})).status == 201  # the API still wins over the static route
    async with token_backend(make_settings(), frontend_dir=tmp_path / "empty") as client, client.session.get(
        f"{client.base_url}/"
    ) as resp:
        assert resp.status == 404


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"livekit_api_key": None}, "LIVEKIT_API_KEY"),
        ({"livekit_api_secret": None}, "LIVEKIT_API_SECRET"),
        ({"token_api_key": None, "token_signing_secret": None}, "MB_TOKEN_API_KEY"),
    ],
)
def test_missing_configuration_is_one_clear_error(overrides: dict[str, Any], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        create_app(make_settings(**overrides))
