"""Fault injection for sandbox backends.

The runtime's retry, exactly-once and escalation behaviour can only be tested if the
backends can be made to fail on demand, deterministically and at a precise point:

- ``timeout``: the call hangs for ``delay_s`` and then raises a transient error, with no
  effect performed (the request never reached the backend).
- ``error_5xx``: the call fails immediately with a transient error, no effect performed.
- ``crash_after_effect``: the effect is committed, then the call raises a transient error,
  exactly like a connection dropping before the response arrived. This is the case that
  makes naive retries double-book and double-charge.
- ``kill``: the effect is committed, then the whole process dies (SIGKILL) before the
  op returns: a crash *inside* a step, after its effect, for crash-and-resume tests
  (arm it in a child process; the injector is per process).

A fault is armed for ``(backend, op)`` and fires on the next ``times`` calls of that op.
Backends call :meth:`FaultInjector.before` before doing anything and
:meth:`FaultInjector.after` after their write committed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Literal, get_args

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field

from tools.errors import TransientToolError

FaultKind = Literal["timeout", "error_5xx", "crash_after_effect", "kill"]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))

#: Error codes the injected failures carry, so tests can tell them from real failures.
FAULT_CODES: dict[str, str] = {
    "timeout": "timeout",
    "error_5xx": "backend_unavailable",
    "crash_after_effect": "connection_lost",
    "kill": "process_killed",  # never seen by the caller: the process is gone
}


class ArmedFault(BaseModel):
    """A fault waiting to fire ``remaining`` more times."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    op: str
    kind: FaultKind
    remaining: int = Field(ge=1)
    delay_s: float = Field(ge=0)


class FaultEvent(BaseModel):
    """Record of a fault that fired, for assertions and traces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str
    op: str
    kind: FaultKind
    at: datetime


class FaultInjector:
    """Per-sandbox registry of armed faults. Thread-safe: backends run in worker threads."""

    def __init__(
        self,
        known_ops: Mapping[str, frozenset[str]],
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._known_ops = dict(known_ops)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self._lock = threading.Lock()
        self._armed: list[ArmedFault] = []
        self.fired: list[FaultEvent] = []

    def arm(self, backend: str, op: str, kind: FaultKind, times: int = 1, *, delay_s: float = 0.05) -> None:
        """Make the next ``times`` calls of ``backend.op`` fail with ``kind``.

        Unknown backends/ops/kinds raise ``ValueError`` at arm time: a typo here would
        otherwise make a fault test pass vacuously.
        """
        if backend not in self._known_ops:
            raise ValueError(f"unknown backend {backend!r}; known: {sorted(self._known_ops)}")
        if op not in self._known_ops[backend]:
            raise ValueError(f"unknown op {backend}.{op}; known: {sorted(self._known_ops[backend])}")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._armed.append(ArmedFault(backend=backend, op=op, kind=kind, remaining=times, delay_s=delay_s))
        logger.debug("fault armed: {}.{} {} x{}", backend, op, kind, times)

    def disarm(self, backend: str | None = None, op: str | None = None) -> None:
        """Remove armed faults (all, or those matching backend/op)."""
        with self._lock:
            self._armed = [
                f
                for f in self._armed
                if not ((backend is None or f.backend == backend) and (op is None or f.op == op))
            ]

    def arm_spec(self, spec: str) -> list[str]:
        """Arm faults written as `backend.op:kind[*times][@delay_s],...` (settings, test harnesses)."""
        armed = []
        for item in filter(None, (p.strip() for p in spec.split(","))):
            target, _, kind_times = item.partition(":")
            kind_times, _, delay = kind_times.partition("@")
            kind, _, times = kind_times.partition("*")
            backend, _, op = target.partition(".")
            self.arm(backend, op, kind, int(times or 1), delay_s=float(delay or 0.05))  # type: ignore[arg-type]
            armed.append(item)
        return armed

    def armed(self) -> list[ArmedFault]:
        """Snapshot of faults still waiting to fire."""
        with self._lock:
            return [f.model_copy() for f in self._armed]

    def known_ops(self) -> dict[str, frozenset[str]]:
        """Which ``(backend, op)`` pairs can be armed."""
        return dict(self._known_ops)

    def before(self, backend: str, op: str) -> None:
        """Hook at the start of a backend op: fires ``timeout`` / ``error_5xx``."""
        fault = self._take(backend, op, ("timeout", "error_5xx"))
        if fault is None:
            return
        if fault.kind == "timeout":
            self._sleep(fault.delay_s)
            raise TransientToolError(f"{backend} timed out", code=FAULT_CODES["timeout"])
        raise TransientToolError(f"{backend} is temporarily unavailable (503)", code=FAULT_CODES["error_5xx"])

    def after(self, backend: str, op: str) -> None:
        """Hook after a backend op committed its effect: fires ``crash_after_effect`` / ``kill``."""
        fault = self._take(backend, op, ("crash_after_effect", "kill"))
        if fault is None:
            return
        if fault.kind == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise TransientToolError(
            f"lost connection to {backend} before it answered", code=FAULT_CODES["crash_after_effect"]
        )

    def _take(self, backend: str, op: str, kinds: tuple[str, ...]) -> ArmedFault | None:
        with self._lock:
            for index, fault in enumerate(self._armed):
                if fault.backend == backend and fault.op == op and fault.kind in kinds:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        del self._armed[index]
                    fired = fault.model_copy()
                    break
            else:
                return None
            self.fired.append(FaultEvent(backend=backend, op=op, kind=fired.kind, at=self._clock()))
        logger.info("fault injected: {}.{} {}", backend, op, fired.kind)
        return fired
