"""Scenario caller lines: named voices and `[pause N]` markup, voiced at run time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from worker.simulate.caller_lines import split_pauses, voice_line
from worker.simulate.scenario import ScenarioError, load_scenario
from worker.transport.levels import audible_spans

ROOT = Path(__file__).resolve().parents[2]


def test_pause_markup_splits_the_text() -> None:
    assert split_pauses("Um, [pause 0.7] so, [pause 0.4s] Oakland.") == ["Um,", 0.7, "so,", 0.4, "Oakland."]
    assert split_pauses("Two PM works for me.") == ["Two PM works for me."]
    with pytest.raises(ValueError):
        split_pauses("wait [pause 99]")


@pytest.mark.parametrize("voice", ["espeak-ng:en-us", "flite:slt"])
def test_a_marked_pause_is_heard_as_silence(voice: str) -> None:
    pcm, rate = voice_line("I'm looking in, uh, [pause 0.8] Oakland.", voice)
    spans = audible_spans(pcm, rate, min_gap=0.1)
    gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    assert pcm.dtype == np.int16 and rate == 16000
    assert max(gaps) >= 0.75


def test_a_scenario_names_a_voice_and_rejects_an_unknown_one(tmp_path: Path) -> None:
    good = load_scenario(ROOT / "scenarios" / "long_sentences.yaml")
    assert {ln.voice for ln in good.caller if ln.voice} >= {"espeak-ng:en-us", "flite:slt"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nflow: real_estate\ncaller:\n  - say: hi\n    voice: 'sam:robot'\n")
    with pytest.raises(ScenarioError, match="line 4"):
        load_scenario(bad)
