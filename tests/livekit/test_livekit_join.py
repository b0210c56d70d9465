"""Caller tokens against a real livekit-server: what LiveKit lets the holder do, and refuses.

The `expiring_token` fixture is used here only to start the expiry test's clock early (see
conftest); these tests don't look at it.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from livekit import api, rtc
from livekit.protocol.models import TrackSource

from tests.livekit.helpers import (
    AGENT_NAME,
    LiveKitServer,
    join,
    make_settings,
    publish,
    server_tracks,
    tamper_room,
    token_backend,
)

pytestmark = [
    pytest.mark.usefixtures("expiring_token"),
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),  # livekit.yaml's dev secret
]


async def test_caller_joins_its_room_publishes_microphone_and_agent_is_dispatched(livekit_server: LiveKitServer) -> None:
    async with token_backend(make_settings(livekit_server)) as client:
        issued = await client.token(room_name="lobby-1", participant_identity="dana", participant_name="Dana")
    assert issued.server_url == livekit_server.url

    room = await join(issued.server_url, issued.participant_token)
    lk = livekit_server.api()
    try:
        assert room.name == "lobby-1"
        assert room.local_participant.identity == "dana"
        publication = await asyncio.wait_for(publish(room, rtc.TrackSource.SOURCE_MICROPHONE), 10)
        assert publication.sid

        # What the server recorded: the participant, its one microphone track, caller-only permissions.
        assert await server_tracks(livekit_server, "lobby-1", expected=1) == [(publication.sid, TrackSource.MICROPHONE)]
        participants = (await lk.room.list_participants(api.ListParticipantsRequest(room="lobby-1"))).participants
        assert [p.identity for p in participants] == ["dana"]
        caller = participants[0]
        perm = caller.permission
        assert list(perm.can_publish_sources) == [TrackSource.MICROPHONE]
        assert perm.can_subscribe and perm.can_publish_data
        assert not (perm.hidden or perm.recorder or perm.agent or perm.can_update_metadata)

        # The token's room configuration made LiveKit dispatch our agent into this room.
        dispatches = await lk.agent_dispatch.list_dispatch("lobby-1")
        assert [d.agent_name for d in dispatches] == [AGENT_NAME]
    finally:
        await room.disconnect()
        await lk.aclose()


async def test_camera_and_screen_share_are_refused(livekit_server: LiveKitServer) -> None:
    async with token_backend(make_settings(livekit_server)) as client:
        issued = await client.token(room_name="lobby-2")
    room = await join(issued.server_url, issued.participant_token)
    try:
        mic = await asyncio.wait_for(publish(room, rtc.TrackSource.SOURCE_MICROPHONE), 10)
        refused = (rtc.TrackSource.SOURCE_CAMERA, rtc.TrackSource.SOURCE_SCREENSHARE,
                   rtc.TrackSource.SOURCE_SCREENSHARE_AUDIO)
        # LiveKit drops an unpermitted publish without answering; the SDK gives up after its 10 s
        # publication timeout. All three run at once so the test waits that long only once.
        results = await asyncio.wait_for(
            asyncio.gather(*(publish(room, source) for source in refused), return_exceptions=True), 20)
        assert all(isinstance(r, Exception) for r in results), results
        assert all("publication" in str(r) or "permission" in str(r) for r in results), results

        assert await server_tracks(livekit_server, "lobby-2", expected=2, timeout=1.0) == [(mic.sid, TrackSource.MICROPHONE)]
    finally:
        await room.disconnect()


async def test_token_is_bound_to_its_room(livekit_server: LiveKitServer) -> None:
    async with token_backend(make_settings(livekit_server)) as client:
        issued = await client.token(room_name="lobby-3", participant_identity="erin")

    # The room is inside the signed token: pointing it at another room breaks the signature.
    with pytest.raises(rtc.ConnectError, match="401|signature"):
        await join(issued.server_url, tamper_room(issued.participant_token, "someone-elses-room"))

    # Nor does the caller token open LiveKit's server API (Twirp), for another room or its own.
    async with aiohttp.ClientSession() as session:
        for room_name in ("someone-elses-room", "lobby-3"):
            async with session.post(f"{livekit_server.http_url}/twirp/livekit.RoomService/ListParticipants",
                                    json={"room": room_name},
                                    headers={"Authorization": f"Bearer {issued.participant_token}"}) as resp:
                assert resp.status == 401, await resp.text()

    # Unaltered, it joins exactly its own room.
    room = await join(issued.server_url, issued.participant_token)
    try:
        assert room.name == "lobby-3"
    finally:
        await room.disconnect()
