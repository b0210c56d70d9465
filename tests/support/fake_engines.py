"""Fake engines written against livekit-agents' own base classes (``llm.LLM``, ``tts.TTS``,
``stt.STT``), for tests that run a real ``AgentSession`` without loading Whisper or Piper.

Why fakes of the base classes and not mocks: the session's own plumbing (streams, TTS
resampling into the output, playout waiting, agent states) then runs unchanged, and what
the engines produce is known exactly (a fixed reply, a pure tone of a fixed length).
"""

from __future__ import annotations

import numpy as np
from livekit.agents import APIConnectOptions, llm, stt, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr

TTS_RATE = 22050
"""The tone's sample rate: deliberately not the simulated output's 24 kHz, so the session must resample."""


class ScriptedLLM(llm.LLM):
    """Always answers with one fixed sentence; counts how often it was asked."""

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
    """'Speaks' any text as a 440 Hz tone of ``seconds`` (one second by default)."""

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
    """Batch STT that returns ``text`` for every utterance ("" = heard nothing useful)."""

    def __init__(self, text: str = "") -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self.text = text

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language="en", text=self.text)],
        )
