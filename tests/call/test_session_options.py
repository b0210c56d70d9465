"""The call's AgentSession never generates on a transcript before the turn is committed: with our
Conversation a speculative reply's planned text lands in the previous turn's trace and it has
nothing to overlap (see `worker.call.session_options`)."""

from __future__ import annotations

from livekit.plugins import silero

from tests.support.fake_engines import ScriptedLLM, SilentSTT, ToneTTS
from worker.call.engine_catalog import Engines
from worker.call.session_options import build_session
from worker.settings import Settings


async def test_preemptive_generation_stays_off_in_every_turn_detection_mode() -> None:
    engines = Engines(vad=silero.VAD.load(), stt=SilentSTT(), llm=ScriptedLLM(), tts=ToneTTS(), names={})
    for mode in ("rule", "vad"):
        session = build_session(engines, Settings(_env_file=None, turn_detection=mode))  # type: ignore[call-arg]
        assert session.options.preemptive_generation["enabled"] is False
