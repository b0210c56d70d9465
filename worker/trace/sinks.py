"""Where finished turn traces go: the call's trace file, and whatever a transport adds.

A sink takes each finished `TurnTrace` (`publish`, synchronous: it is called from session
callbacks) and is drained once when the call closes (`drain`: send what is pending, close
what is open). The LiveKit room's `TracePublisher` is one; a browser transport's data channel
would be another.

The trace file is opened in exclusive-create mode ("x"): a call id names exactly one call, so
its file must be new. Appending ("a") would silently interleave two calls that happened to
share an id, and truncating ("w") would destroy the earlier call's record; refusing the second
call before it starts is the only choice that loses nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from worker.trace.records import TurnTrace


class TraceSink(Protocol):
    def publish(self, turn: TurnTrace) -> None: ...

    async def drain(self) -> None: ...


class TraceFile:
    """One JSON line per turn, flushed as each turn ends (a crash loses at most the open turn)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("x", encoding="utf-8")

    def publish(self, turn: TurnTrace) -> None:
        self._file.write(turn.model_dump_json() + "\n")
        self._file.flush()

    async def drain(self) -> None:
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed
