"""GET /api/config tells the widget its transport; the widget bundle's sources type-check."""

from __future__ import annotations

from pathlib import Path

from tests.livekit.helpers import AGENT_NAME, make_settings, token_backend


async def test_serve_tells_the_widget_to_use_livekit(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><title>widget</title>")
    async with token_backend(make_settings(), frontend_dir=tmp_path) as client:
        async with client.session.get(f"{client.base_url}/api/config") as resp:
            assert resp.status == 200
            body = await resp.json()
    assert body == {"transport": "livekit", "token_endpoint": "/api/token", "agent_name": AGENT_NAME}
