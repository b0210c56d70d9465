"""Fixtures of the phone tests: Redis, livekit-server with Redis, LiveKit SIP, the line set up
with `mediabloom sip setup`, and a worker, all real processes on 127.0.0.1 (see stack.py).
One stack serves every phone test module (each adds its own line and worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.livekit.helpers import LiveKitServer
from tests.sip.stack import REPO, start_livekit, start_redis, start_sip

NUMBER = "+15550100"
CALLER_ID = "+14155550123"


@dataclass(frozen=True)
class PhoneStack:
    server: LiveKitServer
    sip_port: int
    redis_address: str
    setup_runs: list[dict]
    workdir: Path

    def uri(self, number: str = NUMBER) -> str:
        return f"sip:{number}@127.0.0.1:{self.sip_port}"


def sip_setup(server: LiveKitServer, *extra: str, number: str = NUMBER, **env_extra: str) -> dict:
    """`mediabloom sip setup --json` against `server`, as an operator runs it (`env_extra`: more
    MB_* settings, e.g. a second line's trunk, rule and agent names)."""
    env = {**os.environ, "LIVEKIT_URL": server.url, "LIVEKIT_API_KEY": server.api_key,
           "LIVEKIT_API_SECRET": server.api_secret, "MB_AGENT_NAME": "mediabloom", **env_extra}
    done = subprocess.run([sys.executable, "-m", "worker.cli", "sip", "setup", "--number", number, "--json", *extra],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def phone_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhoneStack]:
    work = tmp_path_factory.mktemp("phone")
    started = []
    try:
        redis, address = start_redis(work)
        started.append(redis)
        livekit, server = start_livekit(work, address)
        started.append(livekit)
        sip, sip_port = start_sip(work, server, address)
        started.append(sip)
        runs = [sip_setup(server), sip_setup(server)]
        yield PhoneStack(server, sip_port, address, runs, work)
    finally:
        for proc in reversed(started):
            proc.stop()
