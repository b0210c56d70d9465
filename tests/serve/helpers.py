"""Helpers of the token-server tests: settings, an in-process backend, raw HTTP, captured logs.

None of this needs a LiveKit server: the backend only signs tokens with a key pair. The LiveKit
tests (tests/livekit/) reuse `make_settings` and `token_backend` with a real server's key pair.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import aiohttp
from loguru import logger

from worker.serve import create_app, running, sign_request
from worker.serve.models import TokenResponse
from worker.settings import Settings, load_settings

API_KEY = "test-token-api-key-0123456789abcdef"
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
AGENT_NAME = "mediabloom"


class LiveKitKeys(Protocol):
    """What the backend needs to know of a LiveKit server: where it is and its key pair."""

    url: str
    api_key: str
    api_secret: str


def make_settings(livekit: LiveKitKeys | None = None, **overrides: Any) -> Settings:
    """Settings for one token backend; without a LiveKit server the key pair is the dev pair.

    Each call gets its own fresh data dir (the replay cache of signed requests lives there)
    unless `data_dir` is given, so tests never share state or write into the repository.
    """
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
    if "data_dir" not in values:
        values["data_dir"] = Path(tempfile.mkdtemp(prefix="mb-serve-"))
    return load_settings(**values)


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

    async def raw(self, head: bytes, body: bytes = b"") -> RawReply:
        """Send bytes exactly as given (headers any client library would refuse); see `raw_request`."""
        return await raw_request(self.base_url, head, body)


@asynccontextmanager
async def token_backend(settings: Settings, frontend_dir: Path | None = None) -> AsyncIterator[TokenClient]:
    """Start the token backend on 127.0.0.1:<free port> in this event loop; stopped on exit."""
    app = create_app(settings, frontend_dir=frontend_dir)
    async with running(app, "127.0.0.1", 0) as base_url, aiohttp.ClientSession() as session:
        yield TokenClient(base_url, session)


@dataclass(frozen=True)
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def token_request_head(headers: Mapping[str, bytes], body: bytes, *, method: bytes = b"POST",
                       path: bytes = b"/api/token") -> bytes:
    """A request head with every header value taken byte for byte (non-UTF-8 included)."""
    lines = [method + b" " + path + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
             b"Content-Length: " + str(len(body)).encode()]
    lines += [name.encode() + b": " + value for name, value in headers.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def raw_request(base_url: str, head: bytes, body: bytes = b"", timeout: float = 10.0) -> RawReply:
    """One request over a fresh socket, its reply read until the server closes the connection."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + body)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head_bytes, _, payload = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in header_lines)}
    return RawReply(int(status_line.split()[1]), headers, payload)


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Everything the server logs meanwhile, through loguru and the standard `logging` module.

    Loguru records are formatted with their exception (if any), as a real sink would print them,
    so a test can assert that no traceback, and nothing a traceback would show, reaches a log.
    """
    lines: list[str] = []

    def sink(message: Any) -> None:
        lines.append(str(message))

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.levelname} {record.name}: {logging.Formatter().format(record)}")

    sink_id = logger.add(sink, level="DEBUG", format="{level} {name}: {message}\n{exception}")
    handler = Handler(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        logger.remove(sink_id)
