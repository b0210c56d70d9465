"""Serving the app on a socket, with a cap on the connections one address may hold open.

aiohttp has no per-address limit, and it starts the handler as soon as the headers are in, so
slow clients (a body trickled in byte by byte, headers that never end) each hold a connection.
`body.read_body` bounds how long a body may take; the cap here bounds how many connections an
address holds at once. It sits in front of aiohttp's own protocol: a connection over the cap is
answered with a JSON 429 and closed without aiohttp ever seeing it.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from loguru import logger

from worker.serve.errors import where
from worker.settings import Settings

MAX_CONNECTIONS_KEY = web.AppKey("max_connections_per_address", int)
REFUSED_LINGER_SECONDS = 1.0
"""How long a refused connection may keep sending (discarded) before it is closed."""
LINGER_SECONDS = 2.0
"""After an early answer (408, 413) aiohttp reads and drops the rest of the body so the client
sees the answer rather than a reset; its default of 10 s would let a trickling client keep the
connection five times longer than the answer took."""


def _refusal(limit: int) -> bytes:
    body = json.dumps({"error": {"code": "too_many_connections",
                                 "message": f"This address already holds {limit} open connections; retry later."}}).encode()
    head = (f"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n")
    return head.encode("ascii") + body


class ConnectionCap:
    """A protocol factory around aiohttp's: counts open connections per peer address."""

    def __init__(self, factory: Callable[[], asyncio.Protocol], per_address: int) -> None:
        self.factory = factory
        self.limit = per_address
        self.open: Counter[str] = Counter()
        self.refusal = _refusal(per_address)
        self._warned: set[str] = set()

    def __call__(self) -> asyncio.Protocol:
        return _CappedConnection(self)

    def admit(self, address: str) -> bool:
        if self.open[address] >= self.limit:
            if address not in self._warned:  # once per episode, not once per refused connection
                self._warned.add(address)
                logger.warning("{} holds {} connections, the cap (MB_TOKEN_MAX_CONNECTIONS_PER_ADDRESS): refusing more",
                               address, self.limit)
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]
            self._warned.discard(address)


class _CappedConnection(asyncio.Protocol):
    """Forwards to aiohttp's protocol when admitted; else answers 429 and discards what arrives."""

    def __init__(self, cap: ConnectionCap) -> None:
        self._cap = cap
        self._inner: asyncio.Protocol | None = None
        self._address = ""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        self._address = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        if self._cap.admit(self._address):
            self._inner = self._cap.factory()
            self._inner.connection_made(transport)
            return
        self._transport = transport  # type: ignore[assignment]
        self._transport.write(self._cap.refusal)  # type: ignore[union-attr]
        if self._transport.can_write_eof():  # type: ignore[union-attr]
            self._transport.write_eof()  # type: ignore[union-attr]
        asyncio.get_running_loop().call_later(REFUSED_LINGER_SECONDS, transport.close)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self._inner is not None:
            return self._inner.eof_received()
        if self._transport is not None:
            self._transport.close()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._inner is not None:
            self._cap.release(self._address)
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()


def _printable(text: str, limit: int = 120) -> str:
    """Client-chosen text made safe for one log line (no control characters, bounded)."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit])


class ProtocolLog:
    """The logger aiohttp's connection handler writes to, in place of `aiohttp.server`.

    aiohttp logs a client's malformed HTTP (a duplicate Host, a bad header byte) as ERROR with
    a traceback, and so anything that fails outside the app's middlewares. Here the first is one
    WARNING line (the client's mistake, not ours) and the second one ERROR line naming the
    exception and where it happened: no traceback, so no variable values, ever.
    """

    def debug(self, msg: str, *args: Any, **kwargs: Any) -> None:
        logger.debug("aiohttp: {}", _printable(msg % args if args else msg))

    def exception(self, msg: str, *args: Any, exc_info: Any = True, **kwargs: Any) -> None:
        exc = exc_info if isinstance(exc_info, BaseException) else sys.exc_info()[1]
        text = _printable(msg % args if args else msg)
        if isinstance(exc, HttpProcessingError) and 400 <= exc.code < 500:
            logger.warning("{}: malformed HTTP ({} {}: {})", text, type(exc).__name__, exc.code, _printable(exc.message))
        elif exc is not None:
            logger.error("{}: {} at {}", text, type(exc).__name__, where(exc))
        else:
            logger.error("{}", text)

    error = exception


@asynccontextmanager
async def running(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve `app` on a real socket inside the current event loop; yields its base URL (tests use it)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, lingering_time=LINGER_SECONDS,
                           logger=ProtocolLog())
    await runner.setup()
    assert runner.server is not None
    factory: Any = runner.server
    if (limit := app.get(MAX_CONNECTIONS_KEY)) is not None:
        factory = ConnectionCap(runner.server, limit)
    server = await asyncio.get_running_loop().create_server(factory, host, port, reuse_address=True)
    bound_port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.close()
        await runner.cleanup()  # aiohttp closes the connections it serves (gracefully)
        await server.wait_closed()


def serve_forever(settings: Settings, host: str, port: int, app: web.Application) -> None:
    """`mediabloom serve`: run until SIGINT/SIGTERM, then close connections gracefully."""
    methods = [m for m, on in (("api key", settings.token_api_key), ("signed requests", settings.token_signing_secret)) if on]
    logger.info("token backend on http://{}:{} — LiveKit {} · agent {!r} · ttl {}s · auth: {}", host, port,
                settings.livekit_url, settings.agent_name, settings.token_ttl_seconds, ", ".join(methods))
    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving on {} — put TLS in front of it; tokens and keys travel in these requests", host)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with running(app, host, port):
            await stop.wait()
        logger.info("token backend stopped")

    asyncio.run(main())
