"""Shared fixtures of the call tests: one real SQLite sandbox per test (``tests.support.sandbox``),
pinned to the shipped scenarios' today."""

from __future__ import annotations

import pytest

from tests.support.sandbox import db_path, sandbox_clock, sb, today  # noqa: F401  (fixtures)
from tools.sandbox.core import Sandbox


@pytest.fixture
def sandbox(sb: Sandbox) -> Sandbox:
    """A fresh seeded sandbox: effects (bookings, charges, cases) are asserted on its rows."""
    return sb
