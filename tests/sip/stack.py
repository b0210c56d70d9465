"""The real LiveKit stack a phone call needs, on 127.0.0.1 with free ports: Redis, livekit-server
(the repo's livekit.yaml plus Redis) and LiveKit SIP (the repo's sip.yaml), each its own process.

Configs are written per run from the committed files with only ports and addresses changed,
so the tests exercise what a deployment ships. A missing binary fails with how `.ci/run` gets it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.livekit.conftest import SERVER_ENV_PREFIXES, _find_livekit_server, _free_tcp_port, _free_udp_range, _log_tail
from tests.livekit.helpers import LiveKitServer

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Proc:
    """A started process and its log; `stop()` ends it (SIGTERM, then SIGKILL)."""

    proc: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, object] = field(default_factory=dict)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def _binary(name: str, how: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed (not on PATH): {how}", pytrace=False)
    return found


def _wait(proc: Proc, ready: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.proc.poll() is not None:
            pytest.fail(f"{what} exited with {proc.proc.returncode}:\n{_log_tail(proc.log)}", pytrace=False)
        if time.monotonic() > deadline:
            proc.stop()
            pytest.fail(f"{what} not ready within {timeout:.0f} s:\n{_log_tail(proc.log)}", pytrace=False)
        time.sleep(0.1)


def _start(cmd: list[str], log: Path) -> Proc:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SERVER_ENV_PREFIXES)}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    return Proc(proc, log)


def start_redis(workdir: Path) -> tuple[Proc, str]:
    """redis-server on a free loopback port, nothing persisted; returns it and `host:port`."""
    binary = _binary("redis-server", "`.ci/run` installs Debian's redis-server.")
    port = _free_tcp_port()
    proc = _start([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--dir", str(workdir)], workdir / "redis.log")

    def pong() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    _wait(proc, pong, "redis-server")
    return proc, f"127.0.0.1:{port}"


def start_livekit(workdir: Path, redis_address: str, name: str = "livekit") -> tuple[Proc, LiveKitServer]:
    """livekit-server with the repo's livekit.yaml, per-run ports, and the given Redis."""
    binary = _find_livekit_server()
    config = yaml.safe_load((REPO / "livekit.yaml").read_text())
    port = _free_tcp_port()
    udp_start, udp_end = _free_udp_range()
    config["port"] = port
    config["rtc"].update(tcp_port=0, port_range_start=udp_start, port_range_end=udp_end)
    config["redis"] = {"address": redis_address}
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    api_key, api_secret = next(iter(config["keys"].items()))
    proc = _start([binary, "--config", str(path)], workdir / f"{name}.log")
    server = LiveKitServer(f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}", api_key, str(api_secret), proc.log)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(server.http_url, timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    _wait(proc, answers, "livekit-server")
    return proc, server


def start_sip(workdir: Path, server: LiveKitServer, redis_address: str) -> tuple[Proc, int]:
    """livekit-sip with the repo's sip.yaml, per-run ports; returns it and its SIP port."""
    binary = _binary("livekit-sip", "`.ci/run` builds it (go build github.com/livekit/sip/cmd/livekit-sip@v1.8.0 "
                                    "in a wrapper module) and installs it as /usr/local/bin/livekit-sip.")
    config = yaml.safe_load((REPO / "sip.yaml").read_text())
    sip_port, health_port = _free_tcp_port(), _free_tcp_port()
    rtp_start, rtp_end = _free_udp_range(40)
    # max_cpu_utilization 1.0: the bridge's health check reports "under load" (503) while the
    # host's CPU is over 90% busy, as a shared 2-core CI box often is; it answers calls either way
    config.update(api_key=server.api_key, api_secret=server.api_secret, ws_url=server.url, sip_port=sip_port,
                  rtp_port=f"{rtp_start}-{rtp_end}", health_port=health_port, redis={"address": redis_address},
                  max_cpu_utilization=1.0)
    path = workdir / "sip.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = _start([binary, "--config", str(path)], workdir / "livekit-sip.log")

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/", timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    _wait(proc, healthy, "livekit-sip")
    return proc, sip_port
