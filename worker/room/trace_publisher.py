"""Publishes each finished turn's trace to the caller on the data channel, topic
`mediabloom.trace`: reliable JSON packets, or a text stream on the same topic when a record is
too large for one packet. Only the caller's participant receives it (traces can hold their
details), and a failed publish is logged, never fatal to the call. What goes out is scrubbed
here once more (`tools.redact`), whatever the collector already did: the data channel is a sink,
and every sink masks what reaches it.
"""

from __future__ import annotations

import asyncio
import json

from livekit import rtc
from loguru import logger

from tools.redact import scrubbed
from worker.trace.records import TurnTrace

TOPIC = "mediabloom.trace"
MAX_PACKET = 14_000  # LiveKit's reliable data packets should stay under ~15 KiB


class TracePublisher:
    def __init__(self, room: rtc.Room, caller_identity: str) -> None:
        self.room = room
        self.caller = caller_identity
        self.sent = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def publish(self, turn: TurnTrace) -> None:
        task = asyncio.get_event_loop().create_task(self._send(turn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, turn: TurnTrace) -> None:
        payload = json.dumps(scrubbed(turn), ensure_ascii=False, separators=(",", ":"))
        try:
            if len(payload.encode()) <= MAX_PACKET:
                await self.room.local_participant.publish_data(
                    payload, reliable=True, topic=TOPIC, destination_identities=[self.caller])
            else:
                writer = await self.room.local_participant.stream_text(
                    topic=TOPIC, destination_identities=[self.caller])
                await writer.write(payload)
                await writer.aclose()
            self.sent += 1
        except Exception as exc:  # noqa: BLE001 - the call goes on without its live trace
            logger.bind(call_id=turn.call_id, turn=turn.turn).warning("trace publish failed: {}", exc)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
