"""One phone call: an AgentSession driven by the flow's state machine, with tools and traces.

This is the glue between livekit-agents' session (audio, turns, interruptions, tool execution)
and the runtime's deterministic core. Session events become state-machine events; the
machine's directive becomes the agent's instructions; every tool call goes through the gate.
The same class serves simulated calls and LiveKit rooms: only the audio I/O differs.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from livekit.agents import Agent, AgentSession, llm
from livekit.agents.voice import events as ev
from livekit.agents.voice.generation import update_instructions as refresh_instructions
from loguru import logger

from tools.executor import ToolExecutor
from worker.call.silence import SilenceWatch
from worker.call.tool_gate import ToolGate
from worker.flow.library import load_flow
from worker.journaling import EventLog, call_opened, scrubbed
from worker.flow.machine import (
    AgentSpeechStarted,
    AgentSpoke,
    CallEnded,
    CallerSpeechStarted,
    ConversationMachine,
    Transition,
)
from worker.planner.llm import render_directive
from worker.reading.turn import read_caller_turn
from worker.trace.collector import TraceCollector


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:12]


@dataclass
class CallOptions:
    flow: str
    today: date
    silence_reprompt_after: float = 8.0
    silence_max_reprompts: int = 1


class FlowAgent(Agent):
    """The agent whose instructions and tools follow the conversation state."""

    def __init__(self, call: "Conversation") -> None:
        super().__init__(instructions=call.instructions(), tools=call.gate.function_tools())
        self._call = call

    async def on_enter(self) -> None:
        self._call.say(self._call.flow.greeting)

    async def llm_node(self, chat_ctx: llm.ChatContext, tools: list[llm.Tool], model_settings: Any) -> Any:
        async for chunk in Agent.default.llm_node(self, chat_ctx, tools, model_settings):
            if isinstance(chunk, llm.ChatChunk) and chunk.delta and chunk.delta.content:
                self._call.on_planned_text(chunk.delta.content)
            elif isinstance(chunk, str):
                self._call.on_planned_text(chunk)
            yield chunk

    async def on_user_turn_completed(self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage) -> None:
        await self._call.caller_turn(new_message)
        instructions = self._call.instructions()
        await self.update_instructions(instructions)
        # this turn's context was copied before the caller's words moved the state: refresh it
        refresh_instructions(turn_ctx, instructions=instructions, add_if_missing=True)


class Conversation:
    """Everything one call owns: machine, trace collector, tool gate, agent and session hooks."""

    def __init__(self, session: AgentSession, sandbox: Any, options: CallOptions,
                 call_id: str | None = None, engine: str = "offline", model: str = "",
                 executor: ToolExecutor | None = None, sandbox_path: Any = None) -> None:
        self.call_id = call_id or new_call_id()
        self.session = session
        self.options = options
        self.flow = load_flow(options.flow)
        self.machine = ConversationMachine(self.flow)
        self.trace = TraceCollector(self.call_id, engine=engine, model=model, state=self.machine.snapshot())
        self.events = EventLog(executor.store, self.call_id) if executor is not None else None
        self._record(call_opened(options.flow, options.today, sandbox_path))
        self.gate = ToolGate(self.machine, sandbox, self.trace, self._on_state_change, self.call_id,
                             executor=executor, record=self._record)
        self.gate.on_retry = self._still_working
        self.agent = FlowAgent(self)
        self.ended = asyncio.Event()
        self.log = logger.bind(call_id=self.call_id, turn=0)
        self.silence = SilenceWatch(self, options.silence_reprompt_after, options.silence_max_reprompts)
        self._closing = False
        self._state_entered_at = 0.0
        self._wire()

    # ------------------------------------------------------------ the machine, journaled
    def _record(self, payload: dict[str, Any]) -> None:
        if self.events is not None:
            self.events.record(payload, turn=self.machine.s.turn)

    def _apply(self, event: Any) -> list[Transition]:
        """Apply an event to the state machine and journal it with the transitions it caused."""
        transitions = self.machine.apply(event)
        self._record({"event": scrubbed(event), "transitions": [t.model_dump() for t in transitions]})
        return transitions

    async def _still_working(self, tool: str, attempt: int, error: str) -> None:
        """A tool is being retried (the gate's filler tells the caller if it drags on)."""
        self.log.info("{} attempt {} failed ({}): retrying", tool, attempt, error)

    # ------------------------------------------------------------ instructions
    def instructions(self) -> str:
        d = self.machine.directive()
        d["today"] = self.options.today.isoformat()
        missing = "; ".join(m["question"] for m in d["missing"]) or "nothing"
        prose = (
            f"{self.flow.persona}\nCurrent step: {d['state']}. Goal: {d['goal']}\n"
            f"Still to learn: {missing}. Tools you may use now: {', '.join(d['allowed_tools']) or 'none'}.\n"
            "Only call a tool when you have every argument from the caller; never invent values. "
            "If a tool returns an error, explain briefly and ask for what is needed."
        )
        return prose + "\n" + render_directive(d)

    async def _on_state_change(self, transitions: list[Transition]) -> None:
        """After every tool outcome: log transitions and hand the model the new directive."""
        if transitions:
            self._state_entered_at = time.time()
        for t in transitions:
            self.log.info("state {} → {} ({})", t.from_state, t.to_state, t.because)
        await self.agent.update_instructions(self.instructions())

    # ------------------------------------------------------------ session events
    def _wire(self) -> None:
        s = self.session
        s.on("user_input_transcribed", self.trace.on_transcribed)
        s.on("metrics_collected", self.trace.on_metrics)
        s.on("conversation_item_added", self._on_item)
        s.on("agent_state_changed", self._on_agent_state)
        s.on("user_state_changed", self._on_user_state)
        s.on("close", self._on_close)

    async def caller_turn(self, msg: llm.ChatMessage, keyed: bool = False) -> None:
        text = msg.text_content or ""
        before = self.machine.snapshot()
        self.trace.caller_turn(msg, before, keyed=keyed)
        reading = await asyncio.to_thread(read_caller_turn, text, self.options.today)
        transitions = self._apply(reading)
        if transitions:
            self._state_entered_at = time.time()
        self.trace.on_transitions(transitions)
        self.log = logger.bind(call_id=self.call_id, turn=self.machine.s.turn)
        self.log.info("caller: {}", text)
        self.silence.caller_spoke()

    def _on_item(self, e: ev.ConversationItemAddedEvent) -> None:
        item = e.item
        if getattr(item, "type", None) != "message" or item.role != "assistant":
            return
        text = item.text_content or ""
        self.trace.on_agent_message(item)
        began = (item.metrics or {}).get("started_speaking_at")
        in_state = began is None or began >= self._state_entered_at
        self._apply(AgentSpoke(text=text, interrupted=bool(item.interrupted), began_in_state=in_state))
        self.log.info("agent{}: {}", " (interrupted)" if item.interrupted else "", text)
        if self.machine.s.ended and not self._closing:
            self._closing = True
            asyncio.get_event_loop().create_task(self._finish("completed"))

    def _on_agent_state(self, e: ev.AgentStateChangedEvent) -> None:
        if e.new_state == "speaking":
            self._apply(AgentSpeechStarted())
        self.silence.agent_state(e.new_state)

    def _on_user_state(self, e: ev.UserStateChangedEvent) -> None:
        if e.new_state == "speaking":
            self._apply(CallerSpeechStarted())
            self.silence.caller_spoke()

    def _on_close(self, e: ev.CloseEvent) -> None:
        if not self.machine.s.ended:
            self._apply(CallEnded(reason=str(getattr(e, "reason", "closed"))))
        self._flush_trace()
        self.ended.set()

    def on_planned_text(self, text: str) -> None:
        self.trace.on_planned_text(text)

    async def keyed_turn(self, text: str) -> None:
        """Words that did not come through the microphone (digits from the phone keypad): read
        them as a caller turn, then let the planner answer, exactly as after a spoken turn."""
        try:
            self.session.interrupt()
        except RuntimeError:  # the agent's current line cannot be interrupted: answer after it
            pass
        await self.caller_turn(llm.ChatMessage(role="user", content=[text]), keyed=True)
        await self.agent.update_instructions(self.instructions())
        self.session.generate_reply(user_input=text)

    def say(self, text: str, **kwargs: Any) -> Any:
        """Speak a fixed line (greeting, reprompt); traced as planned like a planner reply."""
        self.trace.on_planned_text(text)
        return self.session.say(text, **kwargs)

    # ------------------------------------------------------------ ending
    async def end(self, reason: str) -> None:
        """End the call from outside (silence, hang-up, operator)."""
        if not self.machine.s.ended:
            self._apply(CallEnded(reason=reason))
        await self._finish(reason)

    async def _finish(self, reason: str) -> None:
        self.log.info("call ending: {}", reason)
        self.silence.stop()
        self._flush_trace()  # the last turn goes out while the room is still connected
        try:
            await asyncio.sleep(0.5)
            self.session.shutdown(drain=True)
        except RuntimeError:
            pass
        await asyncio.sleep(0)

    def _flush_trace(self) -> None:
        if self.trace._current is not None:
            self.trace.finish_turn(self.machine.snapshot())
