"""The deterministic planner behind livekit-agents' `llm.LLM` seam.

Plugging in here (rather than bypassing the LLM node) means the same AgentSession, tool
execution, interruption handling and metrics run whether the planner is this engine or a cloud
model: switching is configuration only. The state's directive travels inside the system
instructions (a `[directive]` JSON line), which a cloud model simply reads as text.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from livekit.agents import llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.utils import shortuuid

from worker.planner.policy import AgentSaid, Called, Item, Output, Plan, UserSaid, plan

DIRECTIVE_MARK = "[directive] "
MODEL_NAME = "mediabloom-deterministic-planner"


def render_directive(directive: dict[str, Any]) -> str:
    return DIRECTIVE_MARK + json.dumps(directive, sort_keys=True, default=str)


def read_directive(chat_ctx: llm.ChatContext) -> dict[str, Any]:
    """The newest directive in the system/developer messages (empty if none)."""
    for item in reversed(chat_ctx.items):
        if item.type == "message" and item.role in ("system", "developer"):
            for line in reversed((item.text_content or "").splitlines()):
                if line.startswith(DIRECTIVE_MARK):
                    try:
                        value = json.loads(line[len(DIRECTIVE_MARK):])
                    except ValueError:
                        return {}
                    return value if isinstance(value, dict) else {}
    return {}


def to_items(chat_ctx: llm.ChatContext) -> list[Item]:
    items: list[Item] = []
    for it in chat_ctx.items:
        if it.type == "message" and it.role == "user":
            items.append(UserSaid(it.text_content or ""))
        elif it.type == "message" and it.role == "assistant":
            items.append(AgentSaid(it.text_content or "", interrupted=bool(it.interrupted)))
        elif it.type == "function_call":
            try:
                args = json.loads(it.arguments or "{}")
            except ValueError:
                args = {}
            items.append(Called(it.call_id, it.name, args if isinstance(args, dict) else {}))
        elif it.type == "function_call_output":
            items.append(Output(it.call_id, it.name, it.output, it.is_error))
    return items


class DeterministicPlanner(llm.LLM):
    """An offline, instant, reproducible planner; shared by every call of a process."""

    def __init__(self, today: date | None = None) -> None:
        super().__init__()
        self._today = today

    @property
    def model(self) -> str:
        return MODEL_NAME

    @property
    def provider(self) -> str:
        return "mediabloom"

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> "PlannerStream":
        return PlannerStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)

    def decide(self, chat_ctx: llm.ChatContext) -> Plan:
        directive = read_directive(chat_ctx)
        today = date.fromisoformat(directive["today"]) if directive.get("today") else (self._today or date.today())
        return plan(directive, to_items(chat_ctx), today)


class PlannerStream(llm.LLMStream):
    async def _run(self) -> None:
        assert isinstance(self._llm, DeterministicPlanner)
        decision = self._llm.decide(self._chat_ctx)
        offered = {getattr(t, "id", None) or getattr(t, "name", None) for t in self._tools}
        request_id = shortuuid("plan_")
        if decision.text:
            self._event_ch.send_nowait(llm.ChatChunk(
                id=request_id, delta=llm.ChoiceDelta(role="assistant", content=decision.text)))
        calls = [
            llm.FunctionToolCall(name=c.name, arguments=json.dumps(c.args, default=str), call_id=c.call_id)
            for c in decision.tool_calls
            if not offered or c.name in offered
        ]
        if calls:
            self._event_ch.send_nowait(llm.ChatChunk(
                id=request_id, delta=llm.ChoiceDelta(role="assistant", tool_calls=calls)))
        prompt_tokens = sum(len((getattr(i, "text_content", None) or "").split()) for i in self._chat_ctx.items
                            if getattr(i, "type", "") == "message")
        self._event_ch.send_nowait(llm.ChatChunk(id=request_id, usage=llm.CompletionUsage(
            completion_tokens=len(decision.text.split()) + 8 * len(calls),
            prompt_tokens=prompt_tokens, total_tokens=prompt_tokens + len(decision.text.split()))))
