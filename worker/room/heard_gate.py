"""The agent's audio waits, at the top of the room's output chain, until the caller can hear it.

Why: livekit-agents 1.8.9's room audio output (`_ParticipantAudioOutput.capture_frame`) begins
with `await self._subscribed_fut`, unshielded. A frame that waits there before the caller has
subscribed to the agent's track, in a reply that is then interrupted (a typed message, a
barge-in), has its wait cancelled, and cancelling a bare `await fut` cancels the future itself:
from then on every `capture_frame` raises `CancelledError` at once, every later reply is dropped
and the session waits forever for a playout (the agent stuck "thinking").

`HeardGate` is a plain `io.AudioOutput` in front of that output (livekit's own chaining seam,
`next_in_chain`). It waits for the same future (`RoomIO.subscribed_fut`) through
`asyncio.shield`, so a cancelled wait cancels only the waiter, never the shared future, and it
hands a frame on only once the future is done: the library's own `await` then returns at once
and no cancellation can reach it. The gate counts a segment only after its wait, so a reply
cancelled at the gate leaves nothing to play out: `wait_for_playout` returns, as it does for a
reply cancelled in livekit's own wait.

It must be the outermost output (`hold_until_heard` is called after every other wrapper is set):
a wrapper above it that counts a segment before handing its first frame on (the worker's
`PublishedAudioTap`, livekit's `_AudioSinkProxy`) would wait for a playout that a capture
cancelled at the gate never starts.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.voice import io
from loguru import logger

__all__ = ["HeardGate", "hold_until_heard"]


class _Link(Protocol):
    """What the gate needs of livekit's `RoomIO`: the future set once the caller subscribes."""

    @property
    def subscribed_fut(self) -> asyncio.Future[None] | None: ...


class HeardGate(io.AudioOutput):
    """Passes the agent's audio on unchanged once `heard` is done; waits for it shielded."""

    def __init__(self, next_in_chain: io.AudioOutput, heard: asyncio.Future[None]) -> None:
        super().__init__(label="HeardGate", capabilities=io.AudioOutputCapabilities(pause=True),
                         next_in_chain=next_in_chain, sample_rate=next_in_chain.sample_rate)
        self.heard = heard

    @property
    def _next(self) -> io.AudioOutput:
        assert self.next_in_chain is not None
        return self.next_in_chain

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        if not self.heard.done():
            # cancelling this await cancels the shield's outer future, not `heard`
            await asyncio.shield(self.heard)
        await super().capture_frame(frame)
        await self._next.capture_frame(frame)

    def flush(self) -> None:
        super().flush()
        self._next.flush()

    def clear_buffer(self) -> None:
        self._next.clear_buffer()


def hold_until_heard(session: AgentSession, link: _Link) -> HeardGate | None:
    """Put a `HeardGate` on top of `session`'s audio output, waiting for `link.subscribed_fut`.

    Call it once the room's output and every other wrapper are set on the session, before the
    session starts (see the module doc for why it must be outermost). Returns the gate, or None
    when there is nothing to guard: no audio output, or no subscription to wait for. A future
    already cancelled (livekit's own output waited on it before the gate existed) is logged: the
    room's audio is lost for this call and no gate can bring it back.
    """
    heard = link.subscribed_fut
    output = session.output.audio
    if heard is None or output is None:
        return None
    if heard.cancelled():
        logger.error("the room's audio output lost its subscription wait before the gate was set: "
                     "the agent's audio cannot reach this caller")
    gate = HeardGate(output, heard)
    session.output.audio = gate
    return gate
