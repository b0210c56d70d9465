"""Every bad configuration value ends any command with `error: <one sentence>`, never a traceback (item 16).

Each case runs the real `mediabloom` console script in an empty directory (no `.env`), all
cases at once since each pays only the interpreter's start-up.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

MEDIABLOOM = Path(sys.executable).with_name("mediabloom")
TOKEN_KEYS = {"LIVEKIT_API_KEY": "devkey", "LIVEKIT_API_SECRET": "secret",
              "MB_TOKEN_API_KEY": "test-token-api-key-0123456789abcdef",
              "MB_TOKEN_SIGNING_SECRET": "test-signing-secret-0123456789abcdef"}


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    env: dict[str, str]
    names: str
    """What the one line must mention (the variable, the file)."""
    setup: str = ""
    """`corrupt-journal`, `corrupt-replay-cache`, `data-dir-is-a-file` or nothing."""


CASES: dict[str, Case] = {
    "port-not-a-number": Case(("audit", "verify"), {"MB_WORKER_PORT": "abc"}, "MB_WORKER_PORT"),
    "ttl-negative": Case(("serve",), {**TOKEN_KEYS, "MB_TOKEN_TTL_SECONDS": "-5"}, "MB_TOKEN_TTL_SECONDS"),
    "ttl-zero": Case(("serve",), {**TOKEN_KEYS, "MB_TOKEN_TTL_SECONDS": "0"}, "MB_TOKEN_TTL_SECONDS"),
    "rate-not-a-number": Case(("serve",), {**TOKEN_KEYS, "MB_TOKEN_RATE_PER_MINUTE": "fast"}, "MB_TOKEN_RATE_PER_MINUTE"),
    "today-not-a-date": Case(("schema", "trace"), {"MB_TODAY": "someday"}, "MB_TODAY"),
    "mode-unknown": Case(("resume",), {"MB_MODE": "prod"}, "MB_MODE"),
    "log-level-unknown": Case(("schema", "trace"), {"MB_LOG_LEVEL": "LOUD"}, "MB_LOG_LEVEL"),
    "log-level-argument-unknown": Case(("--log-level", "LOUD", "schema", "trace"), {}, "--log-level"),
    "journal-url-scheme": Case(("audit", "verify"), {"MB_JOURNAL_URL": "mysql://db/x"}, "MB_JOURNAL_URL"),
    "journal-url-empty-path": Case(("replay", "c1"), {"MB_JOURNAL_URL": "sqlite:///"}, "MB_JOURNAL_URL"),
    "data-dir-unusable-journal": Case(("audit", "verify"), {"MB_JOURNAL_KEY": "ab" * 32}, "MB_DATA_DIR",
                                      setup="data-dir-is-a-file"),  # read-only: names it, creates nothing
    "data-dir-uncreatable-serve": Case(("serve",), TOKEN_KEYS, "MB_DATA_DIR", setup="data-dir-is-a-file"),
    "corrupt-journal-verify": Case(("audit", "verify"), {}, "journal.db", setup="corrupt-journal"),
    "corrupt-journal-resume": Case(("resume",), {}, "journal.db", setup="corrupt-journal"),
    "corrupt-journal-show": Case(("audit", "show", "c1"), {}, "journal.db", setup="corrupt-journal"),
    "api-key-too-short": Case(("serve",), {**TOKEN_KEYS, "MB_TOKEN_API_KEY": "zq7-short"}, "MB_TOKEN_API_KEY"),
    "corrupt-replay-cache": Case(("serve",), TOKEN_KEYS, "token_replay.db", setup="corrupt-replay-cache"),
}


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def _prepare(work: Path, setup: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "MB_", "DEEPGRAM_", "OPENAI_"))}
    if setup == "data-dir-is-a-file":
        (work / "blocker").write_text("a file where a directory should be")
        env["MB_DATA_DIR"] = str(work / "blocker" / "data")
    elif setup == "corrupt-journal":
        env["MB_JOURNAL_KEY"] = "ab" * 32  # a configured key: nothing is generated, nothing else to report
        (work / "data").mkdir()
        (work / "data" / "journal.db").write_bytes(b"garbage header, not SQLite" * 200)
    elif setup == "corrupt-replay-cache":
        (work / "data").mkdir()
        (work / "data" / "token_replay.db").write_bytes(b"garbage header, not SQLite" * 200)
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every case as a real `mediabloom` run, four at a time (17 at once starve 2 cores)."""

    works = {name: tmp_path_factory.mktemp(name) for name in CASES}  # not thread-safe: made here

    def run(name: str) -> Run:
        case, work = CASES[name], works[name]
        env = {**_prepare(work, case.setup), **case.env}
        argv = [str(MEDIABLOOM), *case.args, *(["--port", "0"] if case.args == ("serve",) else [])]
        try:
            done = subprocess.run(argv, cwd=work, env=env, text=True, capture_output=True, timeout=120)
        except subprocess.TimeoutExpired as exc:
            return Run(None, str(exc.stdout or ""), str(exc.stderr or ""))
        return Run(done.returncode, done.stdout, done.stderr)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(run, CASES)))


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_value_is_one_line_naming_it(runs: dict[str, Run], name: str) -> None:
    run, case = runs[name], CASES[name]
    assert run.returncode == 2, run
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ") and case.names in lines[0], lines[0]
    assert "Traceback" not in run.stderr and run.stdout == ""
    secrets = [TOKEN_KEYS["MB_TOKEN_API_KEY"], TOKEN_KEYS["MB_TOKEN_SIGNING_SECRET"], "zq7-short"]
    assert not any(secret in run.stderr for secret in secrets)  # a bad secret is named, never shown
