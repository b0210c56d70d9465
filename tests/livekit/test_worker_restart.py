"""A worker dies in the middle of a charge; a new worker starts and finishes it from the journal.

The first worker's sandbox is armed to SIGKILL its job process right after the payment
capture commits (effect done, journal not yet told) and the worker itself is then killed.
The replacement resumes unfinished tool calls at start: the charge completes exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from tests.livekit.helpers import LiveKitServer
from tests.livekit.room_caller import RoomCaller
from tests.livekit.test_room_call import _call, _start_worker, _stop_worker
from tests.support.dates import SCENARIO_TODAY
from tools.journal.signing import Signer, load_signing_key
from tools.journal.open import default_journal_url, open_store
from tools.sandbox.core import Sandbox
from worker.engines.piper_tts import synthesize_pcm

RENEWAL = [
    "Sure, my policy number is 4 8 2 1.",
    "March 12th, 1984.",
    "Four five three nine, one four eight eight, zero three four three, six four six seven.",
    "Yes, please go ahead.",
]


def test_killed_worker_resumes_the_charge_exactly_once(livekit_server: LiveKitServer,
                                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.mktemp("restart")
    data = base / "data"
    first = _start_worker(livekit_server, data, base / "worker1.log", MB_FLOW="insurance",
                          MB_SANDBOX_FAULTS="payments.capture:kill",
                          MB_RESUME_SWEEP_SECONDS="0")  # no takeover sweep: this test is the restart path

    async def call() -> RoomCaller:
        caller = await _call(livekit_server, "room-restart")
        await caller.wait_agent_quiet(0.8, 60, caller.joined_at)
        for line in RENEWAL:
            pcm, rate = synthesize_pcm(line)
            end = await caller.say(pcm, rate)
            try:
                await caller.wait_agent_quiet(1.0, 25, end)
            except TimeoutError:
                break  # the job died mid-charge: the agent never answers the "yes"
        await asyncio.sleep(2.0)
        await caller.leave()
        return caller

    try:
        asyncio.run(call())
        assert "sandbox fault armed: payments.capture" in first.log.read_text(errors="replace")
    finally:
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(timeout=10)

    async def journal_state() -> tuple[int, list[tuple[str, str]]]:
        store = await open_store(default_journal_url(data), Signer(load_signing_key("dev", data, None)))
        try:
            return len(await store.call_ids()), await store.unfinished()
        finally:
            await store.close()

    calls, unfinished = asyncio.run(journal_state())
    assert calls == 1 and len(unfinished) == 1, unfinished  # the charge was started, not finished
    sandbox = Sandbox.open(data / "sandbox.db", SCENARIO_TODAY)
    try:
        assert sandbox.payments.count_charges() == 1  # captured before the kill
        receipts_before = len(sandbox.payments.list_receipts()) if hasattr(sandbox.payments, "list_receipts") else None
    finally:
        sandbox.close()

    second = _start_worker(livekit_server, data, base / "worker2.log", MB_FLOW="insurance")
    try:
        deadline = time.monotonic() + 30
        while "resumed 1 unfinished tool call" not in second.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, second.log.read_text(errors="replace")[-2000:]
            time.sleep(0.2)
    finally:
        _stop_worker(second)

    _, unfinished = asyncio.run(journal_state())
    assert unfinished == []
    sandbox = Sandbox.open(data / "sandbox.db", SCENARIO_TODAY)
    try:
        assert sandbox.payments.count_charges() == 1  # resumed from the receipt step: no second charge
        if receipts_before is not None:
            assert len(sandbox.payments.list_receipts()) == receipts_before + 1
    finally:
        sandbox.close()
