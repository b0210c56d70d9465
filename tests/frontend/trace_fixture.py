"""A small recorded call on disk (trace.jsonl + call.wav), shaped like a simulated call's output."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from worker.trace.records import (
    CallerPart, Latencies, PlannerPart, Rejection, ReplyPart, StatePart, StateSummary, ToolRun, TurnTrace,
)


def _state(name: str, turn: int) -> StateSummary:
    return StateSummary(state=name, phase="listening", speaker="caller", turn=turn, slots={}, in_flight=[], ended=False)


def write_call(runs: Path, call_id: str = "call_fixture01", rate: int = 24000, seconds: float = 6.0) -> Path:
    d = runs / call_id
    d.mkdir(parents=True)
    turns = [
        TurnTrace(call_id=call_id, turn=0, started_at=0.0, ended_at=2.0, planner=PlannerPart(engine="offline", model="m"),
                  reply=ReplyPart(planned_text="Hi, who am I speaking with?", spoken_text="Hi, who am I speaking with?"),
                  state=StatePart(before=_state("qualify", 0), after=_state("qualify", 0))),
        TurnTrace(call_id=call_id, turn=1, started_at=3.5, ended_at=6.0,
                  caller=CallerPart(final_transcript="Book the Grand <Ave> tour tomorrow at 11", speech_started_at=2.25,
                                    speech_ended_at=3.2, true_speech_ended_at=3.1),
                  planner=PlannerPart(engine="offline", model="m", rejections=[
                      Rejection(call_id="c0", tool="cancel_tour", reason="not allowed in schedule", by="state_machine",
                                state="schedule")]),
                  tools=[ToolRun(call_id="c1", name="book_tour", arguments={"listing_id": "L-104", "time": "11:00"}, ok=True,
                                 result={"confirmation": "T-0001"}, started_at=3.6, duration_ms=42.0)],
                  reply=ReplyPart(planned_text="You're booked for 11 AM tomorrow, see you there.",
                                  spoken_text="You're booked for", interrupted=True),
                  state=StatePart(before=_state("schedule", 0), after=_state("confirm", 1), transitions=[
                      {"turn": 1, "from_state": "schedule", "to_state": "confirm", "because": "book_tour succeeded"}]),
                  latencies=Latencies(eos_to_final_transcript=0.45, planner_ttft=0.02, tts_first_audio=0.21,
                                      eos_to_first_audio=0.8, eos_source="audio")),
    ]
    (d / "trace.jsonl").write_text("".join(t.model_dump_json() + "\n" for t in turns))
    t = np.arange(int(rate * seconds)) / rate
    tone = (3000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    with wave.open(str(d / "call.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.stack([tone, tone // 2], axis=1).tobytes())
    return d
