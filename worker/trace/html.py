"""`mediabloom trace CALL_ID --html FILE`: one standalone page for a call, nothing fetched.

CSS and the few lines of JS are inline; the recording (when there is one) is embedded as a
base64 WAV data URI, downsampled to ~12 kHz to keep the file small. Clicking a turn plays the
recording from that turn (from the moment the caller started speaking, else the turn start).
Everything shown is the trace's own (already redacted) content, HTML-escaped.
"""

from __future__ import annotations

import base64
import io
import json
import wave
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from worker.trace.records import TurnTrace
from worker.trace.story import CallStory, waterfall

PREVIEW_RATE = 12000
"""Speech stays clear at 12 kHz; a 90 s stereo call is then ~5.5 MB of base64."""

CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f5f7fa;color:#1a1a1a}
main{max-width:900px;margin:0 auto;padding:16px}
header{position:sticky;top:0;background:#f5f7fa;padding:8px 0;z-index:1}
h1{font-size:1.2em;margin:0 0 4px} .muted{color:#667085;font-size:.85em}
audio{width:100%;margin-top:6px}
.turn{background:#fff;border:1px solid #d0d5dd;border-radius:10px;padding:10px 12px;margin:10px 0;cursor:pointer}
.turn:focus-visible{outline:3px solid #0b6bcb}
.turn.playing{border-color:#0b6bcb;box-shadow:0 0 0 2px #d1e9ff}
.turn h2{font-size:1em;margin:0 0 6px;display:flex;justify-content:space-between;gap:8px}
.said{margin:2px 0} .who{font-weight:600;display:inline-block;width:56px}
.cut{color:#b42318;font-weight:600;margin-left:6px}
.planned{color:#667085;font-size:.85em;margin-left:56px}
ul{margin:4px 0;padding-left:20px} .trans li{color:#6941c6} .rej li{color:#b54708}
table{border-collapse:collapse;font-size:.85em;margin:4px 0;width:100%}
td,th{border-bottom:1px solid #eaecf0;padding:2px 6px;text-align:left;vertical-align:top}
code{font-family:ui-monospace,monospace;word-break:break-all} .ok{color:#067647} .fail{color:#b42318}
.wf{margin-top:6px}.row{display:grid;grid-template-columns:84px 1fr 64px;gap:6px;align-items:center;font-size:.8em}
.track{position:relative;height:10px;background:#f2f4f7;border-radius:3px}
.bar{position:absolute;top:0;height:10px;border-radius:3px;background:#53b1fd}
.planner .bar{background:#fdb022}.synthesis .bar{background:#32d583}.total .bar{background:#7a5af8}
.ms{text-align:right;font-variant-numeric:tabular-nums}
"""

JS = """
const audio=document.getElementById('rec');
document.querySelectorAll('.turn').forEach(t=>{
  const play=()=>{ if(!audio) return; audio.currentTime=parseFloat(t.dataset.at); audio.play();
    document.querySelectorAll('.turn.playing').forEach(o=>o.classList.remove('playing')); t.classList.add('playing'); };
  t.addEventListener('click',play);
  t.addEventListener('keydown',e=>{ if(e.key==='Enter'||e.key===' '){ e.preventDefault(); play(); } });
});
"""


def _short(value: Any, limit: int = 160) -> str:
    s = json.dumps(value, default=str)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def recording_data_uri(path: Path) -> str:
    """The call recording as a ~12 kHz 16-bit WAV data URI (channels kept: caller left, agent right)."""
    with wave.open(str(path), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"{path}: only 16-bit WAV recordings are supported")
    pcm = np.frombuffer(frames, dtype=np.int16).reshape(-1, channels)
    k = max(1, rate // PREVIEW_RATE)
    if k > 1:  # average k samples: a crude low-pass, plenty for listening to speech
        n = len(pcm) // k * k
        pcm = pcm[:n].reshape(-1, k, channels).mean(axis=1).astype(np.int16)
        rate //= k
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.ascontiguousarray(pcm).tobytes())
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _waterfall(turn: TurnTrace, scale: float) -> str:
    bars = waterfall(turn.latencies)
    if not bars:
        return ""
    rows = "".join(
        f'<div class="row {escape(b.label)}"><span>{escape(b.label)}</span><div class="track"><div class="bar" '
        f'style="left:{100 * b.start / scale:.2f}%;width:{max(0.5, 100 * b.seconds / scale):.2f}%"></div></div>'
        f'<span class="ms">{b.seconds * 1000:.0f} ms</span></div>'
        for b in bars)
    return f'<div class="wf" role="img" aria-label="latency waterfall">{rows}<div class="muted">from end of speech ({escape(turn.latencies.eos_source)})</div></div>'


def _turn(turn: TurnTrace, scale: float) -> str:
    at = turn.caller.speech_started_at if turn.caller and turn.caller.speech_started_at is not None else turn.started_at
    out = [f'<section class="turn" tabindex="0" data-turn="{turn.turn}" data-at="{max(0.0, at):.3f}">',
           f"<h2><span>Turn {turn.turn} · {escape(turn.state.before.state)} → {escape(turn.state.after.state)}</span>"
           f'<span class="muted">▶ {at:.1f} s</span></h2>']
    if turn.caller is not None:
        out.append(f'<p class="said"><span class="who">Caller</span>{escape(turn.caller.final_transcript)}</p>')
    reply = turn.reply.spoken_text or turn.reply.planned_text
    if reply:
        cut = '<span class="cut">⟂ cut off</span>' if turn.reply.interrupted else ""
        out.append(f'<p class="said"><span class="who">Agent</span>{escape(reply)}{cut}</p>')
        if turn.reply.interrupted and turn.reply.planned_text and turn.reply.planned_text != turn.reply.spoken_text:
            out.append(f'<p class="planned">planned: {escape(turn.reply.planned_text)}</p>')
    if turn.state.transitions:
        items = "".join(f"<li>{escape(str(t.get('from_state')))} → {escape(str(t.get('to_state')))} "
                        f"({escape(str(t.get('because')))})</li>" for t in turn.state.transitions)
        out.append(f'<ul class="trans">{items}</ul>')
    if turn.tools:
        rows = "".join(
            f'<tr class="tool" data-tool="{escape(r.name)}"><td class="{"ok" if r.ok else "fail"}">{"✓" if r.ok else "✗"} '
            f"{escape(r.name)}</td><td><code>{escape(_short(r.arguments))}</code></td><td><code>"
            f"{escape(_short(r.result) if r.ok else f'{r.error_code}: {r.error or chr(32)}')}</code></td>"
            f"<td>{r.duration_ms:.0f} ms{f' ×{r.attempts}' if r.attempts > 1 else ''}</td></tr>" for r in turn.tools)
        out.append(f"<table><tr><th>tool</th><th>arguments</th><th>outcome</th><th>time</th></tr>{rows}</table>")
    if turn.planner.rejections:
        items = "".join(f"<li>rejected {escape(r.tool)} by {escape(r.by)} in {escape(r.state)}: {escape(r.reason)}</li>"
                        for r in turn.planner.rejections)
        out.append(f'<ul class="rej">{items}</ul>')
    out.append(_waterfall(turn, scale))
    out.append("</section>")
    return "".join(out)


def render_html(story: CallStory) -> str:
    scale = max([1.0] + [b.start + b.seconds for t in story.turns for b in waterfall(t.latencies)])
    audio = (f'<audio id="rec" controls preload="auto" src="{recording_data_uri(story.recording)}"></audio>'
             if story.recording else '<p class="muted">No recording for this call.</p>')
    turns = "".join(_turn(t, scale) for t in story.turns)
    title = escape(f"Trace {story.call_id}")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{title}</title><style>{CSS}</style></head><body><main>'
            f"<header><h1>{title}</h1><div class=\"muted\">{len(story.turns)} turns · {story.duration:.1f} s · "
            f"click a turn to hear it</div>{audio}</header>{turns}</main><script>{JS}</script></body></html>")


def write_html(story: CallStory, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(story), encoding="utf-8")
    return path
