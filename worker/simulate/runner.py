"""Runs one simulated call: a scripted caller through the real voice pipeline, in real time.

The caller's lines are voiced by the offline TTS (or read from WAV), played into an
AgentSession's microphone at real-time pace, and the agent's audio is played out and recorded
the same way, so VAD, recognition, barge-in and latency behave as on a phone line. The result
is the per-turn trace, a stereo recording, and the expectations checked against real state.
"""

from __future__ import annotations

import asyncio
import json
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from livekit.agents import AgentSession
from loguru import logger

from tools.redact import mask_card_numbers
from tools.sandbox.core import Sandbox
from worker.call.assembly import CallAssembly, new_call_id
from worker.call.conversation import Conversation
from worker.engines.piper_tts import synthesize_pcm
from worker.settings import Settings
from worker.simulate.caller_lines import voice_line
from worker.simulate.expectations import check_expectations
from worker.simulate.persona import PersonaOutcome, judge
from worker.simulate.persona_call import PersonaCaller
from worker.simulate.scenario import CallerLine, Scenario
from worker.simulate.sounds import make_sound
from worker.simulate.voices import Voice, speak
from worker.trace.records import CallerPart, TurnTrace
from worker.transport.echo import EchoCanceller, Speakerphone
from worker.transport import AgentAudioEvent, CallClock, CallerUtterance, CallRecorder, CapturingAgentOutput, SimulatedCallerInput


@dataclass
class CallResult:
    call_id: str
    scenario: str
    turns: list[TurnTrace]
    final_state: dict[str, Any]
    effects: dict[str, int]
    failures: list[str]
    trace_path: Path
    wav_path: Path
    sandbox_path: Path
    duration: float
    utterances: list[CallerUtterance] = field(default_factory=list)
    agent_audio: list[AgentAudioEvent] = field(default_factory=list)
    """When the caller heard the agent start and stop (pauses and resumes included)."""
    persona: PersonaOutcome | None = None

    @property
    def ok(self) -> bool:
        return not self.failures


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A mono 16-bit view of a WAV file (stereo is folded; 8/24/32-bit are rejected clearly)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported (got {8 * w.getsampwidth()}-bit)")
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1).astype(np.int16)
        return data, w.getframerate()


INSIDE_LINE_S = 0.3
"""A turn whose end of speech comes this much before its line's last audible sample ended inside
the line. The end of speech is never before the last audible sample otherwise (it comes 60-210 ms
after it, `bench turns` "detect"); 0.3 s leaves room for a quiet word tail the VAD drops."""


def line_of(speech_start: float, lines: list[CallerUtterance], slack: float = 0.3) -> CallerUtterance | None:
    """The caller line a turn whose speech began at `speech_start` belongs to (call time; the
    same match as `expectations.turns_of_line`): the latest line it began in, with `slack`."""
    return next((u for u in reversed(lines) if u.start - slack <= speech_start <= u.end + slack), None)


