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
from tests.browser.harness import caller_wav, chromium
from tests.browser.servers import mediabloom
from tests.livekit.helpers import API_KEY, LiveKitServer
from tests.livekit.test_room_call import Worker, _start_worker, _stop_worker


@pytest.fixture(scope="module")
def browser_worker(livekit_server: LiveKitServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    base = tmp_path_factory.mktemp("browser-worker")
    worker = _start_worker(livekit_server, base / "data", base / "worker.log", MB_SILENCE_REPROMPT_AFTER="30")
    yield worker
    _stop_worker(worker)


def test_voice_call_over_livekit_books_a_tour(livekit_server: LiveKitServer, browser_worker: Worker, tmp_path: Path) -> None:
    wav = tmp_path / "caller.wav"
    caller_wav(wav, BOOKING_CALLER, tail=40)
    before = bookings(browser_worker.data_dir)
    env = {"LIVEKIT_URL": livekit_server.url, "LIVEKIT_API_KEY": livekit_server.api_key,
           "LIVEKIT_API_SECRET": livekit_server.api_secret, "MB_TOKEN_API_KEY": API_KEY, "MB_AGENT_NAME": "mediabloom"}
    with mediabloom(tmp_path / "serve", "serve", env=env) as serve, chromium(tmp_path, wav) as browser:
        page = browser.new_page(viewport={"width": 420, "height": 900})

        def site_backend(route: Route) -> None:
            route.continue_(headers={**route.request.headers, "authorization": f"Bearer {API_KEY}"})

        page.route("**/api/token", site_backend)
        state = voice_booking_call(page, serve.url + "/", tmp_path, "livekit-call-widget.png")
    assert bookings(browser_worker.data_dir) == before + 1
    print(f"LiveKit mode, caller stops → agent audio in the page: {[round(ms) for ms in state['heard_ms']]} ms")
