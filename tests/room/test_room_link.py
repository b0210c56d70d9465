"""The room link: text typed before the session has started waits for it instead of being lost.

(The subscription wait itself runs against a real livekit-server in
tests/livekit/test_browser_call.py: a message typed the moment the call opens, with the greeting's
audio ready at once, used to leave the agent stuck "thinking".)
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, Callable

from worker.room.room_link import _after_start


class _Session:
    """Shaped like AgentSession for `_after_start`: `agent_state` and `on(event, handler)`."""

    def __init__(self) -> None:
        self.agent_state = "initializing"
        self.handlers: list[Callable[[Any], None]] = []

    def on(self, event: str, handler: Callable[[Any], None]) -> None:
        assert event == "agent_state_changed"
        self.handlers.append(handler)

    def start(self) -> None:
        self.agent_state = "listening"
        for handler in self.handlers:
            handler(SimpleNamespace(old_state="initializing", new_state="listening"))


async def test_text_typed_before_the_start_runs_after_it_in_order() -> None:
    session = _Session()
    seen: list[tuple[str, str]] = []

    async def typed(sess: Any, ev: Any) -> None:
        seen.append((sess.agent_state, ev.text))

    callback = _after_start(session, typed)  # type: ignore[arg-type]
    first = asyncio.create_task(callback(session, SimpleNamespace(text="hello")))  # type: ignore[arg-type]
    second = asyncio.create_task(callback(session, SimpleNamespace(text="my name is Sam")))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert seen == [], "nothing reaches the call before its session runs"
    session.start()
    await asyncio.gather(first, second)
    assert seen == [("listening", "hello"), ("listening", "my name is Sam")]


async def test_text_after_the_start_runs_at_once_and_a_plain_callback_works() -> None:
    session = _Session()
    session.start()
    seen: list[str] = []
    callback = _after_start(session, lambda sess, ev: seen.append(ev.text))  # type: ignore[arg-type, func-returns-value]
    await asyncio.wait_for(callback(session, SimpleNamespace(text="yes")), 1)  # type: ignore[arg-type]
    assert seen == ["yes"]
