"""A hidden observer in a phone call's room: everything anyone in the room could receive.

LiveKit SIP creates the room when the call arrives (`call-<random>`), so the monitor polls the
server's room list and joins the first new room whose name has the prefix, hidden and without
subscribing to audio. It keeps every data packet, text stream and byte stream sent to the whole
room (what the agent broadcasts: transcriptions, livekit-agents' session events), as text, so a
test can look for what must never be broadcast. Messages addressed to one participant only
(the caller's trace topic) do not reach it; tests check those through their publisher.
It runs in its own thread and event loop, beside the blocking SIP caller.
"""

from __future__ import annotations

import asyncio
import threading
import time

from livekit import api, rtc

from tests.livekit.helpers import LiveKitServer


class RoomMonitor:
    def __init__(self, server: LiveKitServer, prefix: str, known: set[str] | None = None) -> None:
        self.server = server
        self.prefix = prefix
        self.known = set(known or ())
        self.room_name: str | None = None
        self.received: list[tuple[str, str]] = []
        """(topic, text) for every packet and stream received."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="room-monitor", daemon=True)

    @staticmethod
    async def rooms(server: LiveKitServer) -> set[str]:
        lk = api.LiveKitAPI(server.http_url, server.api_key, server.api_secret)
        try:
            return {r.name for r in (await lk.room.list_rooms(api.ListRoomsRequest())).rooms}
        finally:
            await lk.aclose()

    def start(self) -> "RoomMonitor":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _keep(self, topic: str, data: bytes) -> None:
        self.received.append((topic, data.decode("utf-8", "replace")))

    async def _run(self) -> None:
        while not self._stop.is_set() and self.room_name is None:
            fresh = sorted(n for n in await self.rooms(self.server) if n.startswith(self.prefix) and n not in self.known)
            self.room_name = fresh[0] if fresh else None
            if self.room_name is None:
                await asyncio.sleep(0.2)
        if self.room_name is None:
            return
        token = (api.AccessToken(self.server.api_key, self.server.api_secret).with_identity("monitor")
                 .with_grants(api.VideoGrants(room_join=True, room=self.room_name, hidden=True, can_publish=False,
                                              can_publish_data=False)).to_jwt())
        room = rtc.Room()
        tasks: list[asyncio.Task[None]] = []

        def on_text(reader: rtc.TextStreamReader, who: str) -> None:
            async def read() -> None:
                self._keep(reader.info.topic, (await reader.read_all()).encode())
            tasks.append(asyncio.get_running_loop().create_task(read()))

        def on_bytes(reader: rtc.ByteStreamReader, who: str) -> None:
            async def read() -> None:
                self._keep(reader.info.topic, b"".join([chunk async for chunk in reader]))
            tasks.append(asyncio.get_running_loop().create_task(read()))

        room.on("data_received", lambda packet: self._keep(packet.topic or "", packet.data))
        for topic in ("lk.transcription", "lk.chat", "mediabloom.trace"):
            room.register_text_stream_handler(topic, on_text)
        room.register_byte_stream_handler("lk.agent.session", on_bytes)  # livekit-agents' session events
        await asyncio.wait_for(room.connect(self.server.url, token, rtc.RoomOptions(auto_subscribe=False)), 15)
        while not self._stop.is_set() and room.isconnected():
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
        for task in tasks:
            if not task.done():
                await asyncio.wait([task], timeout=2)
        await room.disconnect()


def wait_for_room(monitor: RoomMonitor, timeout: float = 30.0) -> str | None:
    deadline = time.monotonic() + timeout
    while monitor.room_name is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return monitor.room_name
