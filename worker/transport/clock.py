"""The one clock every timestamp of a simulated call is measured on."""

from __future__ import annotations

import time

__all__ = ["CallClock"]


class CallClock:
    """Call time: seconds since ``t0`` on ``time.monotonic()``.

    Scenario timing (``after_agent``, ``barge_in``), the recording and the trace all have
    to agree on "when", so they share a monotonic origin instead of each calling
    ``time.monotonic()`` and hoping.
    """

    def __init__(self, t0: float | None = None) -> None:
        self.t0: float = time.monotonic() if t0 is None else t0

    def now(self) -> float:
        """Seconds since the call started."""
        return time.monotonic() - self.t0

    def to_call_time(self, monotonic_t: float) -> float:
        """Convert a ``time.monotonic()`` reading to call time."""
        return monotonic_t - self.t0
