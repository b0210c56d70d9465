"""Fixtures for the step-plan tests: a real sandbox database file per test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from loguru import logger

from tools.sandbox import Sandbox

#: A Monday; "tomorrow" is Tuesday 2025-06-03 (same world as tests/tools).
TODAY = date(2025, 6, 2)


class FixedClock:
    """Deterministic clock: each reading advances one second."""

    def __init__(self) -> None:
        self.now = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def tomorrow() -> date:
    return TODAY + timedelta(days=1)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


@pytest.fixture
def sb(db_path: Path) -> Iterator[Sandbox]:
    sandbox = Sandbox.open(db_path, TODAY, clock=FixedClock())
    yield sandbox
    sandbox.close()


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every loguru message emitted during the test."""
    lines: list[str] = []
    sink_id = logger.add(lambda message: lines.append(str(message)), level="DEBUG", format="{message}")
    yield lines
    logger.remove(sink_id)
