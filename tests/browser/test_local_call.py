"""Local mode in a real browser: Chromium ↔ `mediabloom demo` over aiortc, no LiveKit server.

The fake microphone plays a tour-booking caller (Piper voice) on a fixed timeline; the test
reads what the page showed and heard: the caller's words in the transcript, agent audio
measured with WebAudio, the book_tour run and a waterfall in the trace panel, exactly one
booking in the sandbox, and the HTML trace of the same call.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.calls import BOOKING_CALLER, bookings, newest_call_id, typed_booking, voice_booking_call
from tests.browser.harness import caller_wav, chromium, cue_microphone, play_cue, screenshot, wait_for, widget_state
from tests.browser.servers import Server
from worker.trace.html import write_html
from worker.trace.story import load_story


def test_voice_call_books_a_tour_and_the_page_hears_the_agent(demo: Server, browser_tmp: Path) -> None:
    wav = browser_tmp / "caller.wav"
    caller_wav(wav, BOOKING_CALLER, tail=40)
    before = bookings(demo.data_dir)
    with chromium(browser_tmp, wav) as browser:
        page = browser.new_page(viewport={"width": 420, "height": 900})
        state = voice_booking_call(page, demo.url + "/", browser_tmp, "local-call-widget.png")
        heard = state["heard_ms"]

        call_id = newest_call_id(demo.data_dir)
        html = write_html(load_story(call_id, browser_tmp / "no-runs", demo.data_dir), browser_tmp / "trace.html")
        trace_page = browser.new_page(viewport={"width": 900, "height": 1200})
        trace_page.goto(html.as_uri())
        assert trace_page.locator("tr.tool[data-tool='book_tour']").count() == 1
        assert trace_page.locator("audio#rec[src^='data:audio/wav;base64,']").count() == 1  # the demo recorded the call
        screenshot(trace_page, browser_tmp, "local-call-trace.png")
    assert bookings(demo.data_dir) == before + 1
    print(f"local mode, caller stops → agent audio in the page: {[round(ms) for ms in heard]} ms")


def test_a_typed_request_books_over_the_text_path(demo: Server, browser_tmp: Path) -> None:
    before = bookings(demo.data_dir)
    with chromium(browser_tmp, None) as browser:
        typed_booking(browser.new_page(), demo.url + "/", "1 PM")
    assert bookings(demo.data_dir) == before + 1


@pytest.mark.parametrize(("browser_mic", "kind", "title"), [
    ({"deny_mic": True}, "mic_denied", "Microphone blocked"),
    ({"no_mic": True}, "no_microphone", "No microphone"),
])
def test_a_missing_or_denied_microphone_says_so_and_the_page_stays_usable(
        demo: Server, browser_tmp: Path, browser_mic: dict[str, bool], kind: str, title: str) -> None:
    with chromium(browser_tmp, None, **browser_mic) as browser:
        page = browser.new_page()
        page.goto(demo.url + "/")
        page.get_by_role("button", name="Call").click()
        wait_for(page, "w.phase === 'error'", 15, "the microphone error")
        alert = page.get_by_role("alert")
        assert title in alert.inner_text() and "type instead" in alert.inner_text()
        assert widget_state(page)["error"]["kind"] == kind
        assert page.get_by_role("button", name="Retry").is_visible()
        assert page.get_by_label("Type a message").is_enabled()


def test_barge_in_from_the_browser_cuts_the_agent_and_marks_the_transcript(demo: Server, browser_tmp: Path) -> None:
    wav = browser_tmp / "barge.wav"
    # the caller starts talking once the page hears the greeting, and talks over it for seconds
    caller_wav(wav, [(0.0, "Hi there, my name is Dana Whitfield, and I'm calling about a house in Oakland, "
                           "a three bedroom near the lake if you have one.")], tail=15)
    with chromium(browser_tmp, None) as browser:
        page = browser.new_page(viewport={"width": 420, "height": 700})
        cue_microphone(page, wav)
        page.goto(demo.url + "/")
        page.get_by_role("button", name="Call").click()
        wait_for(page, "w.probe.events.some(e => e.kind === 'agent_start')", 40, "the greeting heard by the page")
        play_cue(page)
        wait_for(page, "w.traces.some(t => t.turn === 0)", 20, "the greeting's trace (sent when the caller's turn opens)")
        wait_for(page, "[...w.segments.values()].some(s => s.role === 'agent' && s.interrupted)", 15,
                 "the cut greeting marked in the transcript")
        greeting = next(t for t in widget_state(page)["traces"] if t["turn"] == 0)
        assert greeting["reply"]["interrupted"] is True
        assert len(greeting["reply"]["spoken_text"]) < len(greeting["reply"]["planned_text"])
        cut = page.locator(".mb-agent.mb-interrupted .mb-cut")
        assert cut.count() >= 1 and "cut off" in cut.first.inner_text()
        screenshot(page, browser_tmp, "local-barge-in-widget.png")
        page.get_by_role("button", name="Hang up").click()
        wait_for(page, "w.phase === 'idle'", 10, "the hang-up")
