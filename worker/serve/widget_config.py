"""GET /api/config: tells the browser widget which transport this server offers.

The widget is one bundle for every deployment; what differs is how a call reaches the worker.
`mediabloom serve` answers `livekit` (get a token from `token_endpoint`, join the room the
token names); `mediabloom demo` answers `local` (POST a WebRTC offer to `offer_url`). The
answer holds no secret: anyone who can load the widget may read it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from aiohttp import web
from pydantic import BaseModel

CONFIG_PATH = "/api/config"


class WidgetConfig(BaseModel):
    transport: Literal["local", "livekit"]
    offer_url: str | None = None
    """local mode: where the browser POSTs its SDP offer"""
    token_endpoint: str | None = None
    """LiveKit mode: where the widget asks for a room token (a site puts its own backend here)"""
    agent_name: str | None = None
    """LiveKit mode: the agent the token dispatches"""


def add_widget_config(app: web.Application, config: WidgetConfig, *,
                      expect_handler: Callable[[web.Request], Awaitable[web.StreamResponse | None]] | None = None) -> None:
    """Register GET /api/config (before any catch-all static route); `expect_handler` as aiohttp's."""
    body = config.model_dump(exclude_none=True)

    async def widget_config(_: web.Request) -> web.Response:
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    app.router.add_get(CONFIG_PATH, widget_config, expect_handler=expect_handler)
