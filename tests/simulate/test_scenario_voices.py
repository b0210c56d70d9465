"""Scenarios name their caller's voices and sounds; a voice that cannot be is refused at load time."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.simulate.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nflow: insurance\n" + body)
    return path


def test_voices_and_sounds_load() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "bargein_backchannel.yaml")
    assert scenario.voice == "flite:slt"
    assert {line.voice for line in scenario.caller} >= {"piper", "espeak-ng:en-us+m3"}
    assert [line.sound for line in scenario.caller if line.sound] == ["cough"]
    assert scenario.caller[0].expect is not None and scenario.caller[0].expect.turn is False


@pytest.mark.parametrize("body, message", [
    ("caller:\n  - say: hi\n    voice: festival:kal\n", "unknown caller voice"),
    ("caller:\n  - say: hi\n    voice: 'espeak-ng:en; rm -rf /'\n", "unknown caller voice"),
    ("voice: flite:slt@9\ncaller:\n  - say: hi\n", "unknown caller voice"),
    ("caller:\n  - sound: cough\n    voice: flite:slt\n", "`voice` only applies to a `say` line"),
    ("caller:\n  - sound: sneeze\n", "sound"),
])
def test_a_bad_voice_or_sound_names_the_line(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as err:
        load_scenario(write(tmp_path, body))
    assert "line " in str(err.value)
