"""`mediabloom serve` as an operator runs it: a real process, real port, SIGTERM to stop."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.serve.helpers import API_KEY

MEDIABLOOM = Path(sys.executable).with_name("mediabloom")
"""The console script `uv run mediabloom` runs, minus uv's own start-up."""


def _env(**extra: str) -> dict[str, str]:
    """The environment minus any settings of the developer's shell, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "MB_"))}
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_without_livekit_keys_exits_2_with_one_line(tmp_path: Path) -> None:
    # cwd is an empty directory, so no .env supplies the keys either.
    proc = subprocess.run([str(MEDIABLOOM), "serve"], cwd=tmp_path, env=_env(MB_TOKEN_API_KEY=API_KEY),
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "LIVEKIT_API_KEY" in lines[0], proc.stderr
    assert proc.stdout == ""


def test_serve_issues_tokens_on_loopback_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = _env(LIVEKIT_URL="ws://127.0.0.1:7880", LIVEKIT_API_KEY="devkey", LIVEKIT_API_SECRET="secret",
               MB_TOKEN_API_KEY=API_KEY)
    proc = subprocess.Popen([str(MEDIABLOOM), "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1) as resp:
                    assert json.load(resp) == {"status": "ok"}
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("mediabloom serve did not answer /healthz within 30 s")
                time.sleep(0.1)

        request = urllib.request.Request(f"{base}/api/token", data=b'{"room_name": "cli-room"}', method="POST",
                                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {API_KEY}"})
        with urllib.request.urlopen(request, timeout=5) as resp:
            assert resp.status == 201
            body = json.load(resp)
        assert body["server_url"] == "ws://127.0.0.1:7880" and body["participant_token"].count(".") == 2

        anonymous = urllib.request.Request(f"{base}/api/token", data=b"{}", method="POST",
                                           headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(anonymous, timeout=5)
        assert refused.value.code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    assert proc.returncode == 0, out
    assert "token issued: room=cli-room" in out
    assert body["participant_token"] not in out and API_KEY not in out  # secrets never reach the log
