"""One local-mode demo server shared by this directory's local-mode tests (engines load once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.servers import Server, mediabloom


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with mediabloom(tmp_path_factory.mktemp("demo"), "demo") as server:
        yield server


@pytest.fixture
def browser_tmp(tmp_path: Path) -> Path:
    return tmp_path
