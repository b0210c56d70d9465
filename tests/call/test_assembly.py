"""The call assembly: everything a call needs, opened in order and closed in reverse, once.

What must hold whatever happens: each part opened is closed exactly once (however often and
however concurrently `close()` is called), in the reverse order of opening; a failure part-way
through `open()` releases what was already opened and re-raises; the sandbox location is
journaled absolutely; each armed fault is logged once; the trace file is never overwritten.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support.dates import SCENARIO_TODAY
from tests.support.fake_engines import ScriptedLLM
from tests.support.logs import log_lines  # noqa: F401  (fixture)
from tools.journal.sqlite_store import SQLiteJournalStore
from tools.sandbox.core import Sandbox
from worker.call.assembly import CallAssembly
from worker.call.records import CallEventRecord, CallOpened
from worker.call.engine_catalog import Engines
from worker.journaling import EventLog, open_journal
from worker.settings import Settings, load_settings
from worker.trace.records import TurnTrace
from worker.trace.sinks import TraceFile

TODAY = SCENARIO_TODAY

# the session is never started here: the engines only have to exist
ENGINES = Engines(vad=None, stt=None, llm=ScriptedLLM(), tts=None,  # type: ignore[arg-type]
                  names={"vad": "none", "stt": "none", "llm": "offline", "tts": "none"})


class Sink:
    """A transport's extra trace sink (a data channel, say)."""

    def __init__(self, closes: list[str]) -> None:
        self.closes = closes
        self.turns: list[TurnTrace] = []

    def publish(self, turn: TurnTrace) -> None:
        self.turns.append(turn)

    async def drain(self) -> None:
        self.closes.append("sink")


@pytest.fixture
def closes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every release of a part, in the order it happened."""
    seen: list[str] = []

    def spy(cls: Any, method: str, label: str) -> None:
        original = getattr(cls, method)
        if asyncio.iscoroutinefunction(original):
            async def wrapped(self: Any, *a: Any, **kw: Any) -> Any:
                seen.append(label)
                return await original(self, *a, **kw)
        else:
            def wrapped(self: Any, *a: Any, **kw: Any) -> Any:  # type: ignore[misc]
                seen.append(label)
                return original(self, *a, **kw)
        monkeypatch.setattr(cls, method, wrapped)

    spy(Sandbox, "close", "sandbox")
    spy(SQLiteJournalStore, "close", "journal")
    spy(TraceFile, "drain", "trace file")
    spy(EventLog, "flush", "events")
    spy(CallAssembly, "stop", "session")
    return seen


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(data_dir=tmp_path / "data", **overrides)


def assembly(tmp_path: Path, settings: Settings, sinks: list[Any] = (), **kw: Any) -> CallAssembly:  # type: ignore[assignment]
    return CallAssembly(settings, flow="real_estate", today=TODAY, data_dir=tmp_path / "run", call_id="call_asm",
                        sinks=sinks, engines=ENGINES, **kw)


async def journaled(settings: Settings, call_id: str) -> list[CallEventRecord]:
    journal = await open_journal(settings)
    try:
        return [CallEventRecord.model_validate(e.payload) for e in await journal.store.entries(call_id)
                if e.kind == "event"]
    finally:
        await journal.store.close()


async def test_everything_opened_is_closed_once_in_reverse_order(tmp_path: Path, closes: list[str],
                                                                 log_lines: list[str]) -> None:  # noqa: F811
    settings = settings_for(tmp_path, sandbox_faults="payments.capture:timeout*2, calendar.book:error_5xx")
    sink = Sink(closes)
    call = assembly(tmp_path, settings, sinks=[sink])
    await call.open()
    assert closes == []

    await asyncio.gather(call.close(), call.close())
    await call.close()

    # stop the session → flush its events → drain the sinks → trace file → journal → sandbox
    assert closes == ["session", "events", "sink", "trace file", "journal", "sandbox"]
    assert [line.strip() for line in log_lines if line.startswith("sandbox fault armed")] == [
        "sandbox fault armed: payments.capture:timeout*2", "sandbox fault armed: calendar.book:error_5xx"]
    # the greeting turn still open at close reached the trace file and the transport's sink
    lines = call.trace_path.read_text().splitlines()
    assert [TurnTrace.model_validate_json(line).turn for line in lines] == [0]
    assert [t.turn for t in sink.turns] == [0]
    # the sandbox is journaled where it really is, as an absolute path
    [opened] = await journaled(settings, "call_asm")
    assert isinstance(opened.event, CallOpened)
    assert opened.event.sandbox == str((tmp_path / "run" / "sandbox.db").resolve())
    assert Path(opened.event.sandbox).is_absolute() and Path(opened.event.sandbox).exists()
    assert (opened.event.flow, opened.event.today) == ("real_estate", TODAY)


async def test_a_failure_inside_the_call_still_closes_everything_once(tmp_path: Path, closes: list[str]) -> None:
    with pytest.raises(RuntimeError, match="transport broke"):
        async with assembly(tmp_path, settings_for(tmp_path)) as call:
            raise RuntimeError("transport broke")
    assert closes == ["session", "events", "trace file", "journal", "sandbox"]
    with pytest.raises(RuntimeError, match="opens once"):
        await call.open()
    assert closes.count("sandbox") == 1


async def test_an_existing_trace_stops_the_call_and_releases_the_journal_and_sandbox(
        tmp_path: Path, closes: list[str]) -> None:
    trace = tmp_path / "run" / "trace.jsonl"
    trace.parent.mkdir(parents=True)
    trace.write_text("an earlier call's trace\n")
    call = assembly(tmp_path, settings_for(tmp_path), sinks=[Sink(closes)], trace_path=trace)

    with pytest.raises(FileExistsError):
        await call.open()

    assert closes == ["journal", "sandbox"]  # opened before the trace file; nothing else was
    assert trace.read_text() == "an earlier call's trace\n"
    await call.close()
    assert closes == ["journal", "sandbox"]


async def test_a_bad_fault_spec_stops_the_call_before_the_journal_opens(tmp_path: Path, closes: list[str]) -> None:
    call = assembly(tmp_path, settings_for(tmp_path, sandbox_faults="payments.nothing:timeout"))

    with pytest.raises(ValueError, match="unknown op"):
        await call.open()

    assert closes == ["sandbox"]
    assert not (tmp_path / "data" / "journal.db").exists()
