"""The AgentSession every call runs in, with every turn-taking choice explicit.

livekit-agents silently loads a turn-detector model and an AEC warm-up when options are left
out (see the shared guide); here each one is set from settings, and simulated calls and rooms
share one definition so their latency figures are comparable.

Preemptive generation (livekit-agents runs the LLM, and optionally TTS, on the transcript before
the turn is committed) stays off, measured and read in livekit-agents 1.8.9:

* It has nothing to overlap. In "rule" mode (the default, "stt" turn detection) it never fires:
  the framework starts it on a PREFLIGHT transcript, which Whisper's stream does not send, and
  its FINAL comes with the END_OF_SPEECH that commits the turn (`bench turns`: end of speech →
  final transcript and → turn committed are the same figure, ±6 ms). In every mode the
  deterministic planner's first token is 1 ms p50, under 20 ms p95: there is no LLM time to hide.
* It is not clean with our Conversation. The machine takes the caller's turn only at commit
  (`FlowAgent.on_user_turn_completed`), and the planner reads it through the directive in the
  instructions, so a speculative run plans on the state before the turn; livekit adopts it
  only when the refreshed instructions equal the speculative ones (slots are mostly filled by
  tools, so the directive seldom moves at commit). Tools wait for the scheduled speech, and
  the machine and journal never see the speculative turn. But `FlowAgent.llm_node` reports
  planned text to the trace as it streams, before the new turn is opened, so speculative text
  lands in the previous turn's trace. Measured (tour_booking, "vad" mode, preemptive on, LLM
  only): 6 of 8 speculative replies adopted, 2 discarded, and every reply's planned text
  shifted one turn back in the trace (turn 6 "planned" turn 7's "Booking that now.").
  Turning it on would need the trace to take planned text from scheduled speech only, and a
  PREFLIGHT transcript from Whisper's stream in "rule" mode to give it anything to overlap
  (the only stage worth starting early is Piper's first clause, `preemptive_tts`).
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
