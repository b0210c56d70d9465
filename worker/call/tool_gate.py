"""The one door every tool call goes through: validate → ask the state machine → run → record.

The model (cloud or deterministic) only proposes. Malformed arguments and calls the state
machine rejects never reach a backend; both come back to the model as a typed tool error
(`ToolError` with a JSON body) and are traced, and the call goes on. Accepted calls run
through `tools.registry`, and their outcome is folded back into the state machine.
"""

from __future__ import annotations

import json
import time
from typing import Any, Awaitable, Callable

from livekit.agents import llm
from livekit.agents.voice import RunContext
from loguru import logger

from tools.redact import mask_card_numbers, redact_args, redact_validated
from tools.executor import ToolExecutor
from tools.registry import TOOLS, run_tool
from tools.spec import InvalidArguments
from worker.flow.machine import ConversationMachine, ToolFinished, ToolProposed, Transition
from worker.journaling import scrubbed
from worker.trace.collector import TraceCollector
from worker.trace.records import ToolRun


STILL_WORKING = "Sorry, this is taking a little longer than usual. One moment."


class ToolGate:
    """Runs tool calls for one conversation, in the order the state machine allows."""

    def __init__(self, machine: ConversationMachine, sandbox: Any, trace: TraceCollector,
                 on_state_change: Callable[[list[Transition]], Awaitable[None]], call_id: str,
                 executor: ToolExecutor | None = None,
                 record: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.executor = executor
        self.on_retry: Callable[[str, int, str], Awaitable[None]] | None = None
        self._retrying: set[str] = set()
        self.record = record or (lambda payload: None)
        self.call_id = call_id
        self.machine = machine
        self.sandbox = sandbox
        self.trace = trace
        self.on_state_change = on_state_change
        self.log = logger.bind(call_id=call_id)

    async def call(self, name: str, raw_args: dict[str, Any], call_id: str) -> str:
        spec = TOOLS[name]
        safe_raw = redact_args(spec, raw_args if isinstance(raw_args, dict) else {})
        self.trace.on_proposed(call_id, name, safe_raw)
        state = self.machine.s.state
        try:
            validated = spec.validate(raw_args)
            args = validated.model_dump(mode="json", exclude_none=True)
        except InvalidArguments as exc:
            reason = exc.reason
            self.trace.on_rejected(call_id, name, reason, "validation", state)
            self.log.warning("tool {} got invalid arguments: {}", name, reason)
            raise llm.ToolError(json.dumps({"error": "invalid_arguments", "tool": name, "reason": reason}))
        proposed = ToolProposed(call_id=call_id, tool=name, args=args)
        decision = self.machine.propose(proposed)
        self.record({"event": scrubbed(proposed), "decision": scrubbed(decision)})
        if not decision.accepted:
            self.trace.on_rejected(call_id, name, decision.reason or "", "state_machine", state)
            self.log.info("state machine rejected {}: {}", name, decision.reason)
            raise llm.ToolError(decision.error_payload())
        started = time.time()
        if self.executor is not None:
            async def retrying(tool: str, attempt: int, error: str) -> None:
                self._retrying.add(call_id)
                if self.on_retry is not None:
                    await self.on_retry(tool, attempt, error)

            outcome = await self.executor.run(self.call_id, name, validated, turn=self.machine.s.turn,
                                              tool_call_id=call_id, on_retry=retrying)
        else:
            outcome = await run_tool(self.sandbox, name, validated)
        duration = (time.time() - started) * 1000
        result = outcome.result if outcome.ok else None
        self.trace.on_tool_run(ToolRun(
            call_id=call_id, name=name, arguments=redact_validated(spec, args, raw_args), ok=outcome.ok,
            result=json.loads(mask_card_numbers(json.dumps(result))) if result is not None else None,
            error_code=outcome.error_code, error=mask_card_numbers(outcome.error_message or "") or None,
            attempts=outcome.attempts, started_at=round(started - self.trace.t0, 4),
            duration_ms=round(duration, 2)))
        finished = ToolFinished(call_id=call_id, ok=outcome.ok, result=result, error=outcome.error_message)
        transitions = self.machine.apply(finished)
        self.record({"event": scrubbed(finished), "transitions": [t.model_dump() for t in transitions]})
        self.trace.on_transitions(transitions)
        await self.on_state_change(transitions)
        self.log.info("tool {} {} in {:.1f} ms", name, "ok" if outcome.ok else f"failed ({outcome.error_code})", duration)
        if not outcome.ok:
            raise llm.ToolError(json.dumps({"error": outcome.error_code, "tool": name,
                                            "reason": mask_card_numbers(outcome.error_message or ""),
                                            "transient": outcome.transient}))
        return json.dumps(result, default=str)

    def function_tools(self) -> list[llm.Tool]:
        """Every registered tool as a livekit-agents raw function tool routed through the gate."""
        return [self._wrap(name) for name in TOOLS]

    def _wrap(self, name: str) -> llm.Tool:
        spec = TOOLS[name]
        schema = spec.args_model.model_json_schema()
        schema.pop("title", None)

        async def handler(raw_arguments: dict[str, object], context: RunContext) -> str:
            call_id = context.function_call.call_id

            def still_working(step: int) -> str | None:  # spoken only once a retry has happened
                return STILL_WORKING if call_id in self._retrying else None

            async with context.with_filler(still_working, delay=0.8, interval=0.5, max_steps=1):
                try:
                    return await self.call(name, dict(raw_arguments), call_id)
                finally:
                    self._retrying.discard(call_id)

        return llm.function_tool(handler, raw_schema={"name": name, "description": spec.description,
                                                      "parameters": schema})
