"""The widget in LiveKit mode, in a real browser: Chromium → token backend → livekit-server → worker.

The page is served by `mediabloom serve` (GET /api/config says `livekit`); the embedding
site's backend — the only holder of the token API key — is played by a Playwright route that
adds the key to the page's token request. The same tour-booking caller as in local mode, and
the same checks: words in the transcript, agent audio heard (WebAudio), book_tour and a
waterfall in the trace panel (topic `mediabloom.trace`), one booking in the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Route

from tests.browser.calls import BOOKING_CALLER, bookings, voice_booking_call
from tests.browser.harness import caller_wav, chromium, wait_for, widget_state
from tests.browser.servers import mediabloom
from tests.livekit.helpers import API_KEY, LiveKitServer
from tests.livekit.test_room_call import Worker, _start_worker, _stop_worker


@pytest.fixture(scope="module")
def browser_worker(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    base = tmp_path_factory.mktemp("browser-worker")
    worker = _start_worker(livekit_server, base / "data", base / "worker.log", MB_SILENCE_REPROMPT_AFTER="30")
    yield worker
    _stop_worker(worker)


def serve_env(livekit_server: LiveKitServer) -> dict[str, str]:
    return {"LIVEKIT_URL": livekit_server.url, "LIVEKIT_API_KEY": livekit_server.api_key,
            "LIVEKIT_API_SECRET": livekit_server.api_secret, "MB_TOKEN_API_KEY": API_KEY, "MB_AGENT_NAME": "mediabloom"}


def site_backend(route: Route) -> None:
    """The embedding site's backend: it alone holds the token API key and adds it to the request."""
    route.continue_(headers={**route.request.headers, "authorization": f"Bearer {API_KEY}"})


def test_voice_call_over_livekit_books_a_tour(livekit_server: LiveKitServer, browser_worker: Worker, tmp_path: Path) -> None:
    wav = tmp_path / "caller.wav"
    caller_wav(wav, BOOKING_CALLER, tail=40)
    before = bookings(browser_worker.data_dir)
    with mediabloom(tmp_path / "serve", "serve", env=serve_env(livekit_server)) as serve, chromium(tmp_path, wav) as browser:
        page = browser.new_page(viewport={"width": 420, "height": 900})
        page.route("**/api/token", site_backend)
        state = voice_booking_call(page, serve.url + "/", tmp_path, "livekit-call-widget.png")
    assert bookings(browser_worker.data_dir) == before + 1
    print(f"LiveKit mode, caller stops → agent audio in the page: {[round(ms) for ms in state['heard_ms']]} ms")


def test_a_typed_request_over_lk_chat_moves_the_flow(livekit_server: LiveKitServer, browser_worker: Worker,
                                                    tmp_path: Path) -> None:
    """lk.chat text is a caller turn: read by the state machine (slots → find_listings), answered.
    (The whole typed booking runs in local mode: tests/browser/test_local_call.py.)"""
    with mediabloom(tmp_path / "serve", "serve", env=serve_env(livekit_server)) as serve, chromium(tmp_path, None) as browser:
        page = browser.new_page()
        page.route("**/api/token", site_backend)
        page.goto(serve.url + "/")
        box = page.get_by_label("Type a message")
        box.fill("Hi, I'm Sam Ortiz, my number is 415 555 0134. I'm looking in Oakland and my budget is 500 thousand dollars.")
        box.press("Enter")
        wait_for(page, "[...w.segments.values()].some(s => s.role === 'agent' && /is that right/i.test(s.text))",
                 60, "the read-back of the typed phone number")
        box.fill("Yes, that's right.")
        box.press("Enter")
        wait_for(page, "[...w.segments.values()].some(s => s.role === 'agent' && /I found 1 .*: 1420 Lakeshore/i.test(s.text))",
                 45, "the agent's answer once the phone is confirmed")
        box.fill("The one on Lakeshore, tomorrow please.")
        box.press("Enter")  # opens the next turn, which sends the first one's trace
        wait_for(page, "w.traces.some(t => t.tools.some(r => r.name === 'find_listings' && r.ok))", 30,
                 "find_listings in the trace of the typed turn")
        assert widget_state(page)["error"] is None
