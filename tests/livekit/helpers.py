"""Helpers of the LiveKit tests: settings, an in-process token backend, joining a real room."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp
from livekit import api, rtc

from worker.serve import create_app, running, sign_request
from worker.serve.models import TokenResponse
from worker.settings import Settings, load_settings

API_KEY = "test-token-api-key-0123456789abcdef"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
AGENT_NAME = "mediabloom"
CONNECT_TIMEOUT = 10.0
"""rtc.Room.connect() can hang ~32 s on a port that accepts but never answers (GUIDE)."""


@dataclass(frozen=True)
class LiveKitServer:
    """A running livekit-server on loopback, as the `livekit_server` fixture yields it."""

    url: str
    """ws://127.0.0.1:<port>, what clients connect to."""
    http_url: str
    """http://127.0.0.1:<port>, the RoomService / AgentDispatch API."""
    api_key: str
    api_secret: str
    log_path: Path

    def api(self) -> api.LiveKitAPI:
        """Admin client (the server's own key pair): for checking what the server saw."""
        return api.LiveKitAPI(self.http_url, self.api_key, self.api_secret)


def make_settings(livekit: LiveKitServer | None = None, **overrides: Any) -> Settings:
    """Settings for one token backend; without a LiveKit server the key pair is the dev pair."""
    values: dict[str, Any] = {
        "livekit_url": livekit.url if livekit else "ws://127.0.0.1:7880",
        "livekit_api_key": livekit.api_key if livekit else "devkey",
        "livekit_api_secret": livekit.api_secret if livekit else "secret",
        "token_api_key": API_KEY,
        "token_signing_secret": SIGNING_SECRET,
        "agent_name": AGENT_NAME,
        "token_ttl_seconds": 600,
        "token_rate_burst": 1000,
        "token_rate_per_minute": 60_000.0,
        "frontend_dir": Path("/nonexistent-frontend"),
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass(frozen=True)
class ExpiringToken:
    """A short-lived caller token and whether LiveKit accepted it when it was issued."""

    jwt: str
    issued_at: float
    ttl_seconds: int
    validate_status_when_issued: int


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]


@dataclass
class TokenClient:
    """Talks to one running token backend the way a deployment's backend would."""

    base_url: str
    session: aiohttp.ClientSession

    async def post(
        self,
        body: bytes | dict[str, Any] | None = None,
        *,
        auth: Literal["key", "signature", "none"] = "key",
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Reply:
        raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        hdrs = {"Content-Type": content_type}
        if auth == "key":
            hdrs["Authorization"] = f"Bearer {API_KEY}"
        elif auth == "signature":
            hdrs.update(sign_request(SIGNING_SECRET, raw))
        hdrs.update(headers or {})
        async with self.session.post(f"{self.base_url}/api/token", data=raw, headers=hdrs) as resp:
            text = await resp.text()
            return Reply(resp.status, json.loads(text) if text else {}, dict(resp.headers))

    async def token(self, **fields: Any) -> TokenResponse:
        """Request a token with the API key; the request must succeed."""
        reply = await self.post({k: v for k, v in fields.items() if v is not None})
        assert reply.status == 201, reply
        return TokenResponse.model_validate(reply.body)


@asynccontextmanager
async def token_backend(settings: Settings, frontend_dir: Path | None = None) -> AsyncIterator[TokenClient]:
    """Start the token backend on 127.0.0.1:<free port> in this event loop; stopped on exit."""
    app = create_app(settings, frontend_dir=frontend_dir)
    async with running(app, "127.0.0.1", 0) as base_url, aiohttp.ClientSession() as session:
        yield TokenClient(base_url, session)


async def join(url: str, token: str) -> rtc.Room:
    """Connect to LiveKit with a caller token (bounded wait); the caller disconnects it."""
    room = rtc.Room()
    try:
        await asyncio.wait_for(room.connect(url, token, rtc.RoomOptions(auto_subscribe=False)), CONNECT_TIMEOUT)
    except BaseException:
        await room.disconnect()
        raise
    return room


async def publish(room: rtc.Room, source: rtc.TrackSource.ValueType) -> rtc.LocalTrackPublication:
    """Publish a silent audio track (microphone, screen-share audio) or a blank video track."""
    if source in (rtc.TrackSource.SOURCE_MICROPHONE, rtc.TrackSource.SOURCE_SCREENSHARE_AUDIO):
        audio = rtc.AudioSource(48_000, 1)
        track: rtc.LocalAudioTrack | rtc.LocalVideoTrack = rtc.LocalAudioTrack.create_audio_track(f"a{source}", audio)
    else:
        track = rtc.LocalVideoTrack.create_video_track(f"v{source}", rtc.VideoSource(64, 64))
    return await room.local_participant.publish_track(track, rtc.TrackPublishOptions(source=source))


async def server_tracks(livekit: LiveKitServer, room: str, expected: int, timeout: float = 5.0) -> list[tuple[str, int]]:
    """(track sid, source) of every track LiveKit lists in `room`, once it lists `expected` of them.

    LiveKit acknowledges a publication before the media arrives and lists the track only then,
    so a check right after `publish_track` must wait a moment.
    """
    lk = livekit.api()
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            participants = (await lk.room.list_participants(api.ListParticipantsRequest(room=room))).participants
            tracks = [(t.sid, int(t.source)) for p in participants for t in p.tracks]
            if len(tracks) >= expected or asyncio.get_running_loop().time() > deadline:
                return tracks
            await asyncio.sleep(0.05)
    finally:
        await lk.aclose()


def tamper_room(jwt_token: str, room: str) -> str:
    """The same token with its room claim rewritten and the original signature kept."""
    import base64

    header, payload, signature = jwt_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["video"]["room"] = room
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def validate_status(livekit: LiveKitServer, token: str) -> int:
    """LiveKit's own token check (GET /rtc/validate), the same check a join runs first."""
    async with aiohttp.ClientSession() as session, session.get(
        f"{livekit.http_url}/rtc/validate", params={"access_token": token}
    ) as resp:
        return resp.status
