"""Opens the process's journal from settings, and records call events (ending with the seal).

The journal is where effects are accounted for: tool calls and their steps (written by
`tools.executor`) and the state machine's events and decisions (written here, in order), so
that `replay` can re-drive a call and `resume` can finish what a crash interrupted.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loguru import logger

from tools.journal.anchors import AnchorDir
from tools.journal.signing import Signer, load_signing_key
from tools.journal.open import default_journal_url, open_store
from tools.journal.store import JournalStore
from worker.settings import Settings


@dataclass
class Journal:
    store: JournalStore
    signer: Signer
    url: str


async def open_journal(settings: Settings, *, create: bool = True) -> Journal:
    """The journal named by MB_JOURNAL_URL (default SQLite under the data dir), signed.

    ``create=False`` is for commands that read or continue an existing journal (``audit``,
    ``replay``, ``resume``): they never write a key, a data directory or an empty journal,
    and a missing one is an error that says so.
    """
    if create:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = load_signing_key(settings.mode, settings.data_dir,
                           settings.journal_key.get_secret_value() if settings.journal_key else None, create=create)
    signer = Signer(key)
    url = settings.journal_url or default_journal_url(settings.data_dir)
    store = await open_store(url, signer, create=create)
    # Anchors outside the database (docs/journal.md, "Journal anchor"); read-only commands never create the dir.
    store.anchors = AnchorDir(anchor_dir(settings), signer, create=create)
    logger.info("journal: {} (key fingerprint {})", url.split("@")[-1], signer.fingerprint)
    return Journal(store=store, signer=signer, url=url)


def anchor_dir(settings: Settings) -> Path:
    """MB_JOURNAL_ANCHOR_DIR, else ``<data_dir>/journal_anchors`` (absolute: found from any directory)."""
    return (settings.journal_anchor_dir or settings.data_dir / "journal_anchors").resolve()


class EventLog:
    """Writes a call's state-machine events to the journal in the order they happened.

    Session callbacks are synchronous, so events are queued and one task appends them;
    `flush()` (at the end of the call) waits until everything queued is durable and seals the chain.
    """

    def __init__(self, store: JournalStore, call_id: str) -> None:
        self.store = store
        self.call_id = call_id
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._task = asyncio.get_event_loop().create_task(self._write())

    def record(self, payload: dict[str, Any], turn: int | None = None) -> None:
        self._queue.put_nowait({"payload": payload, "turn": turn})

    async def _write(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            try:
                await self.store.append(self.call_id, "event", turn=item["turn"], payload=item["payload"])
            except Exception as exc:  # noqa: BLE001 - a journal hiccup must not end the call
                logger.bind(call_id=self.call_id).error("journal event lost: {}", exc)

    async def flush(self) -> None:
        """At the end of the call: write what is queued, then seal the call's chain.

        The seal is a signed "the conversation ended here" in the chain itself (tool lines a
        later ``resume`` writes may follow it); see ``JournalStore.seal``.
        """
        self._queue.put_nowait(None)
        await self._task
        try:
            await self.store.seal(self.call_id, reason="call ended")
        except Exception as exc:  # noqa: BLE001 - the call is over; an unsealed chain still verifies
            logger.bind(call_id=self.call_id).error("journal seal lost: {}", exc)
