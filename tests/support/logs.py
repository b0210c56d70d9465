"""Capture of what the runtime logs, to check that nothing secret reaches the logs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loguru import logger


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every loguru message emitted during the test, DEBUG and up (message text only)."""
    lines: list[str] = []
    sink_id = logger.add(lambda message: lines.append(str(message)), level="DEBUG", format="{message}")
    yield lines
    logger.remove(sink_id)
