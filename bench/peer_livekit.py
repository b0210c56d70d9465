"""The bare livekit-agents peer for `bench turns`: the same caller lines through a plain AgentSession.

Same engines as the runtime (Silero VAD, Whisper tiny.en, Piper with the joe voice, built by
`engine_catalog`), but livekit-agents' default turn handling (no `turn_handling=`: its default
endpointing and turn detector) and no runtime around it (no state machine, tools, journal or
trace). The planner is `FixedReplyLLM`: it answers every committed turn with the same short
question (`PeerPlan.reply`, the Pipecat peer says the same words), at once. The runtime's
deterministic planner also yields its first token within milliseconds, so planning costs about
nothing on either side; an earlier version gave the deterministic planner the flow's first
directive instead, which made it call tools the bare session does not have and answer late.

The caller lines are the WAVs `peer_lines.voice_scenario` wrote, the same samples the runtime
hears. Latency is timed at the caller's ear exactly as for the runtime: the line's last audible
sample → the first audible agent sample heard after it (`worker.transport.levels`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from livekit.agents import Agent, AgentSession, llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, APIConnectOptions, NotGivenOr
from livekit.agents.utils import shortuuid

from worker.call.engine_catalog import build_engines
from worker.settings import Settings
from worker.simulate.runner import read_wav
from worker.transport import CallClock, CallRecorder, CapturingAgentOutput, SimulatedCallerInput

from peer_lines import PeerPlan  # bench/ is on sys.path (turn_latency.py puts it there)
from peer_result import LineResult


class FixedReplyLLM(llm.LLM):
    """A livekit LLM that answers every turn with the same text, immediately."""

    def __init__(self, reply: str) -> None:
        super().__init__()
        self.reply = reply

    @property
    def model(self) -> str:
        return "fixed-reply"

    @property
    def provider(self) -> str:
        return "bench"

    def chat(self, *, chat_ctx: llm.ChatContext, tools: list[llm.Tool] | None = None,
             conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
             parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
             tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
             extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN) -> llm.LLMStream:
        return _FixedStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _FixedStream(llm.LLMStream):
    async def _run(self) -> None:
        assert isinstance(self._llm, FixedReplyLLM)
        self._event_ch.send_nowait(llm.ChatChunk(
            id=shortuuid("fixed_"), delta=llm.ChoiceDelta(role="assistant", content=self._llm.reply)))


async def bare_livekit_call(plan: PeerPlan, settings: Settings) -> list[LineResult]:
    """One call of `plan` through a bare AgentSession; one result per spoken caller line."""
    engines = build_engines(settings.model_copy(update={"turn_detection": "vad"}))  # no runtime turn rule in STT
    clock = CallClock()
    recorder = CallRecorder(sample_rate=24000, clock=clock)
    mic = SimulatedCallerInput(recorder=recorder, clock=clock)
    speaker = CapturingAgentOutput(recorder=recorder, clock=clock, sample_rate=24000)
    session = AgentSession(vad=engines.vad, stt=engines.stt, llm=FixedReplyLLM(plan.reply), tts=engines.tts)
    session.input.audio, session.output.audio = mic, speaker
    commits: list[float] = []  # when a caller turn was committed (a user message entered the chat)
    session.on("conversation_item_added",
               lambda ev: commits.append(clock.now()) if getattr(ev.item, "role", None) == "user" else None)
    await session.start(agent=Agent(instructions="Answer briefly."))
    session.say(plan.greeting)
    out: list[LineResult] = []
    try:
        reply_from: float | None = 0.0
        for line in plan.lines:
            try:
                await speaker.speech.wait_quiet(line.after_agent, spoke_after=reply_from, timeout=20,
                                                agent_state=lambda: session.agent_state)
            except TimeoutError:
                pass  # the last line got no reply: go on, as a caller would
            if line.wav is None:
                await asyncio.sleep(line.silence or 0.0)
                reply_from = None
                continue
            pcm, rate = read_wav(line.wav)
            utt = await mic.say(pcm, rate)
            reply_from = utt.end
            end = utt.audible_end if utt.audible_end is not None else utt.end
            heard = None
            for _ in range(100):  # up to 10 s for the reply
                await asyncio.sleep(0.1)
                heard = speaker.first_audible_after(end)
                if heard is not None:
                    break
            out.append(LineResult(line=line.line, audible_end=end, heard=heard,
                                  early_commits=sum(utt.start <= t < end for t in commits)))
        try:
            await speaker.speech.wait_quiet(0.5, spoke_after=reply_from, timeout=10,
                                            agent_state=lambda: session.agent_state)
        except TimeoutError:
            pass
    finally:
        await session.aclose()
        await mic.aclose()
        await speaker.aclose()
    return out


def bare_livekit(plans: list[PeerPlan], settings: Settings) -> list[LineResult]:
    """Every plan once, each in its own event loop (one call at a time, like the runtime's runs)."""
    results: list[LineResult] = []
    for plan in plans:
        results += asyncio.run(bare_livekit_call(plan, settings))
    return results
