"""The AgentSession every call runs in, with every turn-taking choice explicit.

livekit-agents silently loads a turn-detector model and an AEC warm-up when options are left
out (see the shared guide); here each one is set from settings, and simulated calls and rooms
share one definition so their latency figures are comparable.
"""

from __future__ import annotations

from livekit.agents import AgentSession

from worker.call.engine_catalog import Engines
from worker.call.turn_end import build_turn_detection
from worker.settings import Settings


def build_session(engines: Engines, settings: Settings) -> AgentSession:
    return AgentSession(
        vad=engines.vad,
        stt=engines.stt,
        llm=engines.llm,
        tts=engines.tts,
        max_tool_steps=6,
        aec_warmup_duration=None,
        turn_handling={
            "turn_detection": build_turn_detection(settings),
            "endpointing": {"min_delay": settings.endpointing_min_delay, "max_delay": settings.endpointing_max_delay},
            "interruption": {"mode": "vad", "min_duration": settings.interrupt_min_duration,
                             "resume_false_interruption": True, "false_interruption_timeout": settings.false_interruption_timeout},
            "preemptive_generation": {"enabled": False},
        },
    )
