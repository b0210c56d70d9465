"""Fixtures of the CLI tests: a data directory with a journal recorded by a real (text) call.

Each test gets its own ``MB_DATA_DIR`` and runs ``mediabloom`` in-process (``worker.cli.main``)
from a working directory of its own, so nothing from the repository or the developer's
shell (a ``.env``, an ``MB_JOURNAL_KEY``) decides the outcome.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from tests.cli.recorded import RENEWAL, TODAY, RecordedCall
from tests.support.processes import dead_local_owner
from tools.executor import ToolExecutor
from tools.sandbox.core import Sandbox
from worker.cli import main
from worker.journaling import open_journal
from worker.settings import load_settings

CALL = "call_cli_renewal"


@dataclass
class Cli:
    """Runs ``mediabloom`` and returns (exit code, stdout, stderr)."""

    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            code = main(list(argv))
        finally:
            # main() points loguru at this test's captured stderr; later tests must not write there.
            logger.remove()
            logger.add(sys.__stderr__, level="WARNING")
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean environment: dev mode, a fresh data dir, no configured key; returns the data dir."""
    for var in list(os.environ):
        if var.upper().startswith("MB_"):
            monkeypatch.delenv(var)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    data = tmp_path / "data"
    monkeypatch.setenv("MB_DATA_DIR", str(data))
    monkeypatch.setenv("MB_TODAY", TODAY.isoformat())
    monkeypatch.setenv("MB_MODE", "dev")
    return data


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


async def record(data: Path, call_id: str = CALL, lines: list[str] | None = None,
                 sandbox_path: Path | None = None, **executor_options: Any) -> Path:
    """Record one insurance renewal into the data dir's journal; returns the sandbox path.

    ``executor_options`` go to the call's ``ToolExecutor`` (an owner, a crash hook).
    """
    settings = load_settings()
    sandbox_path = sandbox_path or data / "sandbox.db"
    journal = await open_journal(settings)
    sandbox = Sandbox.open(sandbox_path, TODAY)
    try:
        executor = ToolExecutor(sandbox=sandbox, store=journal.store, **executor_options)
        call = RecordedCall("insurance", sandbox, executor, call_id, sandbox_path)
        for line in RENEWAL if lines is None else lines:
            await call.say(line)
        await call.close()
    finally:
        sandbox.close()
        await journal.store.close()
    return sandbox_path


@pytest.fixture
def recorded(env: Path) -> Iterator[Path]:
    """The data dir, holding one finished renewal call ``CALL`` (one charge)."""
    asyncio.run(record(env))
    yield env


class ProcessDied(BaseException):
    """Stands in for SIGKILL: nothing catches it, nothing after it runs."""


def die_at(label: str, occurrence: int = 1) -> Any:
    """A crash hook that kills the "process" the ``occurrence``-th time a call passes ``label``."""
    seen = 0

    def hook(at: str) -> None:
        nonlocal seen
        if at == label:
            seen += 1
            if seen == occurrence:
                raise ProcessDied(label)
    return hook


#: Labels every tool passes (not only charge_card's steps): the renewal's third tool is the charge.
CHARGE_OCCURRENCE = 3


def crash_mid_charge(data: Path, at: str = "before_step:receipt", sandbox_path: Path | None = None) -> Path:
    """Record the renewal, with the process dying inside charge_card at ``at``; its owner is dead."""
    occurrence = 1 if ":" in at else CHARGE_OCCURRENCE
    try:
        asyncio.run(record(data, sandbox_path=sandbox_path, owner=dead_local_owner(),
                           crash_hook=die_at(at, occurrence)))
    except ProcessDied:
        pass
    else:
        raise AssertionError(f"the call never reached {at}")
    return sandbox_path or data / "sandbox.db"
