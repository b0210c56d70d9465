"""Human-readable report of a simulated call: one table row per turn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from worker.simulate.runner import CallResult


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.0f}"


def print_report(result: "CallResult", console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"{result.scenario} — {result.call_id}", show_lines=True)
    for col in ("#", "caller (recognised)", "agent said", "tools", "state", "latency ms"):
        table.add_column(col, overflow="fold")
    for t in result.turns:
        tools = "\n".join(
            f"{'✓' if r.ok else '✗'} {r.name}({', '.join(f'{k}={v}' for k, v in r.arguments.items())})"
            + (f" → {r.error_code}" if not r.ok else "")
            for r in t.tools
        )
        tools += "".join(f"\n⊘ {r.tool}: {r.reason}" for r in t.planner.rejections)
        lat = t.latencies
        ear = "at the ear" if (lat.eos_source, lat.first_audio_source) == ("audio", "audio") else "not at the ear"
        latency = (f"turn {_ms(lat.eos_to_first_audio)} ({ear})\n"
                   f"stt {_ms(lat.eos_to_final_transcript)}\nplan {_ms(lat.planner_ttft)}\n"
                   f"tts {_ms(lat.tts_first_audio)}\nframework {_ms(lat.eos_to_first_frame_framework)}")
        agent = t.reply.spoken_text + (" [interrupted]" if t.reply.interrupted else "")
        state = t.state.before.state if t.state.before.state == t.state.after.state else f"{t.state.before.state} → {t.state.after.state}"
        table.add_row(str(t.turn), t.caller.final_transcript if t.caller else "(greeting)", agent, tools, state, latency)
    console.print(table)
    console.print(f"effects: {result.effects}   final state: {result.final_state['state']} "
                  f"(ended={result.final_state['ended']})")
    console.print(f"trace: {result.trace_path}\naudio: {result.wav_path}")
    if result.failures:
        for f in result.failures:
            console.print(f"[red]✗ {f}[/red]")
    else:
        console.print("[green]✓ all expectations met[/green]")
