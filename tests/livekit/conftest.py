"""Fixtures of the LiveKit tests: a real livekit-server on 127.0.0.1, started once per session.

The server is the repo's `livekit.yaml` with per-run ports (free HTTP port, a free UDP range)
so parallel runs and a developer's own server on 7880 don't collide; ICE/TCP is switched off
here because livekit-server opens that listener on every interface, and the tests keep every
socket on loopback. A missing binary FAILS the tests with the command that builds it: a
skipped real-server test would be an untested token backend.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from livekit import api

from tests.livekit.helpers import ExpiringToken, LiveKitServer, make_settings, token_backend, validate_status

REPO = Path(__file__).resolve().parents[2]
BUILD_HINT = (
    "`.ci/run` builds it (go install github.com/livekit/livekit-server/cmd/server@v1.13.5, ~7 min, "
    "then symlinks it as /usr/local/bin/livekit-server)"
)
START_TIMEOUT = 30.0
EXPIRY_TEST = "tests/livekit/test_token_expiry.py"
SERVER_ENV_PREFIXES = ("LIVEKIT_", "NODE_IP", "UDP_PORT", "REDIS_")
"""Variables livekit-server reads as config overrides: the child must see only our config."""


def _find_livekit_server() -> str:
    on_path = shutil.which("livekit-server")
    if on_path:
        return on_path
    built = Path.home() / "go" / "bin" / "server"
    if built.is_file() and os.access(built, os.X_OK):
        version = subprocess.run([str(built), "--version"], capture_output=True, text=True, timeout=15, check=False)
        if "livekit-server" in version.stdout:
            return str(built)
    pytest.fail(f"livekit-server is not installed (not on PATH, no ~/go/bin/server): {BUILD_HINT}.", pytrace=False)


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _free_udp_range(size: int = 20) -> tuple[int, int]:
    """A range of UDP ports on 127.0.0.1 that are all free right now (ICE media ports)."""
    for _ in range(100):
        start = random.randrange(40_000, 60_000 - size)
        socks: list[socket.socket] = []
        try:
            for port in range(start, start + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return start, start + size - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free UDP port range on 127.0.0.1")


def _log_tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


async def _list_rooms(server: LiveKitServer) -> None:
    lk = server.api()
    try:
        await lk.room.list_rooms(api.ListRoomsRequest())
    finally:
        await lk.aclose()


@pytest.fixture(scope="session")
def livekit_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveKitServer]:
    """livekit-server with the repo's livekit.yaml on loopback; terminated at the end of the session."""
    binary = _find_livekit_server()
    config = REPO / "livekit.yaml"
    api_key, api_secret = next(iter(yaml.safe_load(config.read_text())["keys"].items()))
    port = _free_tcp_port()
    udp_start, udp_end = _free_udp_range()
    log_path = tmp_path_factory.mktemp("livekit") / "livekit-server.log"
    cmd = [binary, "--config", str(config), "--port", str(port), "--rtc.tcp_port", "0",
           "--rtc.port_range_start", str(udp_start), "--rtc.port_range_end", str(udp_end)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_PREFIXES)}
    server = LiveKitServer(f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}", api_key, str(api_secret), log_path)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"livekit-server exited with {proc.returncode}:\n{_log_tail(log_path)}", pytrace=False)
            try:
                with urllib.request.urlopen(server.http_url, timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"livekit-server did not answer on {server.http_url} within {START_TIMEOUT:.0f} s:\n"
                            f"{_log_tail(log_path)}", pytrace=False)
            time.sleep(0.1)
        asyncio.run(_list_rooms(server))  # the API answers and accepts the configured key pair
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def expiring_token(livekit_server: LiveKitServer) -> ExpiringToken:
    """A 2-second token from the backend, issued as early in the session as possible.

    LiveKit accepts a token for 60 s past its `exp` (clock-skew leeway in livekit/protocol), so
    proving that an expired token cannot join takes ~62 s of waiting. Issuing it here, the first
    time a real-server test runs, and running the expiry test last (see the hook below) lets
    that wait overlap the other tests instead of adding to them.
    """

    async def issue() -> ExpiringToken:
        async with token_backend(make_settings(livekit_server, token_ttl_seconds=2)) as client:
            issued_at = time.time()
            token = (await client.token(room_name="expiry-room", participant_identity="late-caller")).participant_token
        return ExpiringToken(token, issued_at, 2, await validate_status(livekit_server, token))

    return asyncio.run(issue())


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the expiry test last, so its wait for LiveKit's leeway overlaps everything else."""
    last = [item for item in items if item.nodeid.startswith(EXPIRY_TEST)]
    if last:
        items[:] = [item for item in items if not item.nodeid.startswith(EXPIRY_TEST)] + last
