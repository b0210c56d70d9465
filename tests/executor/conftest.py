"""Fixtures of the executor tests: a real SQLite sandbox and a real SQLite journal per test.

Why real files and no mocks: exactly-once is a property of what ends up in the databases
(rows in ``charges``, entries in the journal, the idempotency record), so that is what the
tests read back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.executor.helpers import fast_retry, open_journal
from tests.support.sandbox import db_path, sandbox_clock, sb, today  # noqa: F401  (fixtures; the scenarios' today)
from tools.executor import ToolExecutor
from tools.journal.store import JournalStore
from tools.sandbox import Sandbox


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JournalStore]:
    opened = await open_journal(tmp_path / "journal.db")
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def make_executor(sb: Sandbox, store: JournalStore) -> Callable[..., ToolExecutor]:
    """An executor on the test's sandbox and journal with fast retries (override any field)."""

    def make(**overrides: Any) -> ToolExecutor:
        fields: dict[str, Any] = {"sandbox": sb, "store": store, "retry": fast_retry(), "seed": 7, "wait_s": 5.0}
        fields.update(overrides)
        return ToolExecutor(**fields)

    return make
