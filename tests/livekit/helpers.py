"""Helpers of the LiveKit tests: a real server's address and keys, joining a real room.

The token backend's own helpers (settings, in-process backend) live in tests/serve/helpers.py.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from livekit import api, rtc

from tests.serve.helpers import AGENT_NAME, API_KEY, SIGNING_SECRET, TokenClient, make_settings, token_backend

__all__ = ["AGENT_NAME", "API_KEY", "SIGNING_SECRET", "ExpiringToken", "LiveKitServer", "TokenClient", "join",
           "make_settings", "publish", "server_tracks", "tamper_room", "token_backend", "validate_status"]

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


@dataclass(frozen=True)
class ExpiringToken:
    """A short-lived caller token and whether LiveKit accepted it when it was issued."""

    jwt: str
    issued_at: float
    ttl_seconds: int
    validate_status_when_issued: int


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
