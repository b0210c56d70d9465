"""End to end: a caller who hesitates and pauses mid-sentence, in voices other than the agent's, is
never cut off (each line one turn), and every turn's latency is timed at the caller's ear."""

from __future__ import annotations

import asyncio
from pathlib import Path

from worker.settings import load_settings
from worker.simulate.runner import SimulatedCall
from worker.simulate.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_long_sentences_with_pauses_are_one_turn_each(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    scenario = load_scenario(ROOT / "scenarios" / "long_sentences.yaml")
    result = asyncio.run(SimulatedCall(scenario, settings, tmp_path).run())
    assert result.ok, result.failures  # includes `turns: 1` on every hesitant line
    answered = [t for t in result.turns if t.caller is not None and not t.reply.interrupted and t.reply.spoken_text]
    assert answered
    at_ear = []
    for t in answered:
        lat = t.latencies
        # the caller's end comes from the line the turn belongs to: no fallback to the VAD ("vad")
        assert (lat.eos_source, lat.first_audio_source) == ("audio", "audio"), (t.turn, t.caller)
        assert lat.eos_to_first_audio is not None and lat.eos_to_first_audio > 0
        at_ear.append(lat.eos_to_first_audio)
    assert sorted(at_ear)[len(at_ear) // 2] < 3.0  # generous (shared CPU); the figures live in `bench turns`
