"""Fixtures for the tools tests: a real sandbox database file per test (``tests.support.sandbox``),
in the tools' world (:data:`~tests.support.dates.TOOLS_TODAY`, a Monday) with a ticking clock."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support.clocks import FixedClock
from tests.support.dates import TOOLS_TODAY
from tests.support.logs import log_lines  # noqa: F401  (fixture)
from tests.support.sandbox import db_path, sb, tomorrow  # noqa: F401  (fixtures)


@pytest.fixture
def today() -> date:
    return TOOLS_TODAY


@pytest.fixture
def sandbox_clock() -> FixedClock:
    return FixedClock()
