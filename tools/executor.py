"""Runs tool calls exactly once: idempotency keys, retries, named steps, a journal, resume.

Every call and every step is journaled before and after it runs. A call with an effect gets a
business idempotency key scoped to the conversation: the same key with the same arguments
returns the stored result without touching a backend; with different arguments it is a typed
conflict; a concurrent duplicate waits for the first and returns its result. Transient
failures are retried with exponential backoff and jitter; only the failed step re-runs, and
each step passes its own key to its backend, so a retry, a resume after a crash, or a duplicate
can never repeat an effect. Resume after a crash is `tools/recovery.py` (mixed in); each running
call's claim is leased and renewed (`tools/journal/lease.py`). (`worker/replay.py` re-drives a
call from the journal alone.)
"""

from __future__ import annotations

import asyncio
import random
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from loguru import logger
from pydantic import BaseModel

from tools.errors import ToolFailure
from tools.journal.lease import DEFAULT_LEASE_S, Lease
from tools.journal.owners import new_owner
from tools.journal.records import JournalEntry, args_hash
from tools.journal.store import JournalStore
from tools.recovery import Recovery
from tools.redact import mask_card_numbers, redact_args, scrubbed
from tools.registry import TOOLS, ToolOutcome
from tools.spec import InvalidArguments, RetryPolicy
from tools.steps import StepContext, StepPlan, step_key


OnRetry = Callable[[str, int, str], Awaitable[None]]
CrashHook = Callable[[str], None]
"""Called with a boundary label ("before_step:capture", "after_finish", ...); see ToolExecutor.crash_hook."""


@dataclass
class _Running:
    future: asyncio.Future[ToolOutcome]


