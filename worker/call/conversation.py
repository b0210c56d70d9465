"""One phone call: an AgentSession driven by the flow's state machine, with tools and traces.

This is the glue between livekit-agents' session (audio, turns, interruptions, tool execution)
and the runtime's deterministic core. Session events become state-machine events, recorded
through the call's ledger; the machine's directive becomes the agent's instructions; every
tool call goes through the gate. Every transport (simulated calls, LiveKit rooms) gets it from
`worker.call.assembly`: only the audio I/O differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession, llm, stt
from livekit.agents.voice import events as ev
from livekit.agents.voice.generation import update_instructions as refresh_instructions
from loguru import logger

from tools.executor import ToolExecutor
from tools.redact import asks_for_card_group, count_digits, hide_numbers, holds_secret_number
from worker.call.barge_in import BargeInFilter
from worker.call.heard_words import HeardWords
from worker.call.ledger import EventJournal, Ledger
from worker.call.records import CallOpened
from worker.call.silence import GOODBYE, REPROMPT, SilenceWatch
from worker.call.tool_gate import ToolGate
from worker.engines.whisper_hints import EXPECTED_ANSWER, READ_BACK_SLOTS, ExpectedAnswer, slot_asked
from worker.flow.machine import (
    AgentSpeechStarted,
    AgentSpoke,
    CallEnded,
    CallerIdentified,
    CallerSpeechStarted,
    ConversationMachine,
    Transition,
)
from worker.planner.llm import render_directive
from worker.planner.replies import is_offer
from worker.reading.turn import read_caller_turn
from worker.trace.collector import TraceCollector


@dataclass
class CallOptions:
    flow: str
    today: date
    sandbox: Path | None = None
    """The sandbox the call's tools act on (recorded in the journal so `resume` reopens it)."""
    silence_reprompt_after: float = 8.0
    silence_max_reprompts: int = 1


