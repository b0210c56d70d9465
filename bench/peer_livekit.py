"""The bare livekit-agents peer for `bench turns`: the same caller lines through a plain AgentSession.

Same engines as the runtime (Silero VAD, Whisper, the deterministic planner, Piper, built by
`engine_catalog`), but livekit-agents' default turn handling (no `turn_handling=`: its hidden
default turn detector, the local v1-mini model, and default endpointing) and no runtime around
it (no state machine, tools, journal or trace). The planner gets the flow's first directive as
fixed instructions, so it answers every line with a question, as fast as it can. Latency is
timed at the caller's ear exactly as for the runtime: the line's last audible sample → the first
audible agent sample heard after it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from livekit.agents import Agent, AgentSession

from worker.call.engine_catalog import build_engines
from worker.flow.library import load_flow
from worker.flow.machine import ConversationMachine
from worker.planner.llm import render_directive
from worker.settings import Settings
from worker.simulate.caller_lines import voice_line
from worker.simulate.scenario import Scenario
from worker.transport import CallClock, CallRecorder, CapturingAgentOutput, SimulatedCallerInput


async def bare_livekit_call(scenario: Scenario, settings: Settings) -> list[float]:
    """Seconds at the ear for each answered caller line of `scenario`."""
    engines = build_engines(settings.model_copy(update={"turn_detection": "vad"}))
    clock = CallClock()
    recorder = CallRecorder(sample_rate=24000, clock=clock)
    mic = SimulatedCallerInput(recorder=recorder, clock=clock)
    speaker = CapturingAgentOutput(recorder=recorder, clock=clock, sample_rate=24000)
    machine = ConversationMachine(load_flow(scenario.flow))
    directive = machine.directive()
    directive["today"] = (scenario.today or settings.resolved_today()).isoformat()
    session = AgentSession(vad=engines.vad, stt=engines.stt, llm=engines.llm, tts=engines.tts)
    session.input.audio, session.output.audio = mic, speaker
    agent = Agent(instructions="You are a helpful agent.\n" + render_directive(directive))
    await session.start(agent=agent)
    session.say(load_flow(scenario.flow).greeting)
    out: list[float] = []
    try:
        last_end: float | None = 0.0
        for line in scenario.caller:
            if line.say is None:
                continue
            pcm, rate = await asyncio.to_thread(voice_line, line.say, line.voice)
            await speaker.speech.wait_quiet(line.after_agent or 0.6, spoke_after=last_end, timeout=45,
                                            agent_state=lambda: session.agent_state)
            utt = await mic.say(pcm, rate)
            last_end = utt.end
            heard = None
            for _ in range(100):  # up to 10 s for the reply
                await asyncio.sleep(0.1)
                heard = speaker.first_audible_after(utt.audible_end or utt.end)
                if heard is not None:
                    break
            if heard is not None:
                out.append(heard - (utt.audible_end or utt.end))
    except TimeoutError:
        pass
    finally:
        await session.aclose()
        await mic.aclose()
        await speaker.aclose()
    return out


def bare_livekit(scenarios: list[Scenario], settings: Settings, runs: int) -> list[float]:
    values: list[float] = []
    for _ in range(runs):
        for scenario in scenarios:
            values += asyncio.run(bare_livekit_call(scenario, settings))
    return values


if __name__ == "__main__":
    import sys

    from worker.settings import load_settings
    from worker.simulate.scenario import load_scenario

    got = bare_livekit([load_scenario(Path(p)) for p in sys.argv[1:]], load_settings(), 1)
    print([round(v, 3) for v in got])
