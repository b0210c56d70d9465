"""A cluster, not one box: two livekit-server nodes sharing Redis, workers registered with either
node, one PostgreSQL journal. Calls joining through both nodes are spread over the workers;
a draining worker finishes its call while new calls go elsewhere; a dead worker's unfinished
tool call is finished once by a live worker's takeover sweep, only after its lease ran out.

The callers book different slots of the same listing (one sandbox is shared, as a deployment's
calendar would be). Workers take one call each (`MB_WORKER_MAX_CALLS=1`), so LiveKit must place the second call on
the other worker. The offline engines fit two calls at once on 2 cores: N is 2.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from datetime import time as time_of_day

import asyncpg

import numpy as np
import pytest

from tests.cluster.conftest import LEASE_S, SWEEP_S, Cluster
from tests.livekit.helpers import LiveKitServer, make_settings, token_backend
from tests.livekit.room_caller import RoomCaller
from tests.livekit.test_room_call import TOUR, Worker, _stop_worker
from tests.support.dates import SCENARIO_TODAY
from tools.journal.postgres_store import IDEMPOTENCY_TABLE
from tools.journal.records import JournalEntry
from tools.sandbox.core import Sandbox
from worker.engines.piper_tts import synthesize_pcm
from worker.journaling import open_journal
from worker.settings import load_settings
from worker.trace.records import TurnTrace


async def _join(server: LiveKitServer, room: str, agent: str = "mediabloom") -> RoomCaller:
    async with token_backend(make_settings(server, agent_name=agent)) as client:
        token = await client.token(room_name=room, participant_identity=f"caller-{room}",
                                   room_config={"agents": [{"agent_name": agent}]})
    caller = RoomCaller(token.server_url, token.participant_token)
    await caller.join()
    return caller


ASKS_AGAIN = 2
"""How many times a caller answers the same question again before giving up on it."""


async def _answer(caller: RoomCaller, line: str, e2e: list[float]) -> bool:
    """Say `line` and wait for the agent's reply; True if the agent moved on, False if it asked
    the question it had just asked again (it did not get the answer)."""
    asked = caller.questions_since(caller.joined_at)[-1:]
    pcm, rate = synthesize_pcm(line)
    end = await caller.say(pcm, rate)
    await caller.wait_agent_quiet(1.0, 60, end)
    first = caller.first_agent_audio_after(end)
    assert first is not None
    e2e.append(first - end)
    assert any(at > end for at, _ in caller.agent_lines), f"the agent's words never reached the caller: {caller.agent_lines}"
    return not asked or not _asked_again(asked[0], caller.questions_since(end))


def _asked_again(question: str, since: list[str]) -> bool:
    """The agent asked `question` again, maybe in other words: the planner rewords a question
    asked twice in a row ("Which of those homes would you like to see: the first, the second or
    the third?"), keeping its head."""
    head = " ".join(question.rstrip("?").split()[:5]).lower()
    return any(q.lower().startswith(head) or question in q for q in since)


async def _speak(caller: RoomCaller, lines: list[str], e2e: list[float]) -> None:
    """Answer the agent line by line as a person would: when the agent asks the same question
    again (it misheard; Whisper on audio that crossed a loaded machine's WebRTC path does at
    times), say the answer again instead of going on with the next one."""
    for line in lines:
        for _ in range(ASKS_AGAIN + 1):
            if await _answer(caller, line, e2e):
                break
            print(f"\n{caller.room.name}: the agent asked again; saying {line!r} again")
        else:
            raise AssertionError(f"the agent never took {line!r}: {caller.agent_lines[-3:]}")


async def _tour(server: LiveKitServer, room: str, e2e: list[float], delay: float = 0.0,
                slot: str = TOUR[5]) -> RoomCaller:
    await asyncio.sleep(delay)
    caller = await _join(server, room)
    await caller.wait_agent_quiet(0.8, 90, caller.joined_at)
    await _speak(caller, [*TOUR[:5], slot, *TOUR[6:]], e2e)
    await asyncio.sleep(2.0)
    await caller.leave()
    return caller


def _booked(caller: RoomCaller) -> int:
    turns = [TurnTrace.model_validate(t) for t in caller.traces]
    return sum(1 for t in turns for r in t.tools if r.name == "book_tour" and r.ok)


def _bookings(cluster: Cluster) -> int:
    sandbox = Sandbox.open(cluster.data_dir / "sandbox.db", SCENARIO_TODAY)
    try:
        return sandbox.calendar.count_bookings()
    finally:
        sandbox.close()


def _took(worker: Worker, room: str) -> bool:
    """The worker ran a job in `room`: livekit-agents forwards its job processes' log records
    (tagged with the room) to the worker's own log at once; our loguru lines come when the job
    process flushes them."""
    log = worker.log.read_text(errors="replace")
    return f'"room": "{room}"' in log or f"joined room {room} " in log


def _conversation(worker: Worker) -> str:
    """The call as the worker's log tells it (caller and agent lines, tools, states, faults):
    what a failure message needs to show where a call went off its script."""
    marks = ("caller:", "agent:", "agent (interrupted)", "tool ", "state ", "fault", "exit code", "silence")
    lines = [line for line in worker.log.read_text(errors="replace").splitlines()
             if any(m in line for m in marks) and not line.startswith("{")]
    return "\n".join(line[:220] for line in lines[-40:])


def _placed(workers: list[Worker], rooms: list[str], timeout: float = 30.0) -> list[list[str]]:
    """Which rooms each worker's log says it joined, once every room is accounted for (a job
    process's lines can reach the worker's log a little after they were written)."""
    deadline = time.monotonic() + timeout
    while True:
        placed = [[r for r in rooms if _took(w, r)] for w in workers]
        if sum(map(len, placed)) >= len(rooms) or time.monotonic() > deadline:
            return placed
        time.sleep(0.5)


@pytest.fixture(scope="module")
def workers(cluster: Cluster) -> Iterator[list[Worker]]:
    started = [cluster.worker(0, "worker-a"), cluster.worker(1, "worker-b")]
    yield started
    for worker in started:
        _stop_worker(worker)


def test_calls_through_both_nodes_spread_over_both_workers(cluster: Cluster, workers: list[Worker]) -> None:
    before = _bookings(cluster)
    e2e: list[float] = []

    async def run() -> list[RoomCaller]:
        return list(await asyncio.gather(_tour(cluster.nodes[0], "load-1", e2e),
                                         _tour(cluster.nodes[1], "load-2", e2e, delay=6.0,
                                               slot="1 PM works for me.")))

    started = time.monotonic()
    callers = asyncio.run(run())
    rooms = ["load-1", "load-2"]
    per_worker = [len(p) for p in _placed(workers, rooms)]
    print(f"\ncluster load: 2 calls through 2 nodes in {time.monotonic() - started:.0f} s; calls per worker "
          f"{per_worker}; end of speech→first agent audio p50 {np.percentile(e2e, 50):.2f} s "
          f"p95 {np.percentile(e2e, 95):.2f} s over {len(e2e)} turns; failures 0")
    assert [_booked(c) for c in callers] == [1, 1], "\n".join(map(_conversation, workers))
    assert _bookings(cluster) == before + 2
    assert per_worker == [1, 1], per_worker


def test_draining_worker_finishes_its_call_and_new_calls_go_elsewhere(cluster: Cluster,
                                                                       workers: list[Worker]) -> None:
    before = _bookings(cluster)
    e2e: list[float] = []

    async def run() -> tuple[RoomCaller, Worker, Worker]:
        first = await _join(cluster.nodes[0], "drain-1")
        await first.wait_agent_quiet(0.8, 90, first.joined_at)
        await _speak(first, TOUR[:3], e2e)  # name, number, yes to its read-back
        busy = workers[[i for i, p in enumerate(_placed(workers, ["drain-1"])) if p][0]]
        other = next(w for w in workers if w is not busy)
        busy.proc.send_signal(signal.SIGTERM)  # drain: finish the call in progress, take no new one
        await asyncio.sleep(1.0)
        second = await _join(cluster.nodes[1], "drain-2")
        await second.wait_agent_quiet(0.8, 90, second.joined_at)
        await second.leave()
        await _speak(first, [*TOUR[3:5], "12 PM works for me.", *TOUR[6:]], e2e)  # the drained call goes on
        await asyncio.sleep(2.0)
        await first.leave()
        return first, busy, other

    first, busy, other = asyncio.run(run())
    placed = _placed([busy, other], ["drain-2"])
    assert placed == [[], ["drain-2"]], placed
    assert _booked(first) == 1 and _bookings(cluster) == before + 1
    busy.proc.wait(timeout=60)  # it exits once its call is over
    log = busy.log.read_text(errors="replace")
    assert "call closed" in log.split("joined room drain-1", 1)[1]
    print(f"\ncluster drain: worker exited {busy.proc.returncode} after its call; the new call went to the other")


TAKEN = "unfinished tool call(s) (takeover sweep)"
"""What a live worker's log says when its sweep finished a dead worker's tool call."""


def _journal_of(cluster: Cluster, room: str) -> tuple[list[JournalEntry], list[dict[str, object]]]:
    """The call's journal entries and the idempotency records of its calls, from PostgreSQL."""
    settings = load_settings(journal_url=cluster.journal_url, journal_key=cluster.journal_key,
                             data_dir=cluster.data_dir)

    async def read() -> tuple[list[JournalEntry], list[dict[str, object]]]:
        journal = await open_journal(settings, create=False)
        try:
            call = next(c for c in await journal.store.call_ids() if c.startswith(f"call_{room}_"))
            entries = await journal.store.entries(call)
        finally:
            await journal.store.close()
        conn = await asyncpg.connect(cluster.journal_url)
        try:
            rows = await conn.fetch(f"SELECT tool, status, owner FROM {IDEMPOTENCY_TABLE} WHERE scope = $1", call)
        finally:
            await conn.close()
        return entries, [dict(r) for r in rows]

    return asyncio.run(read())


def test_dead_workers_tool_call_is_taken_over_only_after_its_lease_ran_out(cluster: Cluster,
                                                                          workers: list[Worker]) -> None:
    """A worker on another host (its own host name: the live worker cannot see its processes,
    only its lease speaks for it; its own agent name, so the call lands on it) books a tour.
    The calendar hangs three times first (4 s each, then retried): for longer than a lease the
    call is in flight, and every sweep of the live worker leaves it to its owner. Then the
    worker dies right after the booking is confirmed, before the confirmation is sent; the live
    worker takes the call over only once the dead owner's lease ran out, and finishes it once."""
    live = next(w for w in workers if w.proc.poll() is None)
    doomed = cluster.worker(0, "worker-doomed", host="mb-other-host", MB_AGENT_NAME="mediabloom-doomed",
                            MB_SANDBOX_FAULTS="calendar.hold:timeout*3@4,calendar.confirm:kill",
                            MB_RESUME_SWEEP_SECONDS="0")
    before = _bookings(cluster)
    swept_before = live.log.read_text(errors="replace").count(TAKEN)

    async def run() -> None:
        caller = await _join(cluster.nodes[0], "kill-1", agent="mediabloom-doomed")
        await caller.wait_agent_quiet(0.8, 90, caller.joined_at)
        await _speak(caller, [*TOUR[:4], "The one on Lakeshore Avenue, tomorrow please.", TOUR[5]], [])
        pcm, rate = synthesize_pcm(TOUR[6])  # yes to the read-back: the job dies while booking, never answers
        for _ in range(ASKS_AGAIN + 1):
            asked = caller.questions_since(caller.joined_at)[-1:]
            end = await caller.say(pcm, rate)
            deadline = time.monotonic() + 90
            while not caller.agent_gone() and not caller.agent_done_after(end, 1.0):
                assert time.monotonic() < deadline, "the doomed job neither answered nor left the room"
                await asyncio.sleep(0.1)
            if caller.agent_gone():  # (it may have begun "Booking that now." first)
                break
            # it answered and listens again: it misheard the time, or it never booked
            assert asked and _asked_again(asked[0], caller.questions_since(end)), _conversation(doomed)
        await caller.leave()

    try:
        asyncio.run(run())
        assert "sandbox fault armed: calendar.confirm" in doomed.log.read_text(errors="replace")
    finally:
        doomed.proc.send_signal(signal.SIGKILL)  # the whole worker is gone now
        doomed.proc.wait(timeout=10)
    assert _bookings(cluster) == before + 1, _conversation(doomed)  # confirmed before the kill
    deadline = time.monotonic() + 30
    while live.log.read_text(errors="replace").count(TAKEN) == swept_before:
        assert time.monotonic() < deadline, live.log.read_text(errors="replace")[-2000:]
        time.sleep(0.5)
    log = live.log.read_text(errors="replace")
    swept = [line for line in log.splitlines() if TAKEN in line]
    assert "book_tour=ok" in swept[-1], swept[-1]
    time.sleep(2 * SWEEP_S + 1)  # two more sweeps: nothing left to take over, and no second booking
    log = live.log.read_text(errors="replace")
    assert log.count(TAKEN) == swept_before + 1, [line for line in log.splitlines()
                                                  if TAKEN in line or "tool call(s)" in line][-6:]
    assert _bookings(cluster) == before + 1

    # the journal: who held the claim, and when the live worker took it over
    entries, records = _journal_of(cluster, "kill-1")
    booking = [e for e in entries if e.tool == "book_tour"]
    requested = next(e for e in booking if e.kind == "call_requested")
    owner = str((requested.payload or {})["owner"])
    assert owner.startswith("mb-other-host:"), owner  # claimed by the worker on the other host
    holds = [e for e in booking if e.step == "hold_slot" and e.kind in ("step_failed", "step_succeeded")]
    assert [e.kind for e in holds] == ["step_failed"] * 3 + ["step_succeeded"], [(e.kind, e.attempt) for e in holds]
    confirms = [e for e in booking if e.step == "confirm_event" and e.kind == "step_started"]
    assert len(confirms) == 2, [(e.kind, e.step) for e in booking]  # the dead owner's, then the taker's
    in_flight = confirms[0].at - requested.at
    waited = confirms[1].at - confirms[0].at  # the owner died right after its confirm began
    assert in_flight > LEASE_S, in_flight  # longer than a lease: only renewals kept the claim
    died = datetime.fromtimestamp(confirms[0].at).time()
    left = [line for line in log.splitlines() if "still running in mb-other-host:" in line
            and (at := re.search(r"\d\d:\d\d:\d\d\.\d{3}", line)) and time_of_day.fromisoformat(at.group()) < died]
    assert len(left) >= 2, "the live worker's sweeps never looked at the call while its owner ran"
    # taken over only after the lease ran out: the last renewal came at most a third of a lease
    # before the owner died, so the claim was held for at least two thirds of a lease after it
    assert 2 * LEASE_S / 3 - 0.5 <= waited <= LEASE_S + 2 * SWEEP_S + 5, waited
    assert [e.kind for e in booking][-1] == "call_succeeded"
    assert sum(1 for e in booking if e.kind == "call_succeeded") == 1
    (record,) = [r for r in records if r["tool"] == "book_tour"]
    assert record["status"] == "succeeded"
    taker = str(record["owner"]).split(":")
    assert taker[0] == socket.gethostname() and int(taker[1]) == live.proc.pid, record  # the live worker's sweep
    print(f"\ncluster takeover: {swept[-1].split('takeover: ')[-1]}; the call was in flight {in_flight:.1f} s "
          f"(lease {LEASE_S:.0f} s) and left to its live owner by {len(left)} sweeps; taken over "
          f"{waited:.1f} s after its owner died")
