"""Fixtures of the planner tests: one real SQLite sandbox per test, pinned to one date."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.planner.driver import TODAY
from tools.sandbox.core import Sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A fresh seeded sandbox: effects (bookings, charges, cases) are asserted on its rows."""
    sb = Sandbox.open(tmp_path / "sb.db", TODAY)
    yield sb
    sb.close()
