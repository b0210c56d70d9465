"""The tour-booking call both transports are tested with, and the checks run on every one."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.browser.harness import latencies_ms, screenshot, wait_for, widget_state
from tools.sandbox.core import Sandbox

TODAY = "2026-11-26"  # "tomorrow" is Friday 2026-11-27 in the sandbox calendar

BOOKING_CALLER = [
    # The widget's test, not the hearing's: a common name and "zero" (bench recognition measures
    # names and "oh"). With a neutral name hint Whisper heard this line's "five one oh, four eight
    # two" as "51482" in 2 of 3 browser calls, and the name at 0.7 confidence (read back): the
    # fixed-time lines below cannot answer a question they do not expect.
    (10.0, "Hi, this is Sarah Miller. My number is five one zero, four eight two, seven three nine one. "
          "I'm looking in Oakland, and my budget is about 500 thousand dollars."),
    (34.0, "Yes, that's right."),  # the number read back
    (56.0, "The one on Lakeshore, tomorrow please."),
    (72.0, "Two PM works for me."),
    (84.0, "Yes, please book it."),  # the day, time and name read back
    (98.0, "No, that's all. Thanks, bye."),
]
"""Seconds after the microphone opens (plus 0.5 s of lead-in); gaps leave room for each reply.
The first line waits out connecting, the agent's dispatch (LiveKit) and its greeting."""


def bookings(data_dir: Path) -> int:
    sandbox = Sandbox.open(data_dir / "sandbox.db", date.fromisoformat(TODAY))
    try:
        return sandbox.calendar.count_bookings()
    finally:
        sandbox.close()


def newest_call_id(data_dir: Path) -> str:
    traces = sorted((data_dir / "traces").glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    assert traces, f"no trace file under {data_dir / 'traces'}"
    return traces[-1].stem


def voice_booking_call(page: Page, url: str, tmp: Path, shot: str) -> dict[str, Any]:
    """Press Call, let the fake microphone book the tour, check what the page showed and heard."""
    page.goto(url)
    page.get_by_role("button", name="Call").click()
    wait_for(page, "w.phase === 'in_call'", 30, "the call to connect")
    wait_for(page, "w.probe.agentLoudPolls > 40", 30, "the greeting to be heard in the page")
    wait_for(page, "[...w.segments.values()].some(s => s.role === 'user' && /sarah/i.test(s.text))", 40,
             "the caller's words in the transcript")
    wait_for(page, "w.traces.some(t => t.tools.some(r => r.name === 'book_tour' && r.ok))", 110,
             "a successful book_tour in the trace panel")
    wait_for(page, "w.phase === 'idle'", 40, "the agent to end the call after the goodbye")
    state = widget_state(page)
    screenshot(page, tmp, shot)

    assert state["error"] is None
    assert page.locator(".mb-tools li[data-tool='book_tour']").count() == 1
    assert page.locator(".mb-waterfall .mb-bar-total .mb-bar").count() >= 2
    agent_lines = [s["text"] for s in state["segments"] if s["role"] == "agent"]
    assert any("booked" in t.lower() for t in agent_lines), agent_lines
    heard = latencies_ms(state["events"])
    assert len(heard) >= 3, state["events"]  # the caller's lines were answered with audio the page heard
    assert all(0 < ms < 8000 for ms in heard), heard
    state["heard_ms"] = heard
    return state


def typed_booking(page: Page, url: str, slot: str) -> dict[str, Any]:
    """Book a tour by typing only (no microphone); each line waits for the agent's answer."""
    page.goto(url)
    box = page.get_by_label("Type a message")
    lines = [("Hi, I'm Sam Ortiz, my number is 415 555 0134. I'm looking in Oakland and my budget is 500 thousand dollars.",
              "is that right"),
             ("Yes, that's right.", "found"),
             ("The one on Lakeshore, tomorrow please.", "which time works"),
             (f"{slot} works for me.", "shall I book"),
             ("Yes, please book it.", "booked")]
    for n, (text, reply) in enumerate(lines):
        box.fill(text)
        box.press("Enter")
        wait_for(page, "w.phase === 'in_call'", 30, "the text call to connect")
        wait_for(page, f"[...w.segments.values()].some(s => s.role === 'agent' && /{reply}/i.test(s.text))",
                 45, f"the agent's answer to typed line {n + 1} ({reply!r})")
    box.fill("No, that's all. Thanks, bye.")
    box.press("Enter")
    wait_for(page, "w.traces.some(t => t.tools.some(r => r.name === 'book_tour' && r.ok))", 30,
             "book_tour in the trace after typed requests")
    state = widget_state(page)
    typed = [s["text"] for s in state["segments"] if s.get("typed")]
    assert typed[3] == f"{slot} works for me.", typed
    assert state["error"] is None
    return state
