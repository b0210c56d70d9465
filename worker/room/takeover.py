"""Take over what a dead worker left unfinished, while this worker runs.

Several workers share one journal (PostgreSQL) in a cluster. A worker that dies mid-call
leaves tool calls claimed by its job process. Every live worker sweeps the journal every
`MB_RESUME_SWEEP_SECONDS` with the same `resume` the CLI runs: the journal's owners and leases
decide, so a call whose owner still runs (or may: another host, lease not yet expired) is left
alone, and one whose owner is gone is finished once, from its first incomplete step. The sweep
runs in its own thread and event loop, beside livekit-agents' job loop, and never raises.
"""

from __future__ import annotations

import asyncio
import threading

from loguru import logger

from worker.journaling import open_journal
from worker.resume import NOT_FAILED, resume_calls
from worker.settings import Settings


async def sweep_once(settings: Settings, when: str) -> int:
    """One pass; logs and returns how many tool calls it finished or closed."""
    journal = await open_journal(settings)
    try:
        looked_at = await resume_calls(journal, settings)
    finally:
        await journal.store.close()
    outcomes = [o for o in looked_at if o.error_code not in NOT_FAILED or o.ok]
    held = sum(1 for o in looked_at if o.error_code == "running_elsewhere")
    if held:
        logger.info("left {} tool call(s) to their owners, claims held ({})", held, when)
    if outcomes:
        logger.info("resumed {} unfinished tool call(s) {}: {}", len(outcomes), when,
                    ", ".join(f"{o.name}={'ok' if o.ok else o.error_code}" for o in outcomes))
    return len(outcomes)


def start_sweeps(settings: Settings, every: float) -> threading.Event | None:
    """Sweep every `every` seconds in a daemon thread; set the returned event to stop. 0 = never."""
    if every <= 0:
        return None
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            try:
                asyncio.run(sweep_once(settings, "(takeover sweep)"))
            except Exception as exc:  # noqa: BLE001 - a failed sweep is retried at the next one
                logger.warning("takeover sweep failed: {}: {}", type(exc).__name__, str(exc)[:200])

    threading.Thread(target=run, name="takeover-sweep", daemon=True).start()
    return stop
