"""An expired caller token cannot join (run last: see conftest `expiring_token` for why)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import jwt
import pytest
from livekit import api, rtc

from tests.livekit.helpers import ExpiringToken, LiveKitServer, join, validate_status

LIVEKIT_LEEWAY_SECONDS = 60
"""livekit/protocol auth/verifier.go: tokenLeeway = time.Minute."""

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


async def test_expired_token_cannot_join(livekit_server: LiveKitServer, expiring_token: ExpiringToken) -> None:
    token = expiring_token.jwt
    assert expiring_token.validate_status_when_issued == 200  # it was a good token when issued

    verifier = api.TokenVerifier(livekit_server.api_key, livekit_server.api_secret, leeway=timedelta(0))
    claims = verifier.verify(token, verify_signature=False)
    assert claims.identity == "late-caller" and claims.video is not None and claims.video.room == "expiry-room"
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["exp"] - raw["nbf"] == expiring_token.ttl_seconds

    # Past `exp` plus LiveKit's leeway (whole seconds in the JWT, so one more for rounding).
    deadline = raw["exp"] + LIVEKIT_LEEWAY_SECONDS + 1.5
    await asyncio.sleep(max(0.0, deadline - time.time()))

    with pytest.raises(jwt.ExpiredSignatureError):
        verifier.verify(token)
    assert await validate_status(livekit_server, token) == 401
    with pytest.raises(rtc.ConnectError, match="expired"):
        await join(livekit_server.url, token)
