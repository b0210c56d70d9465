"""Servers the browser tests talk to, each a real `mediabloom` process on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.browser.harness import FRONTEND_DIST

from tests.browser.calls import TODAY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_built_widget() -> None:
    if not (FRONTEND_DIST / "widget.js").is_file():
        raise AssertionError(f"the widget is not built ({FRONTEND_DIST}/widget.js missing): "
                             "run `cd frontend && npm ci && npm run build` (.ci/run does)")


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def mediabloom(tmp: Path, *args: str, env: dict[str, str] | None = None, ready_timeout: float = 90.0) -> Iterator[Server]:
    """Run `mediabloom <args> --port P` until the block ends; ready when /healthz answers."""
    require_built_widget()
    port = free_port()
    data_dir = tmp / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log = tmp / f"{args[0]}-{port}.log"
    full_env = {**os.environ, "MB_DATA_DIR": str(data_dir), "MB_TODAY": TODAY, "MB_FRONTEND_DIR": str(FRONTEND_DIST),
                "MB_SILENCE_REPROMPT_AFTER": "30", **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "worker.cli", *args, "--host", "127.0.0.1", "--port", str(port)],
                                env=full_env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", data_dir, proc, log)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"mediabloom {args[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"mediabloom {args[0]} not ready after {ready_timeout:.0f} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield server
    finally:
        server.stop()