class SimulatedCall:
    """One scripted call; `await run()` returns a CallResult."""

    def __init__(self, scenario: Scenario, settings: Settings, out_dir: Path, call_id: str | None = None) -> None:
        self.scenario = scenario
        if scenario.sandbox_faults and not settings.sandbox_faults:
            settings = settings.model_copy(update={"sandbox_faults": scenario.sandbox_faults})
        self.settings = settings
        self.call_id = call_id or new_call_id()
        self.dir = out_dir / self.call_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self.today = scenario.today or settings.resolved_today()
        self.clock = CallClock()
        self.recorder = CallRecorder(sample_rate=24000, clock=self.clock)
        self.speaker = CapturingAgentOutput(recorder=self.recorder, clock=self.clock, sample_rate=24000)
        echo = scenario.echo
        self.mic = SimulatedCallerInput(recorder=self.recorder, clock=self.clock, echo=None if echo is None else
                                        Speakerphone(self.speaker.played, level_db=echo.level_db,
                                                     delay=echo.delay_ms / 1000))
        self.utterances: list[CallerUtterance] = []
        self.failures: list[str] = []
        self.persona = (PersonaCaller(scenario.persona, scenario.flow, self.mic, self.speaker, self.clock.now)
                        if scenario.persona else None)
        if self.persona is not None:
            self.utterances = self.persona.utterances  # the same list: kept when the call times out
        self.log = logger.bind(call_id=self.call_id, turn="-")

    # ------------------------------------------------------------ timing helpers
    async def _agent_quiet(self, quiet: float, spoke_after: float | None, session: AgentSession, timeout: float) -> None:
        """Wait until the agent has been neither speaking nor thinking for `quiet` seconds."""
        await self.speaker.speech.wait_quiet(quiet, spoke_after=spoke_after, timeout=timeout,
                                             agent_state=lambda: session.agent_state)

    def _true_eos(self, caller: CallerPart) -> float | None:
        """When the caller's words of this turn ended at the ear: the last audible sample of the
        caller line the turn belongs to (its speech began while that line played), not the
        buffer's end. A turn that ended at a pause inside its line (the line went on as another
        turn, a cut-off) ended at the last audible span before its end of speech."""
        begun = caller.speech_started_at
        line = None if begun is None else line_of(begun, self.utterances)
        if line is None or line.audible_end is None:
            return None
        vad_end = caller.speech_ended_at
        if vad_end is not None and vad_end < line.audible_end - INSIDE_LINE_S:
            before = [end for _, end in line.audible if end <= vad_end]
            if before:
                return before[-1]
        return line.audible_end

    async def _voice(self, line: CallerLine) -> tuple[np.ndarray, int]:
        if line.wav is not None:
            return read_wav(line.wav)
        if line.sound is not None:
            return make_sound(line.sound)
        if "[pause" in (line.say or "").lower():
            return await asyncio.to_thread(voice_line, line.say or "", line.voice or self.scenario.voice)
        voice = Voice.parse(line.voice or self.scenario.voice)
        if voice == Voice(engine="piper", name="joe"):
            return await asyncio.to_thread(synthesize_pcm, line.say or "")  # the agent's own voice, as is
        audio = await asyncio.to_thread(speak, voice, line.say or "")
        return (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16), 16000

    # ------------------------------------------------------------ the call
    async def _play_script(self, conv: Conversation, session: AgentSession) -> None:
        last_end: float | None = 0.0
        lines = self.scenario.caller
        started: AgentAudioEvent | None = None
        reply_from: float | None = 0.0  # where the reply the next `after_agent` line waits for begins
        talked_over = False  # the agent talked on over the last line without stopping
        ready: asyncio.Future[tuple[np.ndarray, int]] | None = None  # the next line, voiced during a silence
        for i, line in enumerate(lines):
            if line.silence is not None:
                pcm, rate = np.zeros(0, np.int16), 16000
            else:
                pcm, rate = await (ready or self._voice(line))
            ready = None
            if conv.machine.s.ended:
                self.failures.append(f"line {line.line}: the call ended before this caller line")
                return
            try:
                if line.barge_in is not None and talked_over and last_end is not None:
                    # the agent is still on the reply it talked on over the last line: count from that line
                    await asyncio.sleep(max(0.0, last_end + line.barge_in - self.clock.now()))
                elif line.barge_in is not None:
                    started = await self.speaker.speech.wait_started(after=last_end, timeout=30)
                    await asyncio.sleep(max(0.0, started.at + line.barge_in - self.clock.now()))
                else:
                    await self._agent_quiet(line.after_agent or 0.0, reply_from, session, timeout=45)
            except TimeoutError:
                self.failures.append(f"line {line.line}: the agent never replied before this caller line")
                return
            if line.silence is not None:
                self.log.info("caller stays silent for {:.1f} s", line.silence)
                if i + 1 < len(lines) and lines[i + 1].silence is None:
                    # voice the next line now, so `silence: N` is N seconds and not N + synthesis time
                    ready = asyncio.ensure_future(self._voice(lines[i + 1]))
                await asyncio.sleep(line.silence)
                last_end = reply_from = None
                talked_over = False
                continue
            if conv.machine.s.ended or conv.ended.is_set():  # the agent hung up while we waited
                self.failures.append(f"line {line.line}: the call ended before this caller line")
                return
            self.log.info("caller line {}: {}", i + 1, mask_card_numbers(line.say or line.sound or str(line.wav)))
            # once the session is closed nothing reads the microphone, so say() would never finish
            saying = asyncio.ensure_future(self.mic.say(pcm, rate))
            hung_up = asyncio.ensure_future(conv.ended.wait())
            await asyncio.wait({saying, hung_up}, return_when=asyncio.FIRST_COMPLETED)
            hung_up.cancel()
            if not saying.done():
                saying.cancel()
                self.failures.append(f"line {line.line}: the call ended while the caller was saying this line")
                return
            utt = saying.result()
            self.utterances.append(utt)
            last_end = utt.end
            talked_over = line.barge_in is not None and self.speaker.speech.speaking and started is not None
            # the agent talked on over this line (a backchannel, a cough): a next `after_agent`
            # line waits for the end of that reply, not for a reply that starts after the line
            reply_from = started.at if talked_over and started is not None else last_end

    async def _play_persona(self, conv: Conversation, session: AgentSession) -> None:
        assert self.persona is not None

        async def wait_quiet(after: float | None) -> None:
            await self._agent_quiet(0.6, after, session, timeout=45)

        await self.persona.play(conv, session, wait_quiet)

    def _judge(self, conv: Conversation) -> PersonaOutcome | None:
        """A persona call fails on any effect that contradicts the persona's facts, and when
        its goal (a booking, a charge) was not reached exactly once."""
        if self.persona is None or self.scenario.persona is None:
            return None
        outcome = judge(self.scenario.persona, self.scenario.flow, [r for t in conv.trace.turns for r in t.tools])
        outcome.read_backs = self.persona.answers.read_backs
        outcome.corrections = self.persona.answers.corrections
        self.failures += [f"wrong effect: {w}" for w in outcome.wrong_effects]
        if not outcome.completed and not outcome.wrong_effects:
            goal = "a booking" if self.scenario.flow == "real_estate" else "a charge"
            self.failures.append(f"the persona's goal ({goal}) was not reached")
        return outcome

    async def run(self) -> CallResult:
        started = time.monotonic()
        trace_path = self.dir / "trace.jsonl"
        async with CallAssembly(self.settings, flow=self.scenario.flow, today=self.today, data_dir=self.dir,
                                call_id=self.call_id, trace_path=trace_path,
                                trace_t0=self.clock.t0 + (time.time() - time.monotonic()),
                                true_eos=self._true_eos,
                                heard_first_audio=self.speaker.first_audible_after) as call:
            conv = call.conversation
            # only on a line with echo: with nothing to cancel, AEC3 still damped short words said
            # over the agent (an "okay" no longer paused it), so a clean line goes in as it is
            cancel = self.settings.echo_cancellation and self.scenario.echo is not None
            audio_in = EchoCanceller(self.mic, self.speaker.played) if cancel else self.mic
            await call.start(audio_in=audio_in, audio_out=self.speaker)
            try:
                play = self._play_persona(conv, call.session) if self.persona else self._play_script(conv, call.session)
                await asyncio.wait_for(play, timeout=self.scenario.max_seconds)
                await self._wait_for_end(conv, call.session)
            except asyncio.TimeoutError:
                self.failures.append(f"the call did not finish within {self.scenario.max_seconds:.0f} s")
            finally:
                await call.stop()
                await self.mic.aclose()
                await self.speaker.aclose()
            effects = count_effects(call.sandbox)
        wav_path = self.recorder.write(self.dir / "call.wav", silence=conv.trace.secret_speech)
        final = conv.machine.snapshot()
        self.failures += check_expectations(self.scenario, conv.trace.turns, final, effects, self.utterances,
                                            self.speaker.speech.timeline)
        outcome = self._judge(conv)
        result = CallResult(
            call_id=self.call_id, scenario=self.scenario.name, turns=conv.trace.turns,
            final_state=final.model_dump(mode="json", exclude={"in_flight_args"}), effects=effects,
            failures=self.failures, trace_path=trace_path, wav_path=wav_path, sandbox_path=call.sandbox_path,
            duration=time.monotonic() - started, utterances=self.utterances,
            agent_audio=list(self.speaker.speech.timeline), persona=outcome)
        (self.dir / "summary.json").write_text(json.dumps(summary(result), indent=2, default=str))
        return result

    async def _wait_for_end(self, conv: Conversation, session: AgentSession) -> None:
        """After the script: let the agent answer, then hang up unless the flow ended the call."""
        try:
            await asyncio.wait_for(conv.ended.wait(), timeout=20)
            return
        except asyncio.TimeoutError:
            pass
        try:
            await self._agent_quiet(2.0, None, session, timeout=20)
        except TimeoutError:
            pass
        if not conv.ended.is_set():
            await conv.end("caller hung up")
            try:
                await asyncio.wait_for(conv.ended.wait(), timeout=10)
            except asyncio.TimeoutError:
                pass


