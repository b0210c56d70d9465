"""The sandbox fixtures: a real, seeded SQLite sandbox file per test.

Why a real file and no mocks: effects (bookings, charges, cases) are asserted on the rows
the tools wrote, and some tests reopen the same file (``db_path``) to check what survives.

A conftest imports the fixtures it uses together with those they depend on, e.g.
``from tests.support.sandbox import db_path, sandbox_clock, sb, today  # noqa: F401``,
and overrides ``today`` (which world) or ``sandbox_clock`` (deterministic ``created_at``)
by defining a fixture of the same name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.dates import SCENARIO_TODAY
from tools.sandbox import Sandbox


@pytest.fixture
def today() -> date:
    """The sandbox's today (the seed and the booking window are relative to it)."""
    return SCENARIO_TODAY


@pytest.fixture
def tomorrow(today: date) -> date:
    return today + timedelta(days=1)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


@pytest.fixture
def sandbox_clock() -> Callable[[], datetime] | None:
    """What stamps ``created_at``; None is the real clock."""
    return None


@pytest.fixture
def sb(db_path: Path, today: date, sandbox_clock: Callable[[], datetime] | None) -> Iterator[Sandbox]:
    """A fresh seeded sandbox at ``db_path``, closed after the test."""
    sandbox = Sandbox.open(db_path, today, clock=sandbox_clock)
    yield sandbox
    sandbox.close()