class FlowAgent(Agent):
    """The agent whose instructions and tools follow the conversation state."""

    def __init__(self, call: "Conversation") -> None:
        super().__init__(instructions=call.instructions(), tools=call.gate.function_tools())
        self._call = call
        self.barge_in = BargeInFilter(agent_talking=self._talking, on_backchannel=self._resume_paused_reply)
        call.expected.agent_talking = self._talking  # a backchannel over the agent ends at the short pause
        self._resume_when_silent = False

    def _talking(self) -> bool:
        try:
            session = self.session
        except RuntimeError:  # not running (yet, or any more): nothing of ours is playing
            return False
        speech = session.current_speech
        return speech is not None and not speech.done() and not speech.interrupted

    def _resume_paused_reply(self) -> None:
        """The caller's sound over the reply was no interruption: resume it as soon as the
        session's VAD also hears silence (resumed while it still hears the caller, the reply
        would pause again at once).

        livekit-agents 1.8.9 resumes a paused reply only from its false-interruption timer and has
        no public call to fire it early; this fires it (the framework still checks that the
        paused reply is the current one and that no turn decision is pending). It runs after
        the framework's own end-of-speech handler, which re-arms the timer at its full length."""
        if self.session.user_state == "speaking":
            self._resume_when_silent = True
            return
        self._resume_when_silent = False
        activity = getattr(self.session, "_activity", None)
        if activity is not None and getattr(activity, "_paused_speech", None) is not None:
            asyncio.get_running_loop().call_soon(activity._start_false_interruption_timer, 0.0)

    def caller_silent(self) -> None:
        """The session's VAD heard the caller stop: resume a reply a backchannel paused."""
        if self._resume_when_silent:
            self._resume_paused_reply()

    async def on_enter(self) -> None:
        self._call.say(self._call.flow.greeting)

    async def stt_node(self, audio: AsyncIterable[rtc.AudioFrame], model_settings: Any) -> Any:
        """The default STT node, with the call's expected answer handed to the stream it opens
        (the offline Whisper biases its decoding by it when `MB_STT_HINTS` is on), minus the
        backchannels said over the agent (`worker.call.barge_in`). The finals' word confidences are
        kept for the turn they make up (`worker.call.heard_words`: the session drops them)."""
        EXPECTED_ANSWER.set(self._call.expected)
        ev: stt.SpeechEvent
        async for ev in self.barge_in.filter(Agent.default.stt_node(self, audio, model_settings)):
            if isinstance(ev, stt.SpeechEvent):
                self._call.heard.add(ev)
            yield ev

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
    """One call's conversation: session events in, the machine's directive out.

    Every event goes to the call's `Ledger` (machine → journal → trace); tool calls go through
    the `ToolGate`. The parts it is given (machine, trace collector, journal, executor) are
    opened and closed by `worker.call.assembly.CallAssembly`.
    """

    def __init__(self, session: AgentSession, machine: ConversationMachine, trace: TraceCollector,
                 options: CallOptions, call_id: str, *, journal: EventJournal | None = None,
                 executor: ToolExecutor | None = None, sandbox: Any = None) -> None:
        self.call_id = call_id
        self.session = session
        self.options = options
        self.machine = machine
        self.flow = machine.flow
        self.trace = trace
        self.ledger = Ledger(machine, trace, journal, on_tool_outcome=self._after_tool)
        self.ledger.opened(CallOpened(flow=options.flow, today=options.today,
                                      sandbox=str(options.sandbox) if options.sandbox else None))
        self.gate = ToolGate(self.ledger, call_id, executor=executor, sandbox=sandbox)
        self.expected = ExpectedAnswer()
        self.heard = HeardWords()
        self._planned = ""  # the text of the reply being spoken, as planned
        """The slot the agent's last question asked for (updated per agent message)."""
        self.agent = FlowAgent(self)
        self.ended = asyncio.Event()
        self.log = logger.bind(call_id=self.call_id, turn=0)
        self.silence = SilenceWatch(options.silence_reprompt_after, options.silence_max_reprompts,
                                    over=lambda: self.machine.s.ended, reprompt=self._reprompt,
                                    give_up=self._give_up)
        self._closing = False
        self._wire()

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

    async def _after_tool(self, transitions: list[Transition]) -> None:
        """After every tool outcome: log transitions and hand the model the new directive."""
        for t in transitions:
            self.log.info("state {} → {} ({})", t.from_state, t.to_state, t.because)
        await self.agent.update_instructions(self.instructions())

    # ------------------------------------------------------------ silence
    def _reprompt(self, n: int) -> None:
        self.log.info("silence for {:.1f} s: reprompt {}", self.options.silence_reprompt_after, n)
        self.say(REPROMPT)

    async def _give_up(self, reprompts: int) -> None:
        self.log.info("silence for {:.1f} s after {} reprompts: ending", self.options.silence_reprompt_after, reprompts)
        handle = self.say(GOODBYE, allow_interruptions=False)
        await handle.wait_for_playout()
        await self.end("silence")

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
        group = self.expected.slot == "card_group" or self.expected.group_again  # no sink shows a group
        # so is part of one said to the card question ("4111 1111 1111", then a pause): the groups
        # taken next are hidden, and the last four are said back at the charge's confirmation
        group = group or self.expected.slot == "card_number" and count_digits(text) > 6 \
            and not holds_secret_number(text)
        self.trace.caller_turn(msg, before, keyed=keyed, card_group=group)
        reading = await asyncio.to_thread(read_caller_turn, text, self.options.today)
        # the recogniser's confidence, of the name's own words when known, decides the read-back of
        # names (flow `when: low_confidence`); typed and keyed turns have none (exact text)
        words = None if keyed else self.heard.take(text)
        self.ledger.apply(reading.model_copy(update={"confidence": msg.transcript_confidence,
                                                     "word_confidence": words}), secret_text=group)
        self.log = logger.bind(call_id=self.call_id, turn=self.machine.s.turn)
        self.log.info("caller: {}", hide_numbers(text) if group else text)
        self.silence.caller_spoke()

    def _on_item(self, e: ev.ConversationItemAddedEvent) -> None:
        item = e.item
        if getattr(item, "type", None) != "message" or item.role != "assistant":
            return
        text = item.text_content or ""
        self.trace.on_agent_message(item)
        began = (item.metrics or {}).get("started_speaking_at")
        in_state = began is None or began >= self.ledger.state_entered_at
        # a group of a card said back and cut before its question ("4 1 1 1. What are"): no sink shows it
        cut_group = bool(item.interrupted) and asks_for_card_group(self._planned)
        self.ledger.apply(AgentSpoke(text=text, interrupted=bool(item.interrupted), began_in_state=in_state),
                          secret_text=cut_group)
        if text.strip() != REPROMPT:  # "Are you still there?": the question before it still stands
            # an offer of another way for a group of a card: the planner reads the answer as the group
            offer = is_offer(text) or bool(item.interrupted) and is_offer(self._planned)
            self.expected.group_again = offer and self.expected.slot == "card_group"
            slot = self._slot_expected(text, bool(item.interrupted))
            if slot is None and not self.expected.group_again:
                slot = self._slot_repaired(text, offer)
            self.expected.asked(slot, text)
        shown = hide_numbers(text) if cut_group else text
        self.log.info("agent{}: {}", " (interrupted)" if item.interrupted else "", shown)
        if self.machine.s.ended and not self._closing:
            self._closing = True
            asyncio.get_event_loop().create_task(self._finish("completed"))

    def _on_agent_state(self, e: ev.AgentStateChangedEvent) -> None:
        if e.new_state == "speaking":
            self.ledger.apply(AgentSpeechStarted())
        self.silence.agent_state(e.new_state)

    def _on_user_state(self, e: ev.UserStateChangedEvent) -> None:
        if e.new_state == "listening":
            self.agent.caller_silent()
        if e.new_state == "speaking":
            self.ledger.apply(CallerSpeechStarted())
        self.silence.caller_talking(e.new_state == "speaking")

    def _on_close(self, e: ev.CloseEvent) -> None:
        if not self.machine.s.ended:
            self.ledger.apply(CallEnded(reason=str(getattr(e, "reason", "closed"))))
        self.flush_trace()
        self.ended.set()

    def _slot_asked(self, agent_text: str) -> str | None:
        """The slot the agent's words ask for: a missing slot whose question they contain, or
        one named by the question's words ("... your policy number?")."""
        for missing in self.machine.directive()["missing"]:
            if missing["question"] and missing["question"].lower() in agent_text.lower():
                return str(missing["slot"])
        return slot_asked(agent_text)

    def _slot_expected(self, heard: str, interrupted: bool) -> str | None:
        """The slot the caller's next words answer: the one the agent asked for, or, when she cut
        the reply before its question (she answers what she knows is coming, "Which card..." cut
        at "Which"), the one the reply was going to ask for."""
        return self._slot_asked(heard) or (self._slot_asked(self._planned) if interrupted else None)

    def _slot_repaired(self, agent_text: str, offer: bool) -> str | None:
        """The value a repair question is about, when its words name none: an offer of another way
        ("Could you say it one digit at a time, slowly? Or I can have a colleague call you back.")
        is about the value being read back, else the one asked before; a digit value's read-back
        ("I have 4 1 5, 5 5 5, 4 1 9 2. Is that right?") is answered "yes" or with a correction of
        its digits. After an offer the decoder is told the value's shape, and the turn of an answer
        with digits is held until they are all there; after a read-back only its example and
        spelled-out digits (`whisper_hints.READ_BACK_SLOTS`): no count to fit or wait for. In bench robustness a phone said digit by
        digit after the offer was decoded with no hint ("For 15555192") and cut at eight digits;
        answers to a phone read-back (six voices x six answers) read right 25/36 with no hint,
        30/36 with the phone's, no "yes" lost ("No, the last part is oh one nine two." had been
        "The last part is a one-line too.")."""
        read_back = self.machine.directive().get("read_back")
        if offer:
            return str(read_back["slot"]) if read_back else self.expected.slot
        if read_back and str(read_back["slot"]) in READ_BACK_SLOTS and str(read_back["question"]) in agent_text:
            return READ_BACK_SLOTS[str(read_back["slot"])]
        return None

    def on_planned_text(self, text: str) -> None:
        self.trace.on_planned_text(text)
        self._planned = text

    def caller_identified(self, value: str, spoken: str) -> None:
        """The phone line's caller id (before the first turn): the flow may confirm it
        instead of asking for the number."""
        self.ledger.apply(CallerIdentified(value=value, spoken=spoken))

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
            self.ledger.apply(CallEnded(reason=reason))
        await self._finish(reason)

    async def _finish(self, reason: str) -> None:
        self.log.info("call ending: {}", reason)
        self.silence.stop()
        self.flush_trace()  # the last turn goes out while the room is still connected
        try:
            await asyncio.sleep(0.5)
            self.session.shutdown(drain=True)
        except RuntimeError:
            pass
        await asyncio.sleep(0)

    def flush_trace(self) -> None:
        """Close the turn in progress, if any, so it reaches the trace sinks (idempotent)."""
        self.trace.finish_turn(self.machine.snapshot())
