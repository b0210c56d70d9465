"""The call's audio and text in the room, linked before the session starts.

Why not `AgentSession.start(room=...)`: there livekit-agents builds its `RoomIO` inside `start`,
and the agent's first words (the greeting, ready at once from the clause cache) reach the room's
audio output before the caller has subscribed to the agent's track. livekit-agents 1.8.9's
`_ParticipantAudioOutput.capture_frame` waits on its `subscribed` future unshielded, so an
interruption in that instant (a message typed the moment the call opens) cancels the future
itself: every later frame is then dropped and the session waits forever for a playout that never
comes (the agent stuck "thinking"). Opening the `RoomIO` ourselves lets the call wait, bounded,
until the caller hears the agent before the session says anything.

The bug itself is closed by `worker.room.heard_gate` (the session's audio waits for the same
future shielded, on top of the output chain), so it cannot come back when this wait gives up (a
caller who never subscribes). The wait stays for what else it does: a caller who leaves before
hearing anything ends the job instead of starting a session in an empty room, and the session
(its greeting, its timers, the first turn's figures) starts when the caller can hear it rather
than up to `hear_timeout` earlier.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.voice import room_io
from livekit.agents.voice.room_io.types import TextInputCallback, TextInputEvent
from loguru import logger

__all__ = ["open_room_link"]


def _after_start(session: AgentSession, callback: TextInputCallback) -> TextInputCallback:
    """`callback`, run only once `session` has started (its state left "initializing")."""
    started = asyncio.Event()
    if session.agent_state != "initializing":
        started.set()
    session.on("agent_state_changed",
               lambda ev: started.set() if ev.new_state != "initializing" else None)

    async def run(sess: AgentSession, ev: TextInputEvent) -> None:
        await started.wait()
        result = callback(sess, ev)
        if asyncio.iscoroutine(result):
            await result

    return run


async def open_room_link(session: AgentSession, room: rtc.Room, options: room_io.RoomOptions, *,
                         on_open: Callable[[Callable[[], Awaitable[None]]], None],
                         hear_timeout: float = 10.0) -> room_io.RoomIO | None:
    """Start a `RoomIO` for `session` (not yet started) and wait until the caller has subscribed
    to the agent's audio track, at most `hear_timeout` seconds.

    `on_open` receives the link's `aclose` as soon as the link exists (the job's shutdown
    callbacks: it is closed even if the wait is cancelled). Returns the started `RoomIO`, or None
    when the caller (`options.participant_identity`) left during the wait: then there is no call
    to start. A caller who never subscribes (a text-only client) is logged, not refused: the call
    goes on as livekit-agents would run it. Text typed before the session has started (`lk.chat`
    is read from the moment the link starts) waits for the start instead of being dropped.
    """
    link = room_io.RoomIO(agent_session=session, room=room, options=options)
    on_open(link.aclose)
    caller = options.participant_identity if isinstance(options.participant_identity, str) else None
    left = asyncio.get_running_loop().create_future()

    def on_left(participant: rtc.RemoteParticipant) -> None:
        if participant.identity == caller and not left.done():
            left.set_result(None)

    room.on("participant_disconnected", on_left)
    try:
        await link.start()
        text_input = options.get_text_input_options()
        if text_input:
            link.register_text_input(_after_start(session, text_input.text_input_cb))
        heard = link.subscribed_fut
        if heard is not None:
            await asyncio.wait([asyncio.shield(heard), left], timeout=hear_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
            if not heard.done() and not left.done():
                logger.warning("the caller has not subscribed to the agent's audio after {:.0f} s; "
                               "starting the call anyway", hear_timeout)
    finally:
        room.off("participant_disconnected", on_left)
    if left.done() or (caller is not None and caller not in room.remote_participants):
        logger.info("the caller left before the call started")
        return None
    return link
