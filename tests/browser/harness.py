"""Real-browser plumbing: Debian's Chromium driven by Playwright, a fake microphone from a WAV.

No browser download: `executable_path` points at the system Chromium (`MB_CHROMIUM`, default
/usr/bin/chromium). The microphone is Chromium's fake capture device playing a 16-bit WAV
once (`%noloop`); the WAV is made here with Piper (the same voice the agent uses), lines placed
at fixed times after 0.5 s of silence. What the page hears is measured in the page with
WebAudio (the widget's `LevelProbe`), never assumed.
"""

from __future__ import annotations

import os
import shutil
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM = os.environ.get("MB_CHROMIUM", "/usr/bin/chromium")
FRONTEND_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
SCREENSHOTS = Path(os.environ.get("MB_SCREENSHOTS", "/work/wt/screenshots"))
LEAD_IN = 0.5

BASE_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--autoplay-policy=no-user-gesture-required", "--allow-loopback-in-peer-connection"]


def caller_wav(path: Path, lines: list[tuple[float, str]], tail: float = 60.0) -> list[tuple[float, float]]:
    """Write the caller's microphone: each (start second, text) spoken by Piper; returns (start, end) of each."""
    from worker.engines.piper_tts import synthesize_pcm

    rate = 0
    placed: list[tuple[int, np.ndarray]] = []
    spans: list[tuple[float, float]] = []
    for start, text in lines:
        pcm, rate = synthesize_pcm(text)
        at = int((LEAD_IN + start) * rate)
        placed.append((at, pcm))
        spans.append((LEAD_IN + start, LEAD_IN + start + len(pcm) / rate))
    total = max(at + len(pcm) for at, pcm in placed) + int(tail * rate)
    out = np.zeros(total, dtype=np.int16)
    for at, pcm in placed:
        out[at:at + len(pcm)] = pcm
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(out.tobytes())
    return spans


@contextmanager
def chromium(tmp: Path, mic_wav: Path | None, *, deny_mic: bool = False, no_mic: bool = False) -> Iterator[Browser]:
    """A fresh headless Chromium; with `mic_wav` its microphone plays that file once."""
    flags = list(BASE_FLAGS)  # Playwright gives every launch a fresh profile of its own
    if no_mic:  # no capture device at all (a headless machine has none)
        flags.append("--deny-permission-prompts")
    elif deny_mic:  # a microphone exists, but the permission prompt is answered "block"
        flags += ["--use-fake-device-for-media-stream", "--deny-permission-prompts"]
    else:
        flags += ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
        if mic_wav is not None:
            flags.append(f"--use-file-for-fake-audio-capture={mic_wav}%noloop")
    with sync_playwright() as pw:
        browser = launch(pw, flags)
        try:
            yield browser
        finally:
            browser.close()


def launch(pw: Playwright, flags: list[str]) -> Browser:
    return pw.chromium.launch(executable_path=CHROMIUM, args=flags, ignore_default_args=["--mute-audio"])


CUED_MIC_JS = """(() => {
  const wavB64 = %s;
  const cue = window.__mbCue = {granted: false, started: null};
  let ctx = null, dest = null, buffer = null;
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (!constraints || !constraints.audio) return original(constraints);
    ctx = ctx || new AudioContext();
    await ctx.resume();
    dest = dest || ctx.createMediaStreamDestination();
    if (!buffer) {
      const bytes = Uint8Array.from(atob(wavB64), (c) => c.charCodeAt(0));
      buffer = await ctx.decodeAudioData(bytes.buffer);
    }
    cue.granted = true;
    return dest.stream;
  };
  cue.play = () => {
    const src = ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(dest);
    src.start();
    cue.started = performance.now();
  };
})();"""


def cue_microphone(page: Page, wav: Path) -> None:
    """Give the page a microphone that stays silent until `play_cue`: the caller talks on an event, not a clock.

    A fixed-time WAV races the agent under load (the greeting may start after the caller's line has
    already been spoken); a cue lets a test speak *while* the agent is audible. Implemented by
    replacing `getUserMedia` (before any page script runs) with a WebAudio stream the WAV is played into.
    """
    import base64
    import json

    page.add_init_script(CUED_MIC_JS % json.dumps(base64.b64encode(wav.read_bytes()).decode()))


def play_cue(page: Page) -> None:
    """Start the cued WAV into the page's microphone now (`cue_microphone` must have been called)."""
    page.evaluate("() => window.__mbCue.play()")


def widget_state(page: Page) -> dict[str, Any]:
    """What the widget shows and measured, read from the page (`window.MediaBloom.widgets[0]`)."""
    return page.evaluate("""() => {
      const w = window.MediaBloom.widgets[0];
      return {phase: w.phase, agentState: w.agentState, error: w.lastError && {kind: w.lastError.kind, message: w.lastError.message},
              segments: [...w.segments.values()], traces: w.traces, events: w.probe.events,
              agentLoudPolls: w.probe.agentLoudPolls, now: performance.now()};
    }""")


def wait_for(page: Page, predicate: str, timeout: float, what: str) -> None:
    """Wait until a JS predicate over `w` (the widget) holds; the failure says what was awaited."""
    try:
        page.wait_for_function(f"() => {{ const w = window.MediaBloom.widgets[0]; return !!({predicate}); }}",
                               timeout=timeout * 1000, polling=100)
    except Exception as exc:  # noqa: BLE001 - rethrown with the widget's state for the report
        state = widget_state(page)
        brief = {k: state[k] for k in ("phase", "agentState", "error", "agentLoudPolls")}
        brief["transcript"] = [(s["role"], s["text"]) for s in state["segments"]]
        brief["tools"] = [r["name"] for t in state["traces"] for r in t["tools"]]
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; widget: {brief}") from exc


def screenshot(page: Page, tmp: Path, name: str) -> Path:
    """Save a full-page screenshot under the test's tmp dir and copy it to SCREENSHOTS for people."""
    path = tmp / name
    page.screenshot(path=str(path), full_page=True)
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / name)
    except OSError:
        pass  # a read-only or missing share must not fail the test
    return path


def latencies_ms(events: list[dict[str, Any]]) -> list[float]:
    """The caller's last stop before each agent audio onset → that onset, as the page heard them.

    Only the last `caller_stop` before an `agent_start` counts: an earlier one (a pause inside
    the caller's line, or a blip on the fake microphone before the first line, which paired with
    the first answer 20 s later in CI) is not where the caller finished."""
    out = []
    for i, e in enumerate(events):
        if e["kind"] != "caller_stop":
            continue
        nxt = next((f for f in events[i + 1:] if f["kind"] in ("agent_start", "caller_stop")), None)
        if nxt is not None and nxt["kind"] == "agent_start":
            out.append(nxt["t"] - e["t"])
    return out


def settle(seconds: float) -> None:
    time.sleep(seconds)
