"""Resume: finish tool calls a crash left unfinished, from their first incomplete step.

Run by `mediabloom resume [CALL_ID]` and at worker start (several workers may share one
journal: a call another live worker still runs is left to it, see `ToolExecutor.resume`).
Each call's sandbox is the one its `call_opened` event names (recorded as an absolute path,
so resuming from another working directory finds the same one), else the data directory's.

A sandbox that is not there is never created: an empty one would answer "not found" to the
capture of an authorization that exists in the real one, and that failure would be recorded
as final. Such a call is reported (`backend_missing`) and left for when the backend is back.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Final

from loguru import logger

from tools.executor import ToolExecutor
from tools.registry import ToolOutcome
from tools.sandbox.core import Sandbox
from worker.call.records import CallEventRecord, CallOpened
from worker.journaling import Journal
from worker.settings import Settings

#: Outcomes that are not failures of the resumed call: it is left alone, or there was nothing to run.
NOT_FAILED: Final[frozenset[str]] = frozenset({"running_elsewhere", "interrupted"})
BACKEND_MISSING: Final[str] = "backend_missing"


async def _opened(journal: Journal, call_id: str) -> CallOpened | None:
    for e in await journal.store.entries(call_id):
        event = CallEventRecord.model_validate(e.payload or {}).event if e.kind == "event" else None
        if isinstance(event, CallOpened):
            return event
    return None


def sandbox_location(opened: CallOpened | None, settings: Settings) -> Path:
    """Where the call's sandbox is: as recorded (absolute), else the data directory's."""
    recorded = opened.sandbox if opened else None
    if not recorded:
        return (settings.data_dir / "sandbox.db").resolve()
    return Path(recorded).resolve()  # a relative path (older journals) can only mean "from here"


def _today(opened: CallOpened | None, settings: Settings) -> date:
    return opened.today if opened else settings.resolved_today()


async def _tools_of(journal: Journal, call_id: str) -> list[str]:
    keys = {key for cid, key in await journal.store.unfinished() if cid == call_id}
    return sorted({str(e.tool) for e in await journal.store.entries(call_id)
                   if e.kind in ("call_started", "call_requested") and e.tool
                   and (e.idempotency_key in keys or e.kind == "call_requested")})


async def resume_calls(journal: Journal, settings: Settings, call_id: str | None = None) -> list[ToolOutcome]:
    """Resume every unfinished call (or one); one outcome per tool call looked at."""
    pending = {cid for cid, _ in await journal.store.unfinished()} | set(await journal.store.interrupted_calls())
    outcomes: list[ToolOutcome] = []
    for cid in sorted(c for c in pending if call_id in (None, c)):
        opened = await _opened(journal, cid)
        path = sandbox_location(opened, settings)
        if not path.is_file():
            message = (f"the sandbox of call {cid} is not at {path}; nothing was resumed or created "
                       "(restore it, or run resume where the call ran)")
            logger.bind(call_id=cid).error(message)
            outcomes += [ToolOutcome(name=tool, ok=False, error_code=BACKEND_MISSING, error_message=message)
                         for tool in await _tools_of(journal, cid) or ["?"]]
            continue
        sandbox = Sandbox.open(path, _today(opened, settings))
        try:
            executor = ToolExecutor(sandbox=sandbox, store=journal.store, lease_s=settings.journal_lease_seconds)
            done = await executor.resume(cid) + await executor.close_interrupted(cid)
            logger.bind(call_id=cid).info("resumed {} tool call(s)", len(done))
            outcomes += done
        finally:
            sandbox.close()
    return outcomes
