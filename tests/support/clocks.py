"""Clocks that make time-stamped rows byte-identical from run to run."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tests.support.dates import TOOLS_TODAY


class FixedClock:
    """A wall clock for the sandbox (``created_at`` columns): each reading advances one second.

    Starts at 09:00 UTC on :data:`TOOLS_TODAY` unless told otherwise, so two runs of a test
    write the same timestamps and successive rows still sort in the order they were made.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.combine(TOOLS_TODAY, time(9, 0), tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now