def count_effects(sandbox: Sandbox) -> dict[str, int]:
    """The rows the call's tools wrote: what expectations count as effects."""
    return {
        "bookings": sandbox.calendar.count_bookings(),
        "charges": sandbox.payments.count_charges(),
        "cases": sandbox.cases.count_cases(),
        "opportunities": sandbox.crm.count_opportunities(),
    }


def summary(result: CallResult) -> dict[str, Any]:
    """The JSON summary `simulate --json` prints."""
    return {
        "call_id": result.call_id,
        "scenario": result.scenario,
        "ok": result.ok,
        "expectations_met": result.ok,
        "failures": result.failures,
        "turns": [
            {
                "turn": t.turn,
                "caller": t.caller.final_transcript if t.caller else None,
                "agent": t.reply.spoken_text,
                "interrupted": t.reply.interrupted,
                "tools": [{"name": r.name, "ok": r.ok, "arguments": r.arguments, "result": r.result,
                           "error": r.error} for r in t.tools],
                "rejections": [r.model_dump() for r in t.planner.rejections],
                "state": [t.state.before.state, t.state.after.state],
                "latencies": t.latencies.model_dump(),
            }
            for t in result.turns
        ],
        "tool_calls": [{"turn": t.turn, "name": r.name, "ok": r.ok} for t in result.turns for r in t.tools],
        "final_state": {k: result.final_state[k] for k in ("state", "phase", "turn", "ended", "end_reason")},
        "effects": result.effects,
        "agent_audio": [{"kind": e.kind, "reason": e.reason, "segment": e.segment, "at": round(e.at, 3),
                         "position": round(e.position, 3)} for e in result.agent_audio],
        "caller_lines": [{"start": round(u.start, 3), "end": round(u.end, 3)} for u in result.utterances],
        "artifacts": {"trace": str(result.trace_path), "audio": str(result.wav_path),
                      "sandbox": str(result.sandbox_path)},
        "duration_s": round(result.duration, 2),
        "persona": result.persona.model_dump() if result.persona else None,
    }
