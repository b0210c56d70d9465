"""Builds one `TurnTrace` per turn from livekit-agents' own events and metrics.

Timings come from the framework (message metrics, `metrics_collected`) rather than being
measured twice; the runtime adds only what the framework cannot know: the state machine's
decisions, tool runs with redacted arguments, and (in simulated calls) the true end of the
caller's speech taken from the audio. Finished turns go to every sink (file, data channel).

Redaction happens here, once, before any sink sees a turn (`tools.redact`): the whole record
is scrubbed, partial transcripts are masked as interim text, and when the caller's final words
held a card (or a number that runs on from the previous turn's), every number in that turn's
partials is hidden too, so no partial reveals what the final's mask hides. The spans where the
caller said such a number are kept (`secret_speech`) so a recording can silence them.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Literal

from livekit.agents import metrics as lk_metrics
from livekit.agents.voice import events as ev

from tools.redact import (asks_for_card_group, hide_numbers, holds_secret_number, joins_long_number, mask_card_numbers,
                          mask_interim, scrubbed)
from worker.flow.machine import ConversationState, Transition
from worker.trace.records import (
    CallerPart,
    Partial,
    PlannerPart,
    PhonePart,
    ProposedCall,
    Rejection,
    StatePart,
    StateSummary,
    ToolRun,
    TurnTrace,
)

Sink = Callable[[TurnTrace], None]


def summarize(s: ConversationState) -> StateSummary:
    slots = {k: v for k, v in s.slots.items() if k not in ("listings",)}
    return StateSummary(state=s.state, phase=s.phase, speaker=s.speaker, turn=s.turn, slots=slots,
                        in_flight=sorted(s.in_flight.values()), ended=s.ended, confirmed=dict(s.confirmed))


class TraceCollector:
    """Collects the events of one call into per-turn records."""

    def __init__(self, call_id: str, engine: str, model: str, state: ConversationState,
                 started_wall: float | None = None) -> None:
        self.call_id = call_id
        self.engine = engine
        self.model = model
        self.t0 = started_wall or time.time()
        self.sinks: list[Sink] = []
        self.phone: PhonePart | None = None
        """Set by a phone call (`on_phone_line`); copied into every turn from then on."""
        self.turns: list[TurnTrace] = []
        self._partials: list[Partial] = []
        self._last_caller_text = ""  # the previous final, in clear, in memory only
        self._secret_turns: set[int] = set()
        self.secret_speech: list[tuple[float, float]] = []
        """Call-time spans (seconds) where the caller said a card or another long number."""
        self._language: str | None = None
        self._current = self._new_turn(0, state, None)
        self.true_eos: Callable[[CallerPart], float | None] | None = None
        """Simulated calls know when the caller's audio really ended (call time, seconds)."""
        self.heard_first_audio: Callable[[float], float | None] | None = None
        """Transports that hear the agent's audio as the caller does map the first frame played
        (call time) to the first audible sample the caller received (`first_audible_after`)."""
        self.ear_source: Literal["audio", "audio_at_worker"] = "audio"
        """What those two hear: the caller's own audio ("audio"), or the worker's ("audio_at_worker")."""

    # ------------------------------------------------------------ turn boundaries
    def _rel(self, wall: float | None) -> float | None:
        return None if wall is None else round(wall - self.t0, 4)

    def _new_turn(self, n: int, state: ConversationState, caller: CallerPart | None) -> TurnTrace:
        summary = summarize(state)
        return TurnTrace(call_id=self.call_id, turn=n, started_at=self._rel(time.time()) or 0.0, caller=caller,
                         phone=self.phone, planner=PlannerPart(engine=self.engine, model=self.model),
                         state=StatePart(before=summary, after=summary))

    def on_phone_line(self, phone: PhonePart) -> None:
        """The call came in on a phone line: every turn from the current one on carries it."""
        self.phone = phone
        if self._current is not None:
            self._current.phone = phone

    def caller_turn(self, msg: Any, state_before: ConversationState, keyed: bool = False,
                    card_group: bool = False) -> None:
        """The caller's words were committed: close the previous turn, open a new one.
        `card_group`: they answer a question for one group of a card (every number is hidden)."""
        text = msg.text_content or ""
        secret = holds_secret_number(text) or card_group
        if card_group:
            text = hide_numbers(text)
        prev = self._current.caller if self._current is not None else None
        if prev is not None and joins_long_number(self._last_caller_text, text):
            # a number read on across two turns: neither half may show (the previous is still open)
            prev.final_transcript = hide_numbers(self._last_caller_text)
            prev.partials = [Partial(text=hide_numbers(p.text), at=p.at) for p in prev.partials]
            self._secret_turns.add(self._current.turn)
            text, secret = hide_numbers(text), True
        self._last_caller_text = msg.text_content or ""
        self.finish_turn(state_before)
        m = msg.metrics or {}
        partials = [Partial(text=hide_numbers(p.text), at=p.at) for p in self._partials] if secret else self._partials
        caller = CallerPart(
            final_transcript=text,
            partials=partials,
            language=self._language,
            confidence=msg.transcript_confidence,
            speech_started_at=self._rel(m.get("started_speaking_at")),
            speech_ended_at=self._rel(m.get("stopped_speaking_at")),
            keyed=keyed,
        )
        self._partials = []
        self._current = self._new_turn(state_before.turn + 1, state_before, caller)
        if secret:
            self._secret_turns.add(self._current.turn)
        self._current.latencies.eos_to_final_transcript = m.get("transcription_delay")
        self._current.latencies.end_of_turn_delay = m.get("end_of_turn_delay")

    def finish_turn(self, state_after: ConversationState) -> TurnTrace | None:
        cur = self._current
        if cur is None:
            return None
        cur.state.after = summarize(state_after)
        cur.ended_at = self._rel(time.time())
        if cur.reply.planned_text and cur.reply.segments == 0:
            cur.reply.interrupted = True  # cut before its first word (the caller went on): none of it heard
        if self.true_eos and cur.caller is not None:
            cur.caller.true_speech_ended_at = self.true_eos(cur.caller)
        if self.heard_first_audio and cur.reply.first_audio_at is not None:
            cur.reply.first_audible_at = self.heard_first_audio(cur.reply.first_audio_at)
        self._fill_latency(cur)
        if cur.turn in self._secret_turns:
            self._note_secret_speech(cur)
        cur = TurnTrace.model_validate(scrubbed(cur))  # the one redaction point for every sink
        self.turns.append(cur)
        self._current = None  # type: ignore[assignment]
        for sink in self.sinks:
            sink(cur)
        return cur

    # ------------------------------------------------------------ framework events
    def on_transcribed(self, e: ev.UserInputTranscribedEvent) -> None:
        if e.language:
            self._language = str(e.language)
        if not e.is_final and e.transcript.strip():
            self._partials.append(Partial(text=mask_interim(e.transcript), at=self._rel(e.created_at) or 0.0))

    def on_agent_message(self, msg: Any) -> None:
        """An agent reply ended (played out or cut off)."""
        cur = self._current
        if cur is None:
            return
        text = msg.text_content or ""
        if msg.interrupted and asks_for_card_group(cur.reply.planned_text):
            text = hide_numbers(text)  # "4 1 1 1. What are" cut before "... four digits?": still a group
        m = msg.metrics or {}
        r = cur.reply
        r.segments += 1
        r.spoken_text = (r.spoken_text + " " + text).strip()
        r.interrupted = r.interrupted or bool(msg.interrupted)
        if r.segments == 1:
            cur.planner.ttft = m.get("llm_node_ttft")
            cur.latencies.planner_ttft = m.get("llm_node_ttft")
            cur.latencies.tts_first_audio = m.get("tts_node_ttfb")
            cur.latencies.e2e_latency_framework = m.get("e2e_latency")
            r.first_audio_at = self._rel(m.get("started_speaking_at"))

    def on_planned_text(self, text: str) -> None:
        cur = self._current
        if cur is not None and text:
            cur.reply.planned_text = (cur.reply.planned_text + " " + text).strip()
            cur.planner.output_text = cur.reply.planned_text

    def on_metrics(self, e: ev.MetricsCollectedEvent) -> None:
        cur = self._current
        if cur is not None and isinstance(e.metrics, lk_metrics.LLMMetrics):
            cur.planner.prompt_tokens += e.metrics.prompt_tokens
            cur.planner.completion_tokens += e.metrics.completion_tokens

    # ------------------------------------------------------------ runtime events
    def on_proposed(self, call_id: str, tool: str, redacted_args: dict[str, Any]) -> None:
        if self._current is not None:
            self._current.planner.proposed.append(ProposedCall(call_id=call_id, tool=tool, arguments=redacted_args))

    def on_rejected(self, call_id: str, tool: str, reason: str, by: str, state: str) -> None:
        if self._current is not None:
            # a reason may quote the model's value back ("amount_cents=4539148803436467 does not
            # match ..."): whatever the model put where, a card-like run is masked here too
            self._current.planner.rejections.append(Rejection(call_id=call_id, tool=tool,
                                                              reason=mask_card_numbers(reason),
                                                              by=by, state=state))  # type: ignore[arg-type]

    def on_tool_run(self, run: ToolRun) -> None:
        if self._current is not None:
            self._current.tools.append(run)

    def on_transitions(self, transitions: list[Transition]) -> None:
        if self._current is not None:
            self._current.state.transitions.extend(t.model_dump() for t in transitions)

    # ------------------------------------------------------------ redaction
    def _note_secret_speech(self, cur: TurnTrace) -> None:
        c = cur.caller
        if c is None or c.speech_started_at is None:
            return
        ends = [t for t in (c.speech_ended_at, c.true_speech_ended_at) if t is not None]
        self.secret_speech.append((c.speech_started_at, max(ends, default=c.speech_started_at)))

    # ------------------------------------------------------------ latency
    def _fill_latency(self, cur: TurnTrace) -> None:
        """THE turn latency at the ear when both ends were heard; the framework's beside it."""
        lat = cur.latencies
        frame = cur.reply.first_audio_at
        first_audio = cur.reply.first_audible_at
        lat.first_audio_source = self.ear_source if first_audio is not None else "frame" if frame is not None else "none"
        if first_audio is None:
            first_audio = frame
        if cur.caller is None:
            return
        vad_eos = cur.caller.speech_ended_at
        if vad_eos is not None and frame is not None:
            lat.eos_to_first_frame_framework = round(frame - vad_eos, 4)
        eos = cur.caller.true_speech_ended_at
        lat.eos_source = self.ear_source if eos is not None else "vad"
        if eos is None:
            eos = vad_eos
        if eos is None:
            lat.eos_source = "none"
        if eos is not None and first_audio is not None:
            lat.eos_to_first_audio = round(first_audio - eos, 4)

