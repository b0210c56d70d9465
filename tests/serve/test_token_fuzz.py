"""Fuzz every header and body field of POST /api/token: never a 5xx, never a traceback in the log.

One backend runs in a background thread for the whole module; hypothesis sends raw requests to
it over plain sockets, so header values can be any bytes at all. Examples are bounded (a few
hundred, a few seconds on a loaded 2-core machine).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serve.helpers import API_KEY, SIGNING_SECRET, captured_logs, make_settings, token_request_head
from worker.serve import create_app, running, sign_request
from worker.serve.models import TokenRequest

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

FIELDS = list(TokenRequest.model_fields)
"""Every body field of the standard token request."""


class Backend:
    """The token backend served from its own event loop in a daemon thread."""

    def __init__(self) -> None:
        self.address: tuple[str, int] | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = create_app(make_settings(token_rate_burst=1_000_000, token_rate_per_minute=1e9,
                                       token_body_timeout_seconds=2.0))
        async with running(app) as base_url:
            host, port = base_url.removeprefix("http://").split(":")
            self.address = (host, int(port))
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> Backend:
        self._thread.start()
        assert self._ready.wait(30), "the token backend did not start"
        return self

    def __exit__(self, *_: object) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def send(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        assert self.address
        with socket.create_connection(self.address, timeout=10) as sock:
            sock.sendall(head + body)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        data = b"".join(chunks)
        status_line = data.split(b"\r\n", 1)[0]
        return int(status_line.split()[1]), data


@pytest.fixture(scope="module")
def backend_and_logs() -> Iterator[tuple[Backend, list[str]]]:
    with captured_logs() as logs, Backend() as backend:
        yield backend, logs


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=140),
    st.sampled_from(["agent-x", "Maya (agent)", "\x1b[31mred\x1b[0m", "../../etc/passwd", "lk.agent.state",
                     "a" * 5000, "\ud800", "mediabloom"]),
    st.dictionaries(st.sampled_from(["agents", "agent_name", "metadata", "lk.x", "tier"]), json_values, max_size=3),
    st.fixed_dictionaries({"agents": st.lists(st.dictionaries(st.sampled_from(["agent_name", "agentName", "metadata",
                                                                                "x"]), json_values), max_size=3)}),
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=len(FIELDS)).map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=300),
    st.integers(1, 20_000).map(lambda n: b"[" * n),
    st.integers(1, 5_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
header_values = st.one_of(
    st.binary(max_size=80).filter(lambda b: b"\r" not in b and b"\n" not in b),
    st.binary(max_size=20),  # may break the HTTP framing itself: still no 5xx
    st.text(max_size=80).map(lambda t: t.encode("utf-8", "surrogatepass")).filter(lambda b: b"\r" not in b and b"\n" not in b),
    st.sampled_from([b"Bearer " + API_KEY.encode(), b"bearer " + API_KEY.encode() + b"\xff", b"1" * 5000,
                     "١٧".encode(), b"0" * 64, b"application/json", b"application/json; charset=latin-1",
                     b"multipart/form-data; boundary=x"]),
)
AUTH_MODES = ["key", "signature", "none", "fuzzed"]


@given(
    body=bodies,
    auth=st.sampled_from(AUTH_MODES),
    headers=st.dictionaries(st.sampled_from(["Authorization", "X-MB-Timestamp", "X-MB-Signature", "Content-Type",
                                             "Content-Encoding", "Transfer-Encoding", "Expect", "Host"]),
                            header_values, max_size=4),
)
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
def test_the_token_endpoint_never_answers_5xx(backend_and_logs: tuple[Backend, list[str]], body: bytes, auth: str,
                                             headers: dict[str, bytes]) -> None:
    backend, logs = backend_and_logs
    sent: dict[str, bytes] = {"Content-Type": b"application/json"}
    if auth == "key":
        sent["Authorization"] = f"Bearer {API_KEY}".encode()
    elif auth == "signature":
        sent.update({k: v.encode() for k, v in sign_request(SIGNING_SECRET, body).items()})
    if auth == "fuzzed" or auth == "none":
        sent.update(headers)
    else:
        sent.update({k: v for k, v in headers.items() if k not in sent})
    status, data = backend.send(token_request_head(sent, body), body)
    assert status < 500, data[:500]
    if status in (201, 401, 403, 408, 413, 415, 429) or b"application/json" in data.split(b"\r\n\r\n", 1)[0]:
        reply: Any = json.loads(data.split(b"\r\n\r\n", 1)[1])
        assert ("participant_token" in reply) == (status == 201), reply
    text = "\n".join(logs)
    assert "Traceback" not in text, text[-3000:]
    assert not [line for line in logs if line.startswith(("ERROR", "CRITICAL"))], text[-3000:]
    assert API_KEY not in text and SIGNING_SECRET not in text
