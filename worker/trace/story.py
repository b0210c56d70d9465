"""A recorded call read back for people: its turns, its recording, and each turn's waterfall.

`mediabloom trace CALL_ID` finds the call wherever the runtime wrote it — a simulated call's
`runs/<call_id>/trace.jsonl` (+ `call.wav`), or a live call's `<data_dir>/traces/<call_id>.jsonl`
(+ `<call_id>.wav` beside it when the transport recorded one) — and both views (terminal and
HTML) draw the same waterfall as the widget's trace panel: end of speech → transcript, then
planner, then synthesis, laid end to end, and the total to first agent audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from worker.trace.records import Latencies, TurnTrace


class TraceNotFound(Exception):
    """No trace file for the call id in any of the places looked at (the message lists them)."""


class Bar(BaseModel):
    label: str
    start: float
    seconds: float


def waterfall(lat: Latencies) -> list[Bar]:
    """Bars in seconds from the end of the caller's speech (same layout as frontend/src/trace_panel.ts)."""
    bars: list[Bar] = []
    at = 0.0
    for label, value in (("transcript", lat.eos_to_final_transcript), ("planner", lat.planner_ttft),
                         ("synthesis", lat.tts_first_audio)):
        if value is not None:
            bars.append(Bar(label=label, start=at, seconds=value))
            at += value
    if lat.eos_to_first_audio is not None:
        bars.append(Bar(label="total", start=0.0, seconds=lat.eos_to_first_audio))
    return bars


@dataclass
class CallStory:
    call_id: str
    trace_path: Path
    turns: list[TurnTrace]
    recording: Path | None

    @property
    def duration(self) -> float:
        return max((t.ended_at or t.started_at for t in self.turns), default=0.0)

    def bookings(self) -> list[str]:
        """Tool runs that changed something for the caller (one line each), for the summary."""
        return [f"{run.name} → {run.result}" for t in self.turns for run in t.tools
                if run.ok and run.name.startswith(("book", "reserve", "schedule"))]


def candidates(call_id: str, runs_dir: Path, data_dir: Path) -> list[tuple[Path, Path]]:
    """(trace file, recording) pairs, in the order they are looked for."""
    return [
        (runs_dir / call_id / "trace.jsonl", runs_dir / call_id / "call.wav"),
        (data_dir / "traces" / f"{call_id}.jsonl", data_dir / "traces" / f"{call_id}.wav"),
    ]


def load_story(call_id: str, runs_dir: Path, data_dir: Path) -> CallStory:
    if "/" in call_id or call_id.startswith("."):
        raise TraceNotFound(f"{call_id!r} is not a call id")
    places = candidates(call_id, runs_dir, data_dir)
    for trace_path, wav in places:
        if trace_path.is_file():
            turns = [TurnTrace.model_validate_json(line) for line in trace_path.read_text().splitlines() if line.strip()]
            turns.sort(key=lambda t: t.turn)
            return CallStory(call_id, trace_path, turns, wav if wav.is_file() else None)
    looked = ", ".join(str(p) for p, _ in places)
    raise TraceNotFound(f"no trace for call {call_id} (looked at {looked})")
