"""A real phone call: a SIP caller (PJSUA2) dials the number over 127.0.0.1, LiveKit SIP puts the
call in a new room, the dispatch rule sends the agent, and the tour gets booked.

Everything is the deployed path: `mediabloom sip setup` made the trunk and the rule, the worker
runs as `mediabloom worker start`, the caller speaks G.711 (8 kHz narrowband). The caller id
is on the line, so the agent asks to confirm it instead of asking for a number; the caller
says yes. What the caller heard is checked against the trace. (Keypad entry: test_phone_card.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.livekit.test_room_call import TOUR, Worker, _start_worker, _stop_worker
from tests.sip.conftest import CALLER_ID, NUMBER, PhoneStack
from tests.sip.phone_audio import caller_line, first_sound, last_sound, read_wav, run_caller
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.trace.records import TurnTrace

RATE = 8000
CODEC = "PCMU/8000"
CONFIRMED = "Yes, that's right."
"""Said instead of TOUR[1] (the phone number): the answer to the caller id question."""
CALLER_ID_QUESTION = "Is 415 555 0123 the best number to reach you?"


@pytest.fixture(scope="module")
def phone_worker(phone_stack: PhoneStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    base = tmp_path_factory.mktemp("phone-worker")
    worker = _start_worker(phone_stack.server, base / "data", base / "worker.log")
    yield worker
    _stop_worker(worker)


def test_sip_setup_is_idempotent(phone_stack: PhoneStack) -> None:
    first, again = phone_stack.setup_runs
    assert first["trunk_created"] and first["rule_created"]
    assert not again["trunk_created"] and not again["rule_created"] and again["updated"] == []
    assert (again["trunk_id"], again["rule_id"]) == (first["trunk_id"], first["rule_id"])


def test_tour_booking_by_phone(phone_stack: PhoneStack, phone_worker: Worker, tmp_path: Path) -> None:
    # the caller id confirmed is not read back again: the tour's answer to the read-back is left out
    script = [CONFIRMED if i == 1 else text for i, text in enumerate(TOUR) if i != 2]
    steps: list[dict] = [{"wait_quiet": 1.0, "timeout": 60}]
    for i, text in enumerate(script):
        steps.append({"say": str(caller_line(text, RATE, tmp_path / f"line{i}.wav"))})
        steps.append({"wait_quiet": 1.2, "timeout": 45})
    steps += [{"wait_end": 20}, {"hangup": True}]
    heard_at = run_caller({"uri": phone_stack.uri(), "from": CALLER_ID, "rate": RATE, "codec": CODEC,
                           "steps": steps}, tmp_path / "caller")
    heard, rate = read_wav(tmp_path / "caller" / "heard.wav")
    said, _ = read_wav(tmp_path / "caller" / "said.wav")
    assert rate == RATE and heard_at["answered_at"] is not None, heard_at

    # the agent hung up after its goodbye (the caller never had to)
    assert heard_at["ended_at"] is not None
    assert heard_at["steps"][-2]["ok"] and heard_at["steps"][-1].get("skipped") == "call ended", heard_at["steps"]

    # one booking, made by this call
    sandbox = Sandbox.open(phone_worker.data_dir / "sandbox.db", SCENARIO_TODAY)
    try:
        assert sandbox.calendar.count_bookings() == 1
    finally:
        sandbox.close()

    traces = sorted((phone_worker.data_dir / "traces").glob("*.jsonl"))
    assert len(traces) == 1, traces
    turns = [TurnTrace.model_validate_json(line) for line in traces[0].read_text().splitlines() if line.strip()]
    assert [t.turn for t in turns] == list(range(len(script) + 1))
    assert all(t.phone is not None and t.phone.caller_number == CALLER_ID and t.phone.dialed_number == NUMBER
               for t in turns), [t.phone for t in turns]
    # the caller id was confirmed, never asked for: the booking carries it
    spoken = " ".join(t.reply.spoken_text or "" for t in turns)
    assert CALLER_ID_QUESTION in turns[1].reply.spoken_text and "What's the best phone number" not in spoken
    assert turns[2].state.after.confirmed == {"phone": "caller_id"}, turns[2].state.after
    booked = [r for t in turns for r in t.tools if r.name == "book_tour" and r.ok]
    assert len(booked) == 1 and booked[0].arguments.get("phone") == "4155550123"

    # what the caller heard is what the trace says was spoken: a reply after every caller turn,
    # and the greeting recognised from the narrowband recording
    spoken = [t for t in turns if t.reply.spoken_text]
    assert len(spoken) == len(turns)
    said_steps = [s for s in heard_at["steps"] if "say" in s["step"]]
    ends = [s["ended"] for s in said_steps]
    starts = [s["at"] for s in said_steps][1:] + [len(heard) / rate]
    greeting_at = first_sound(heard, rate, heard_at["answered_at"], said_steps[0]["at"])
    assert greeting_at is not None
    e2e = []
    for step, end, nxt in zip(said_steps, ends, starts):
        speech_end = last_sound(said, rate, end)
        assert speech_end is not None
        first = first_sound(heard, rate, speech_end, nxt)
        assert first is not None, f"no reply heard after {step['step']}"
        e2e.append(first - speech_end)
    from livekit import rtc

    from worker.engines.whisper_stt import WhisperSTT

    greeting = heard[int(greeting_at * rate): int(said_steps[0]["at"] * rate)]
    frame = rtc.AudioFrame(greeting.tobytes(), rate, 1, len(greeting))
    recognised = asyncio.run(WhisperSTT().recognize([frame])).alternatives[0].text.lower()
    assert "bloom" in recognised and ("speaking" in recognised or "maya" in recognised), recognised
    print(f"\nphone call: answer→greeting at the ear {greeting_at - heard_at['answered_at']:.2f} s; end of speech→"
          f"first agent audio p50 {np.percentile(e2e, 50):.2f} s p95 {np.percentile(e2e, 95):.2f} s "
          f"over {len(e2e)} turns")

    # the job closed the call (journal flushed and closed) after the hang-up
    log = phone_worker.log.read_text(errors="replace")
    assert "caller id present" in log and "call closed" in log
