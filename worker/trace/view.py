"""`mediabloom trace CALL_ID`: one call, turn by turn, in the terminal (rich).

Each turn shows what the caller said, what the agent planned and actually said (cut marked),
state transitions, tool runs with arguments and results, rejected proposals, and the latency
waterfall drawn with block characters on a shared scale, so slow steps stand out at a glance.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from worker.trace.records import TurnTrace
from worker.trace.story import CallStory, waterfall

BAR_WIDTH = 40
COLOURS = {"transcript": "cyan", "planner": "yellow", "synthesis": "green", "total": "magenta"}


def _short(value: Any, limit: int = 90) -> str:
    s = json.dumps(value, default=str)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _waterfall(turn: TurnTrace, scale: float) -> Table | None:
    bars = waterfall(turn.latencies)
    if not bars:
        return None
    table = Table.grid(padding=(0, 1))
    table.add_column(width=10)
    table.add_column(width=BAR_WIDTH)
    table.add_column(justify="right")
    for bar in bars:
        left = round(BAR_WIDTH * bar.start / scale)
        width = max(1, round(BAR_WIDTH * bar.seconds / scale))
        drawn = Text(" " * left) + Text("█" * min(width, BAR_WIDTH - left), style=COLOURS.get(bar.label, "white"))
        table.add_row(bar.label, drawn, f"{bar.seconds * 1000:.0f} ms")
    return table


def render_turn(turn: TurnTrace, scale: float) -> Panel:
    parts: list[Any] = []
    if turn.caller is not None:
        parts.append(Text.assemble(("caller  ", "bold blue"), f"“{turn.caller.final_transcript}”"))
    reply = turn.reply.spoken_text or turn.reply.planned_text
    if reply:
        line = Text.assemble(("agent   ", "bold"), reply)
        if turn.reply.interrupted:
            line.append("  ⟂ cut off", style="bold red")
            if turn.reply.planned_text and turn.reply.planned_text != turn.reply.spoken_text:
                line.append(f"\n        planned: {turn.reply.planned_text}", style="dim")
        parts.append(line)
    for tr in turn.state.transitions:
        parts.append(Text(f"state   {tr.get('from_state')} → {tr.get('to_state')}  ({tr.get('because')})", style="magenta"))
    if turn.tools:
        tools = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("tool", "arguments", "outcome", "ms"):
            tools.add_column(col, overflow="fold")
        for run in turn.tools:
            outcome = _short(run.result) if run.ok else f"{run.error_code}: {run.error or ''}"
            tools.add_row(Text(("✓ " if run.ok else "✗ ") + run.name, style="green" if run.ok else "red"),
                          _short(run.arguments), outcome, f"{run.duration_ms:.0f}" + (f" ×{run.attempts}" if run.attempts > 1 else ""))
        parts.append(tools)
    for rej in turn.planner.rejections:
        parts.append(Text(f"rejected {rej.tool} by {rej.by} in {rej.state}: {rej.reason}", style="yellow"))
    if (chart := _waterfall(turn, scale)) is not None:
        parts.append(chart)
    title = f"turn {turn.turn} · {turn.started_at:.1f} s · {turn.state.before.state} → {turn.state.after.state}"
    return Panel(Group(*parts) if parts else Text("(nothing happened)", style="dim"), title=title, title_align="left")


def print_story(story: CallStory, console: Console | None = None) -> None:
    console = console or Console()
    scale = max([1.0] + [b.start + b.seconds for t in story.turns for b in waterfall(t.latencies)])
    console.print(f"[bold]{story.call_id}[/] · {len(story.turns)} turns · {story.duration:.1f} s · {story.trace_path}"
                  + (f" · recording {story.recording}" if story.recording else ""))
    for turn in story.turns:
        console.print(render_turn(turn, scale))
    totals = sorted(t.latencies.eos_to_first_audio for t in story.turns if t.latencies.eos_to_first_audio is not None)
    if totals:
        console.print(f"end of speech → first agent audio: median {totals[len(totals) // 2] * 1000:.0f} ms, "
                      f"max {totals[-1] * 1000:.0f} ms over {len(totals)} turns")
