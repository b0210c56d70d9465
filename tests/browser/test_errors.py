"""The widget's errors in a real browser: the right message, a retry, and a page that still works."""

from __future__ import annotations

from pathlib import Path

from tests.browser.harness import chromium, wait_for, widget_state
from tests.browser.servers import mediabloom

SERVE_ENV = {"LIVEKIT_API_KEY": "devkey", "LIVEKIT_API_SECRET": "secret", "LIVEKIT_URL": "ws://127.0.0.1:9",
             "MB_TOKEN_API_KEY": "browser-test-backend-key-0123456789"}


def test_a_refused_token_and_a_gone_server_are_explained_with_a_retry(tmp_path: Path) -> None:
    with mediabloom(tmp_path, "serve", env=SERVE_ENV) as server, chromium(tmp_path, None) as browser:
        page = browser.new_page()
        page.goto(server.url + "/")
        # the page asks the token endpoint itself, without the site's backend key: refused
        page.get_by_role("button", name="Call").click()
        wait_for(page, "w.phase === 'error'", 20, "the token error")
        alert = page.get_by_role("alert").inner_text()
        assert widget_state(page)["error"]["kind"] == "token_refused", alert
        assert "Call refused" in alert and "refused a call token" in alert
        assert page.get_by_role("button", name="Retry").is_visible()

        server.stop()
        page.get_by_role("button", name="Retry").click()
        wait_for(page, "w.phase === 'error' && w.lastError.kind === 'server_gone'", 20, "the server-gone error")
        alert = page.get_by_role("alert").inner_text()
        assert "Server unreachable" in alert and "cannot be reached" in alert
        assert page.get_by_role("button", name="Retry").is_enabled()
        assert page.get_by_role("button", name="Call").is_enabled()  # no dead page: calling again is one click
        assert page.get_by_label("Type a message").is_enabled()
