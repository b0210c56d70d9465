"""End to end: whole calls through real Silero VAD, Whisper, the planner, Piper and SQLite.

These are the product's acceptance tests: the scenario files that ship in `scenarios/` must
complete with exactly one effect each, every turn traced with all its fields, and no card
number in clear in the trace, the logs or the sandbox.
"""

from __future__ import annotations

import asyncio
import json
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from loguru import logger

from tests.support.card_leaks import assert_no_card, texts_of
from worker.logs import setup_logging
from worker.room.trace_publisher import TracePublisher
from worker.settings import load_settings
from worker.simulate.runner import SimulatedCall, summary
from worker.simulate.scenario import load_scenario
from worker.trace.records import TurnTrace

ROOT = Path(__file__).resolve().parents[2]
CARD = "4539148803436467"


def run(name: str, tmp_path: Path, **overrides: object):
    overrides.setdefault("data_dir", tmp_path / "data")
    settings = load_settings(**overrides)
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    return asyncio.run(SimulatedCall(scenario, settings, tmp_path).run())


def _stereo_energy(path: Path) -> tuple[float, float]:
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 2 and w.getsampwidth() == 2
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2).astype(np.float64)
    return float(np.sqrt((data[:, 0] ** 2).mean())), float(np.sqrt((data[:, 1] ** 2).mean()))


def _assert_traced(result) -> list[TurnTrace]:
    lines = result.trace_path.read_text().splitlines()
    turns = [TurnTrace.model_validate_json(line) for line in lines]
    assert [t.turn for t in turns] == list(range(len(turns)))
    for t in turns[1:]:
        assert t.caller and t.caller.final_transcript
        assert t.reply.spoken_text and t.reply.planned_text
        assert t.planner.engine == "offline" and t.planner.model
        assert t.latencies.eos_to_first_audio is not None and 0 < t.latencies.eos_to_first_audio < 10
        assert t.latencies.eos_to_final_transcript is not None
        assert t.latencies.tts_first_audio is not None
        assert t.state.before.turn == t.turn - 1
    return turns


def test_tour_booking_books_exactly_once(tmp_path: Path) -> None:
    result = run("tour_booking", tmp_path)
    assert result.failures == []
    assert result.effects["bookings"] == 1
    turns = _assert_traced(result)
    booked = [r for t in turns for r in t.tools if r.name == "book_tour" and r.ok]
    assert len(booked) == 1 and booked[0].arguments["listing_id"] == "L-101"
    assert result.final_state["state"] == "done" and result.final_state["ended"]
    caller_rms, agent_rms = _stereo_energy(result.wav_path)
    assert caller_rms > 50 and agent_rms > 50
    s = summary(result)
    assert s["expectations_met"] and Path(s["artifacts"]["trace"]).exists()


def test_insurance_renewal_charges_once_and_never_leaks_the_card(tmp_path: Path) -> None:
    log_lines: list[str] = []
    setup_logging("DEBUG", sink=log_lines.append)  # the process's own log output, as the CLI sets it up
    try:
        result = run("insurance_renewal", tmp_path)
    finally:
        logger.remove()
        logger.add(sys.stderr)
    assert result.failures == []
    assert result.effects["charges"] == 1
    turns = _assert_traced(result)
    charge = next(r for t in turns for r in t.tools if r.name == "charge_card")
    assert charge.arguments["card_number"].endswith("6467") and CARD not in json.dumps(charge.arguments)
    journal = [p.read_bytes() for p in (tmp_path / "data").glob("journal.db*")]
    assert journal, "the call was journaled"
    blobs = [result.trace_path.read_bytes(), result.sandbox_path.read_bytes(), "\n".join(log_lines).encode(), *journal]
    for blob in blobs:
        assert CARD.encode() not in blob
        assert b"4539 1488 0343 6467" not in blob
    # in any form (words, spaced digits, split across partials): every sink, read by the oracle
    trace_texts = [s for line in result.trace_path.read_text().splitlines() for s in texts_of(json.loads(line))]
    assert_no_card(trace_texts, CARD, "trace.jsonl")
    assert_no_card(log_lines, CARD, "log output")  # the caller lines are logged too, in words
    assert any("caller line 3: •••• 6467" in line for line in log_lines)
    assert_no_card([b.decode("utf-8", "replace") for b in journal], CARD, "journal")
    room = FakeRoom()
    publisher = TracePublisher(room, "caller")  # type: ignore[arg-type]
    asyncio.run(_publish_all(publisher, turns))
    assert len(room.payloads) == len(turns)
    assert_no_card([s for p in room.payloads for s in texts_of(json.loads(p))], CARD, "data messages")
    # the recording: owner-only, and the caller is silent where they read the card
    assert result.wav_path.stat().st_mode & 0o777 == 0o600
    said = [t.caller for t in turns if t.caller and "••••" in t.caller.final_transcript]
    assert said, "the card turn was masked in the trace"
    with wave.open(str(result.wav_path)) as w:
        rate = w.getframerate()
        left = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2)[:, 0]
    for c in said:
        assert c.speech_started_at is not None and c.speech_ended_at is not None
        span = left[int((c.speech_started_at - 0.4) * rate) : int((c.speech_ended_at + 0.4) * rate)]
        assert len(span) > rate and not span.any(), "the caller's card is audible in call.wav"
    assert np.abs(left).max() > 1000  # the rest of the caller is still there


class FakeRoom:
    """Just enough of `rtc.Room` for `TracePublisher`: records every payload."""

    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.local_participant = self

    async def publish_data(self, payload: str, **_: object) -> None:
        self.payloads.append(payload)


async def _publish_all(publisher: TracePublisher, turns: list[TurnTrace]) -> None:
    for t in turns:
        publisher.publish(t)
    await publisher.drain()
