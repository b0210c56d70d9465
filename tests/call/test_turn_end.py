"""The settings choose how a turn ends: by the reading rule inside Whisper's stream (default), by
livekit's turn-detector model, or by the VAD's silence."""

from __future__ import annotations

from worker.call.engine_catalog import _end_of_turn
from worker.call.turn_end import build_turn_detection
from worker.settings import Settings


def _settings(**kw: object) -> Settings:
    return Settings(_env_file=None, **kw)  # type: ignore[call-arg]


def test_the_rule_ends_turns_in_the_stt_stream() -> None:
    rule = _settings(turn_detection="rule")
    assert build_turn_detection(rule) == "stt"
    judge = _end_of_turn(rule)
    assert judge is not None and judge("Two PM works for me.") and not judge("I'm looking in, um,")
    assert not judge("Two PM works for me")  # no sentence end from the recogniser: wait


def test_vad_and_livekit_modes_keep_silence_based_ends() -> None:
    vad = _settings(turn_detection="vad")
    assert build_turn_detection(vad) == "vad" and vad.vad_silence == 0.45 and _end_of_turn(vad) is None
    assert _settings(turn_detection="livekit").vad_silence == 0.2
    assert _settings(turn_detection="vad", vad_min_silence=0.3).vad_silence == 0.3
