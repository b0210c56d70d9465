"""A renewal paid by phone, the card number keyed on the keypad (RFC 2833), never said.

A second line on the same LiveKit SIP stack, set up as an operator would (its own number,
trunk, dispatch rule and agent name), reaches a worker running the insurance flow. The caller
verifies, hears the premium, keys the card and `#`, confirms; the card is charged exactly
once. Then every place the number could have gone is searched for it, in any form the
leak oracle knows (tests/support/card_leaks.py): every file the stack and the worker wrote
(trace, journal, sandbox and vault, logs of livekit-server, livekit-sip, Redis and the worker),
what a hidden observer in the call's room received (transcriptions, livekit-agents' session
events, data packets), and the trace messages as the publisher sends them to the caller.
The sandbox holds the card as a vault token and its last four digits only.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_simulated_calls import FakeRoom, _publish_all
from tests.livekit.test_room_call import Worker, _start_worker, _stop_worker
from tests.sip.conftest import CALLER_ID, PhoneStack, sip_setup
from tests.sip.phone_audio import caller_line, run_caller
from tests.sip.room_monitor import RoomMonitor, wait_for_room
from tests.support.card_leaks import assert_no_card, texts_of
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.room.trace_publisher import TracePublisher
from worker.trace.records import TurnTrace

RATE = 8000
CODEC = "PCMU/8000"
NUMBER = "+15550199"
AGENT = "mediabloom-insurance"
CARD = "4539148803436467"
LINES = ["Sure, my policy number is 4 8 2 1.", "March 12th, 1984.", None, "Yes, please go ahead.",
         "No, that's all. Goodbye."]
"""The renewal scenario's caller (scenarios/insurance_renewal.yaml); None: the card, keyed."""


@pytest.fixture(scope="module")
def insurance_worker(phone_stack: PhoneStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    setup = sip_setup(phone_stack.server, number=NUMBER, MB_AGENT_NAME=AGENT, MB_SIP_TRUNK_NAME="insurance-inbound",
                      MB_SIP_RULE_NAME="insurance-per-call", MB_SIP_ROOM_PREFIX="renewal-")
    assert setup["trunk_created"] and setup["rule_created"], setup
    base = tmp_path_factory.mktemp("insurance-worker")
    worker = _start_worker(phone_stack.server, base / "data", base / "worker.log", MB_FLOW="insurance",
                           MB_AGENT_NAME=AGENT)
    yield worker
    _stop_worker(worker)


def _files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from (p for p in root.rglob("*") if p.is_file())


def test_card_keyed_on_the_phone_charges_once_and_is_never_in_clear(phone_stack: PhoneStack,
                                                                     insurance_worker: Worker, tmp_path: Path) -> None:
    steps: list[dict] = [{"wait_quiet": 1.0, "timeout": 60}]
    for i, text in enumerate(LINES):
        steps.append({"keys": CARD + "#", "gap": 0.15} if text is None
                     else {"say": str(caller_line(text, RATE, tmp_path / f"line{i}.wav"))})
        steps.append({"wait_quiet": 2.0 if LINES[i + 1:i + 2] == [None] else 1.2, "timeout": 45})
    steps += [{"wait_end": 20}, {"hangup": True}]
    monitor = RoomMonitor(phone_stack.server, "renewal-", asyncio.run(RoomMonitor.rooms(phone_stack.server))).start()
    try:
        heard_at = run_caller({"uri": f"sip:{NUMBER}@127.0.0.1:{phone_stack.sip_port}", "from": CALLER_ID,
                               "rate": RATE, "codec": CODEC, "steps": steps}, tmp_path / "caller")
    finally:
        room = wait_for_room(monitor, 1.0)
        monitor.stop()
    assert heard_at["answered_at"] is not None and heard_at["ended_at"] is not None, heard_at
    assert room is not None and monitor.received, "the observer never got into the call's room"

    data = insurance_worker.data_dir
    sandbox = Sandbox.open(data / "sandbox.db", SCENARIO_TODAY)
    try:
        assert sandbox.payments.count_charges() == 1
        assert sandbox.payments.count_vault() == 1
    finally:
        sandbox.close()

    traces = sorted((data / "traces").glob("*.jsonl"))
    assert len(traces) == 1, traces
    turns = [TurnTrace.model_validate_json(line) for line in traces[0].read_text().splitlines() if line.strip()]
    keyed = [t for t in turns if t.caller is not None and t.caller.keyed]
    assert len(keyed) == 1 and keyed[0].caller.final_transcript.startswith("••••"), [t.caller for t in keyed]
    charged = [r for t in turns for r in t.tools if r.name == "charge_card" and r.ok]
    assert len(charged) == 1 and charged[0].arguments["card_number"].endswith("6467"), charged
    assert turns[-1].state.after.ended, turns[-1].state

    # every file the worker and the stack wrote, raw bytes and as text through the oracle
    written = list(_files(data, insurance_worker.log.parent, phone_stack.workdir))
    assert any(p.name == "livekit-sip.log" for p in written) and any(p.name.startswith("journal.db") for p in written)
    for path in written:
        blob = path.read_bytes()
        assert CARD.encode() not in blob, path
        assert_no_card([blob.decode("utf-8", "replace")], CARD, str(path))
    log = insurance_worker.log.read_text(errors="replace")
    assert "keypad entry of 16 digits" in log and "call closed" in log

    # what anyone in the room received, and the trace messages the caller was sent
    assert_no_card([text for _, text in monitor.received], CARD, f"room {room}")
    fake = FakeRoom()
    asyncio.run(_publish_all(TracePublisher(fake, "caller"), turns))  # type: ignore[arg-type]
    assert_no_card([s for p in fake.payloads for s in texts_of(json.loads(p))], CARD, "trace messages")
    print(f"\nphone card: 1 charge, card keyed in {len(CARD)} digits; searched {len(written)} files and "
          f"{len(monitor.received)} room messages ({sorted({t for t, _ in monitor.received})})")
