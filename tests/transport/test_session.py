"""A real AgentSession, no room, driven through the simulated transport.

Engines are fakes (written against the livekit base classes, as none ship) except the
VAD, which is the real silero model, so the session's own audio plumbing is exercised:
input iteration, TTS resampling into the output, playout waiting and agent states.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import Agent, AgentSession, APIConnectOptions, llm, stt, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.plugins import silero

from worker.transport import AGENT, CALLER, CallRecorder, CapturingAgentOutput, SimulatedCallerInput

TTS_RATE = 22050  # deliberately not the output's 24 kHz: the session must resample


class ScriptedLLM(llm.LLM):
    """Always answers with one fixed sentence."""

    def __init__(self, reply: str = "Hello there.") -> None:
        super().__init__()
        self.reply = reply
        self.calls = 0

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict] = NOT_GIVEN,
    ) -> llm.LLMStream:
        self.calls += 1
        return _ScriptedStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _ScriptedStream(llm.LLMStream):
    async def _run(self) -> None:
        assert isinstance(self._llm, ScriptedLLM)
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=utils.shortuuid(),
                delta=llm.ChoiceDelta(role="assistant", content=self._llm.reply),
            )
        )


class ToneTTS(tts.TTS):
    """'Speaks' any text as a one-second 440 Hz tone."""

    def __init__(self, seconds: float = 1.0) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=TTS_RATE,
            num_channels=1,
        )
        self.seconds = seconds
        self.texts: list[str] = []

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        self.texts.append(text)
        return _ToneStream(tts=self, input_text=text, conn_options=conn_options)


class _ToneStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        assert isinstance(self._tts, ToneTTS)
        n = int(self._tts.seconds * TTS_RATE)
        t = np.arange(n) / TTS_RATE
        pcm = (np.sin(2 * np.pi * 440 * t) * 0.5 * 32767).astype(np.int16)
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=TTS_RATE,
            num_channels=1,
            mime_type="audio/pcm",
        )
        output_emitter.push(pcm.tobytes())
        output_emitter.flush()


class SilentSTT(stt.STT):
    """Batch STT that hears nothing (the test never plays speech)."""

    def __init__(self) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language="en", text="")],
        )


@pytest.mark.timeout(60) if hasattr(pytest.mark, "timeout") else (lambda f: f)
async def test_agent_session_speaks_through_simulated_transport(tmp_path) -> None:
    rec = CallRecorder(sample_rate=24000)
    caller = SimulatedCallerInput(recorder=rec)
    speaker = CapturingAgentOutput(recorder=rec, sample_rate=24000)
    fake_llm = ScriptedLLM("Hello there.")
    fake_tts = ToneTTS(seconds=1.0)

    session: AgentSession = AgentSession(
        vad=silero.VAD.load(),
        stt=SilentSTT(),
        llm=fake_llm,
        tts=fake_tts,
        # explicit, so neither the turn-detector model nor adaptive interruption loads
        turn_handling={
            "turn_detection": "vad",
            "interruption": {"mode": "vad"},
            "preemptive_generation": {"enabled": False},
        },
        aec_warmup_duration=None,
        user_away_timeout=None,
    )
    states: list[tuple[str, str]] = []
    session.on("agent_state_changed", lambda ev: states.append((ev.old_state, ev.new_state)))

    session.input.audio = caller
    session.output.audio = speaker
    await session.start(Agent(instructions="You greet people."))
    try:
        t_say = rec.clock.now()
        t0 = time.monotonic()
        handle = session.say("Hello there.")
        await asyncio.wait_for(handle.wait_for_playout(), 10)
        say_elapsed = time.monotonic() - t0

        # the LLM path: one generated reply, also spoken as a 1 s tone
        t_reply = rec.clock.now()
        reply = session.generate_reply(user_input="hi")
        await asyncio.wait_for(reply.wait_for_playout(), 10)
        await asyncio.sleep(0.2)
    finally:
        await session.aclose()
        await caller.aclose()
        await speaker.aclose()

    assert fake_tts.texts[:2] == ["Hello there.", "Hello there."]
    assert fake_llm.calls == 1

    # each reply played about one second, in real time, without interruption
    assert len(speaker.segments) == 2
    for seg in speaker.segments:
        assert not seg.interrupted
        assert seg.played == pytest.approx(1.0, abs=0.02)
    assert 0.95 <= say_elapsed <= 2.0

    # the session's view: speaking while audio played, then back to listening
    new_states = [new for _, new in states]
    i = new_states.index("speaking")
    assert "listening" in new_states[i + 1 :]
    assert new_states.count("speaking") == 2
    assert new_states[-1] in ("listening", "idle")

    # the recording: agent tone on the right when the transport said it played
    first = speaker.segments[0]
    assert first.started_at is not None and first.started_at >= t_say
    assert rec.energy_in_window(AGENT, first.started_at + 0.05, first.ended_at - 0.05) > 0.3
    assert speaker.segments[1].started_at >= t_reply
    # the caller channel carried the (silent) microphone the whole time
    assert rec.energy_in_window(CALLER, 0.0, rec.duration) == 0.0
    assert caller.frames_sent * caller.frame_duration >= say_elapsed
    rec.write(tmp_path / "call.wav")
