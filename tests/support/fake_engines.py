"""Fake engines for tests that run a real ``AgentSession`` without loading Whisper or Piper.

Why fakes of the base classes and not mocks: the session's own plumbing (streams, TTS
resampling into the output, playout waiting, agent states) then runs unchanged, and what
the engines produce is known exactly (a fixed reply, a pure tone of a fixed length).
The STT and TTS are the product's instant engines (`worker.engines.instant`, also used by
`bench concurrency` to measure the runtime alone); the scripted LLM stays a test fake.
"""

from __future__ import annotations

from livekit.agents import APIConnectOptions, llm, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr

from worker.engines.instant import TTS_RATE, InstantSTT, InstantTTS

__all__ = ["TTS_RATE", "ScriptedLLM", "SilentSTT", "ToneTTS"]

SilentSTT = InstantSTT
"""Batch STT that returns its ``text`` for every utterance ("" = heard nothing useful)."""


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


class ToneTTS(InstantTTS):
    """'Speaks' any text as a 440 Hz tone of ``seconds`` (one second by default)."""

    def __init__(self, seconds: float = 1.0) -> None:
        super().__init__(seconds=seconds)
