"""`mediabloom demo`'s HTTP side without a browser: config, offer validation, the unbuilt widget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from worker.cli import main
from worker.serve.server import running
from worker.serve.local_mode import create_local_app
from worker.settings import load_settings


async def test_config_says_local_and_a_bad_offer_is_a_json_400(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>widget</title>")
    engines: Any = object()  # never touched: no call is answered here
    app = create_local_app(load_settings(data_dir=tmp_path / "data"), engines, frontend_dir=tmp_path, data_dir=tmp_path)
    async with running(app) as url, aiohttp.ClientSession() as http:
        async with http.get(f"{url}/api/config") as resp:
            assert await resp.json() == {"transport": "local", "offer_url": "/api/offer"}
        async with http.post(f"{url}/api/offer", json={"sdp": 1}) as resp:
            assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_offer"
        async with http.get(f"{url}/") as resp:
            assert resp.status == 200 and "widget" in await resp.text()


def test_demo_without_a_built_widget_says_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MB_FRONTEND_DIR", str(tmp_path / "nothing-built"))
    monkeypatch.setenv("MB_DATA_DIR", str(tmp_path / "data"))
    assert main(["demo", "--port", "0"]) == 2
    assert "npm ci && npm run build" in capsys.readouterr().out
