"""Slow and vanishing clients: bodies have a deadline, an address has a connection cap (items 10, 17).

A body sent one byte every few seconds used to hold its connection (and handler) for hours,
as many per address as the attacker liked; a client hanging up mid-body was logged as an
ERROR with a traceback.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.serve.helpers import API_KEY, captured_logs, make_settings, token_backend, token_request_head

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

BODY = b'{"room_name": "slow-room"}'
HEAD = token_request_head({"Content-Type": b"application/json", "Authorization": f"Bearer {API_KEY}".encode()}, BODY)


async def _open(base_url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = base_url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def test_a_body_that_trickles_in_is_cut_off_with_408() -> None:
    async with token_backend(make_settings(token_body_timeout_seconds=0.5)) as client:
        reader, writer = await _open(client.base_url)
        started = time.monotonic()
        writer.write(HEAD + BODY[:1])
        await writer.drain()
        try:
            data = await asyncio.wait_for(reader.read(), 8.0)  # the server answers, then closes the connection
        finally:
            writer.close()
        elapsed = time.monotonic() - started
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert b'"code":"request_timeout"' in data.replace(b" ", b"")
    assert 0.4 <= elapsed < 6.0  # the timeout, then at most server.LINGER_SECONDS of draining


async def test_connections_per_address_are_capped() -> None:
    async with token_backend(make_settings(token_max_connections_per_address=3, token_body_timeout_seconds=30)) as client:
        held = [await _open(client.base_url) for _ in range(3)]
        for _, writer in held:
            writer.write(HEAD + BODY[:1])  # three slow bodies, each holding a connection
            await writer.drain()
        await asyncio.sleep(0.2)
        reader, writer = await _open(client.base_url)
        writer.write(HEAD + BODY)
        await writer.drain()
        refused = await asyncio.wait_for(reader.read(), 5.0)
        writer.close()

        held_reader, held_writer = held.pop()
        held_writer.close()
        await asyncio.sleep(0.2)  # the server notices the hang-up and frees the slot
        served = await client.post({"room_name": "after-one-left"})
        for _, writer in held:
            writer.close()
    assert refused.startswith(b"HTTP/1.1 429"), refused[:200]
    assert b"too_many_connections" in refused
    assert served.status == 201, served


async def test_a_client_hanging_up_mid_body_is_not_an_error() -> None:
    with captured_logs() as logs:
        async with token_backend(make_settings()) as client:
            for _ in range(3):
                _, writer = await _open(client.base_url)
                writer.write(HEAD + BODY[:5])
                await writer.drain()
                await asyncio.sleep(0.1)
                writer.close()
            await asyncio.sleep(0.3)
            assert (await client.post({})).status == 201  # and the server carries on
    text = "\n".join(logs)
    assert "Traceback" not in text and "ERROR" not in text, text
