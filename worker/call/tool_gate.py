"""The one door every tool call goes through: validate → ask the state machine → run.

The model (cloud or deterministic) only proposes. Malformed arguments and calls the state
machine rejects never reach a backend; both come back to the model as a typed tool error
(`ToolError` with a JSON body), and the call goes on. Accepted calls are handed to the
executor (`tools.executor`: exactly once, retried, journaled). What the machine decides and
how each call ended is recorded by the call's `Ledger`, never here.
"""

from __future__ import annotations

import json
import time
from typing import Any

from livekit.agents import llm
from livekit.agents.voice import RunContext
from loguru import logger

from tools.executor import ToolExecutor
from tools.redact import mask_card_numbers, redact_args, redact_validated
from tools.registry import TOOLS, ToolOutcome, run_tool
from tools.spec import InvalidArguments, ToolArgs
from worker.call.ledger import Ledger
from worker.flow.machine import ToolProposed

STILL_WORKING = "Sorry, this is taking a little longer than usual. One moment."


class ToolGate:
    """Runs tool calls for one conversation, in the order the state machine allows.

    `executor` runs accepted calls; without one (text-level tests) they run directly on
    `sandbox`, with no journal and no retries.
    """

    def __init__(self, ledger: Ledger, call_id: str, executor: ToolExecutor | None = None,
                 sandbox: Any = None) -> None:
        self.ledger = ledger
        self.call_id = call_id
        self.executor = executor
        self.sandbox = sandbox
        self._retrying: set[str] = set()
        self.log = logger.bind(call_id=call_id)

    async def call(self, name: str, raw_args: dict[str, Any], call_id: str) -> str:
        spec = TOOLS[name]
        self.ledger.proposed(call_id, name, redact_args(spec, raw_args if isinstance(raw_args, dict) else {}))
        try:
            validated = spec.validate(raw_args)
            args = validated.model_dump(mode="json", exclude_none=True)
        except InvalidArguments as exc:
            reason = exc.reason
            self.ledger.invalid(call_id, name, reason)
            self.log.warning("tool {} got invalid arguments: {}", name, reason)
            raise llm.ToolError(json.dumps({"error": "invalid_arguments", "tool": name, "reason": reason}))
        decision = self.ledger.propose(ToolProposed(call_id=call_id, tool=name, args=args))
        if not decision.accepted:
            self.log.info("state machine rejected {}: {}", name, decision.reason)
            raise llm.ToolError(decision.error_payload())
        started = time.time()
        outcome = await self._run(name, validated, call_id)
        duration = (time.time() - started) * 1000
        await self.ledger.tool_finished(call_id, name, redact_validated(spec, args, raw_args), outcome,
                                        started, duration)
        self.log.info("tool {} {} in {:.1f} ms", name, "ok" if outcome.ok else f"failed ({outcome.error_code})", duration)
        if not outcome.ok:
            raise llm.ToolError(json.dumps({"error": outcome.error_code, "tool": name,
                                            "reason": mask_card_numbers(outcome.error_message or ""),
                                            "transient": outcome.transient}))
        return json.dumps(outcome.result, default=str)

    async def _run(self, name: str, validated: ToolArgs, call_id: str) -> ToolOutcome:
        if self.executor is None:
            return await run_tool(self.sandbox, name, validated)

        async def retrying(tool: str, attempt: int, error: str) -> None:
            self._retrying.add(call_id)  # from now on the filler may tell the caller it drags on
            self.log.info("{} attempt {} failed ({}): retrying", tool, attempt, error)

        return await self.executor.run(self.call_id, name, validated, turn=self.ledger.turn,
                                       tool_call_id=call_id, on_retry=retrying)

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
