"""Resume: finish tool calls a crash left unfinished, from their first incomplete step.

Run by `mediabloom resume [CALL_ID]` and at worker start. Each call's sandbox is the one its
`call_opened` event names (simulated calls keep one per call), else the data directory's.
"""

from __future__ import annotations

from pathlib import Path

from loguru import logger

from tools.executor import ToolExecutor
from tools.registry import ToolOutcome
from tools.sandbox.core import Sandbox
from worker.journaling import Journal
from worker.settings import Settings


async def _sandbox_of(journal: Journal, call_id: str, settings: Settings) -> Sandbox:
    for e in await journal.store.entries(call_id):
        event = (e.payload or {}).get("event", {}) if e.kind == "event" else {}
        if event.get("kind") == "call_opened" and event.get("sandbox"):
            return Sandbox.open(Path(event["sandbox"]), settings.resolved_today())
    return Sandbox.open(settings.data_dir / "sandbox.db", settings.resolved_today())


async def resume_calls(journal: Journal, settings: Settings, call_id: str | None = None) -> list[ToolOutcome]:
    pending = sorted({cid for cid, _ in await journal.store.unfinished() if call_id in (None, cid)})
    outcomes: list[ToolOutcome] = []
    for cid in pending:
        sandbox = await _sandbox_of(journal, cid, settings)
        try:
            executor = ToolExecutor(sandbox=sandbox, store=journal.store)
            done = await executor.resume(cid)
            logger.bind(call_id=cid).info("resumed {} tool call(s)", len(done))
            outcomes += done
        finally:
            sandbox.close()
    return outcomes