@dataclass
class ToolExecutor(Recovery):
    """Executes tools for any number of calls of one process against one sandbox and journal."""

    sandbox: Any
    store: JournalStore
    owner: str = field(default_factory=new_owner)
    """Who holds this executor's claims: host, pid and process start, so a restarted worker on the
    same machine sees a dead owner at once (``tools.journal.owners``)."""
    retry: dict[str, RetryPolicy] = field(default_factory=dict)
    """Per-tool overrides of the spec's retry policy (tests use fast ones); empty in production."""
    ttl_s: float = 24 * 3600
    """How long a finished call's stored result answers duplicates."""
    lease_s: float = DEFAULT_LEASE_S
    """How long a running call's claim stays owned without renewal (renewed every third of it)."""
    wait_s: float = 30.0
    """How long a duplicate waits for a call another process is running."""
    on_retry: OnRetry | None = None
    seed: int | None = None
    crash_hook: CrashHook | None = None
    """Test seam: called at every durable boundary of a call (labels in ``_execute``) so crash tests can
    kill the process exactly there and prove resume is exactly-once. None (a no-op) in production."""
    _running: dict[tuple[str, str], _Running] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    # ------------------------------------------------------------ public
    async def run(self, call_id: str, tool: str, args: BaseModel | dict[str, Any], *, turn: int | None = None,
                  tool_call_id: str | None = None, on_retry: OnRetry | None = None) -> ToolOutcome:
        """Run one tool call; never raises for tool problems (they come back as outcomes)."""
        started = time.perf_counter()
        spec = TOOLS.get(tool)
        if spec is None:
            return ToolOutcome(name=tool, ok=False, error_code="unknown_tool", error_message=f"no tool named {tool!r}")
        try:
            model = spec.validate(args)
        except InvalidArguments as exc:
            return ToolOutcome(name=tool, ok=False, error_code="invalid_arguments", error_message=exc.reason)
        plan = spec.plan
        if spec.effect:  # durable before prepare (tokenizing a card): a crash there is visible to resume
            await self._journal(call_id, "call_requested", tool=tool, tool_call_id=tool_call_id, key=None, turn=turn,
                                payload={"args": redact_args(spec, model.model_dump(mode="json")), "owner": self.owner})
        try:
            prepared = await plan.prepare(self.sandbox, model)
        except Exception as exc:  # noqa: BLE001 - a bug must come back as an outcome, not end the call
            code, message, transient = _classify(exc, tool)
            if spec.effect:
                await self._journal(call_id, "call_failed", tool=tool, tool_call_id=tool_call_id, key=None, turn=turn,
                                    payload={"error": code, "message": mask_card_numbers(message),
                                             "transient": transient})
            return self._failed(tool, code, message, transient, started)
        key = spec.idempotency_key(prepared)
        if key is None:
            return await self._execute(call_id, tool, plan, prepared, None, turn, tool_call_id, started, {},
                                       on_retry=on_retry)
        local = self._running.get((call_id, key))
        if local is not None:  # a duplicate in this process: wait for the first and share its outcome
            outcome = await asyncio.shield(local.future)
            await self._journal(call_id, "call_replayed", tool=tool, tool_call_id=tool_call_id, key=key, turn=turn,
                                payload={"reason": "concurrent duplicate"})
            return outcome.model_copy(update={"replayed": True})
        return await self._claim_and_run(call_id, tool, plan, prepared, key, turn, tool_call_id, started, on_retry)

    # ------------------------------------------------------------ idempotency
    async def _claim_and_run(self, call_id: str, tool: str, plan: StepPlan, prepared: dict[str, Any], key: str,
                             turn: int | None, tool_call_id: str | None, started: float,
                             on_retry: OnRetry | None = None) -> ToolOutcome:
        a_hash = args_hash(tool, prepared)
        future: asyncio.Future[ToolOutcome] = asyncio.get_running_loop().create_future()
        self._running[(call_id, key)] = _Running(future)
        try:
            while True:
                claim = await self.store.claim(call_id, key, tool, a_hash, self.owner, self.lease_s)
                if claim.status == "claimed":
                    outcome = await self._execute(call_id, tool, plan, prepared, key, turn, tool_call_id, started, {},
                                                  on_retry=on_retry)
                    break
                if claim.status == "done":
                    await self._journal(call_id, "call_replayed", tool=tool, tool_call_id=tool_call_id, key=key,
                                        turn=turn, payload={"reason": "duplicate of a finished call"})
                    outcome = self._stored(tool, claim.result or {}, started).model_copy(update={"replayed": True})
                    break
                if claim.status == "tampered":
                    logger.error("{} {}: the idempotency record was edited (signature mismatch); not served", call_id,
                                 tool)
                    await self._journal(call_id, "call_failed", tool=tool, tool_call_id=tool_call_id, key=key,
                                        turn=turn, payload={"error": "journal_tampered"})
                    outcome = self._failed(tool, "journal_tampered", f"the stored outcome of {tool} fails "
                                           "verification; ask an operator to check the journal", False, started)
                    break
                if claim.status == "conflict":
                    await self._journal(call_id, "call_failed", tool=tool, tool_call_id=tool_call_id, key=key,
                                        turn=turn, payload={"error": "idempotency_conflict"})
                    outcome = self._failed(tool, "idempotency_conflict",
                                           f"{tool} was already called in this conversation with the same key "
                                           "but different arguments", False, started)
                    break
                if time.perf_counter() - started > self.wait_s:
                    if not await self._started_unfinished(call_id, key):
                        # Claimed but never journaled, and its owner is dead: it died between the claim and
                        # call_started. No step ran and resume cannot see it, so take it over instead of
                        # failing until its lease runs out.
                        taken = await self.store.reclaim_stale(call_id, key, self.owner, lease_s=self.lease_s)
                        if taken is not None and taken.status == "claimed":
                            outcome = await self._execute(call_id, tool, plan, prepared, key, turn, tool_call_id,
                                                          started, {}, on_retry=on_retry)
                            break
                        if taken is None or taken.status == "done":
                            continue  # released or finished meanwhile: claim again
                    outcome = self._failed(tool, "in_progress_elsewhere", f"{tool} is still running for this "
                                           "conversation in another worker; try again shortly", True, started)
                    break
                await asyncio.sleep(0.05)  # in progress in another process: wait for its result
            future.set_result(outcome)
            return outcome
        except BaseException as exc:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # mark retrieved
            raise
        finally:
            self._running.pop((call_id, key), None)

    async def _started_unfinished(self, call_id: str, key: str) -> bool:
        """Whether the journal has a ``call_started`` for ``key`` with no terminal entry after it."""
        open_call = False
        for entry in await self.store.entries(call_id):
            if entry.idempotency_key == key and entry.kind == "call_started":
                open_call = True
            elif entry.idempotency_key == key and entry.kind in ("call_succeeded", "call_failed"):
                open_call = False
        return open_call

    # ------------------------------------------------------------ steps and retries
    async def _execute(self, call_id: str, tool: str, plan: StepPlan, prepared: dict[str, Any], key: str | None,
                       turn: int | None, tool_call_id: str | None, started: float,
                       done: dict[str, dict[str, Any]], resumed: bool = False,
                       on_retry: OnRetry | None = None) -> ToolOutcome:
        """Run the steps not in ``done``; a claimed call keeps its lease renewed meanwhile."""
        if key is None or not TOOLS[tool].effect:
            return await self._run_steps(call_id, tool, plan, prepared, key, turn, tool_call_id, started, done,
                                         resumed, on_retry, None)
        async with Lease(self.store, call_id, key, self.owner, self.lease_s) as lease:
            return await self._run_steps(call_id, tool, plan, prepared, key, turn, tool_call_id, started, done,
                                         resumed, on_retry, lease)

    async def _run_steps(self, call_id: str, tool: str, plan: StepPlan, prepared: dict[str, Any], key: str | None,
                         turn: int | None, tool_call_id: str | None, started: float,
                         done: dict[str, dict[str, Any]], resumed: bool, on_retry: OnRetry | None,
                         lease: Lease | None) -> ToolOutcome:
        spec = TOOLS[tool]
        policy = self.retry.get(tool, spec.retry)
        # step keys are scoped to the conversation, like the call's own key; a read-only call
        # gets a journal-only key (no idempotency record: repeating a lookup is harmless)
        key = key or f"read:{tool}:{tool_call_id or time.time_ns()}"
        effect = spec.effect
        step_key_base = f"{call_id}:{key}"
        if not resumed:
            self._boundary("before_start")
            await self._journal(call_id, "call_started", tool=tool, tool_call_id=tool_call_id, key=key, turn=turn,
                                payload={"args": redact_args(spec, prepared)}, a_hash=args_hash(tool, prepared))
        outputs = dict(done)
        attempts_total = 0
        for step in plan.steps:
            if step.name in outputs:
                continue
            if lease is not None and lease.lost:  # taken over while we ran: the new owner finishes it
                return self._failed(tool, "taken_over", f"{tool} was taken over by another worker", True, started,
                                    attempts_total)
            ctx = StepContext(args=prepared, outputs=outputs, key=step_key(step_key_base, step.name))
            attempt = 0
            while True:
                attempt += 1
                attempts_total += 1
                self._boundary(f"before_step:{step.name}")
                await self._journal(call_id, "step_started", tool=tool, tool_call_id=tool_call_id, key=key,
                                    turn=turn, step=step.name, attempt=attempt)
                self._boundary(f"before_effect:{step.name}")
                try:
                    output = await asyncio.wait_for(step.run(self.sandbox, ctx), timeout=policy.timeout)
                except Exception as exc:  # noqa: BLE001 - unexpected ones too: else the claim stays locked
                    code, message, transient = _classify(exc, tool)
                    retry = transient and attempt < policy.attempts
                    await self._journal(call_id, "step_failed", tool=tool, tool_call_id=tool_call_id, key=key,
                                        turn=turn, step=step.name, attempt=attempt,
                                        payload={"error": code, "message": mask_card_numbers(message),
                                                 "transient": transient, "will_retry": retry})
                    self._boundary(f"after_step_failed:{step.name}")
                    if retry:
                        notify = on_retry or self.on_retry
                        if notify is not None:
                            await notify(tool, attempt, code)
                        await asyncio.sleep(policy.delay(attempt, self._rng))
                        continue
                    self._boundary("before_fail")
                    held = True
                    if effect:
                        if transient:
                            held = await self.store.release(call_id, key, self.owner)
                        else:
                            held = await self.store.finish(call_id, key, self.owner, "failed",
                                                           {"error": code, "message": mask_card_numbers(message)},
                                                           ttl_s=self.ttl_s)
                    self._boundary("after_fail_claim")
                    if not held:  # another owner took the call over: its outcome is the one journaled
                        return self._failed(tool, code, message, transient, started, attempts_total)
                    await self._journal(call_id, "call_failed", tool=tool, tool_call_id=tool_call_id, key=key,
                                        turn=turn, payload={"error": code, "message": mask_card_numbers(message),
                                                            "transient": transient})
                    return self._failed(tool, code, message, transient, started, attempts_total)
                self._boundary(f"after_step:{step.name}")
                outputs[step.name] = output
                await self._journal(call_id, "step_succeeded", tool=tool, tool_call_id=tool_call_id, key=key,
                                    turn=turn, step=step.name, attempt=attempt, payload={"output": output})
                self._boundary(f"after_step_journal:{step.name}")
                break
        result = plan.finish(prepared, outputs)
        self._boundary("before_finish")
        held = True
        if effect:  # the claim first: a crash before the journal line is then healed by resume
            held = await self.store.finish(call_id, key, self.owner, "succeeded", scrubbed(result), ttl_s=self.ttl_s)
        self._boundary("after_finish_claim")
        if not held:  # our lease ran out and another owner took over: it journals the outcome, not us
            logger.warning("{} {}: the claim was taken over while running; the new owner records the outcome",
                           call_id, tool)
            return ToolOutcome(name=tool, ok=True, result=result, duration_ms=(time.perf_counter() - started) * 1000,
                               attempts=max(1, attempts_total))
        await self._journal(call_id, "call_succeeded", tool=tool, tool_call_id=tool_call_id, key=key, turn=turn,
                            payload={"result": result})
        self._boundary("after_finish")
        return ToolOutcome(name=tool, ok=True, result=result, duration_ms=(time.perf_counter() - started) * 1000,
                           attempts=max(1, attempts_total))

    # ------------------------------------------------------------ helpers
    def _boundary(self, label: str) -> None:
        if self.crash_hook is not None:
            self.crash_hook(label)

    async def _journal(self, call_id: str, kind: str, *, tool: str, tool_call_id: str | None, key: str | None,
                       turn: int | None, step: str | None = None, attempt: int | None = None,
                       payload: dict[str, Any] | None = None, a_hash: str | None = None) -> JournalEntry:
        return await self.store.append(call_id, kind, tool=tool, tool_call_id=tool_call_id, idempotency_key=key,
                                       step=step, attempt=attempt, turn=turn, payload=scrubbed(payload or {}),
                                       args_hash=a_hash)

    @staticmethod
    def _stored(tool: str, result: dict[str, Any], started: float) -> ToolOutcome:
        if "error" in result and len(result) <= 2 and "message" in result:
            return ToolOutcome(name=tool, ok=False, error_code=result["error"], error_message=result["message"],
                               duration_ms=(time.perf_counter() - started) * 1000)
        return ToolOutcome(name=tool, ok=True, result=result, duration_ms=(time.perf_counter() - started) * 1000)

    @staticmethod
    def _failed(tool: str, code: str, message: str, transient: bool, started: float, attempts: int = 1) -> ToolOutcome:
        return ToolOutcome(name=tool, ok=False, error_code=code, error_message=mask_card_numbers(message),
                           transient=transient, duration_ms=(time.perf_counter() - started) * 1000, attempts=attempts)


def _classify(exc: BaseException, tool: str) -> tuple[str, str, bool]:
    """(code, message, transient) of a failed step or prepare.

    Anything that is not a tool failure, a timeout or a connection problem is a bug
    (``internal_error``, as ``tools.registry.run_tool`` reports it): not retried, and
    stored like any permanent failure, so the call still ends with ``call_failed`` and its
    claim is not left ``in_progress`` (which would block the conversation until expiry).
    """
    if isinstance(exc, ToolFailure):
        return exc.code, exc.message, exc.transient
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout", "the backend did not answer in time", True
    if isinstance(exc, (ConnectionError, OSError)):
        return "connection_error", str(exc) or type(exc).__name__, True
    trace = mask_card_numbers("".join(traceback.format_exception(exc)))  # no loguru diagnose: it prints locals
    logger.error("tool {} crashed: {}\n{}", tool, type(exc).__name__, trace)
    return "internal_error", f"{tool} failed unexpectedly ({type(exc).__name__}: {exc})", False
