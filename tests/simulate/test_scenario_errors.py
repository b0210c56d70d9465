"""Scenario files: a bad file stops with one error naming the file and the offending line.

Whoever writes scenarios edits YAML by hand; an error that points at the wrong line (or at
line 1 for everything) sends them hunting. Each case below puts the mistake on a known line.
"""

from __future__ import annotations

import re
import wave
from pathlib import Path

import pytest

from worker.simulate.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]

# (case id, file text, line the error must name, words the message must contain)
BAD: list[tuple[str, str, int, str]] = [
    ("invalid-yaml",
     "name: x\n"
     "flow: real_estate\n"
     "caller:\n"
     "  - say: hi\n"
     "    after_agent: 0.5: 3\n",
     5, "not valid YAML"),
    ("say-and-wav",
     "# a comment first\n"
     "name: x\n"
     "flow: real_estate\n"
     "caller:\n"
     "  - say: hi\n"
     "  - say: hello\n"
     "    wav: hello.wav\n",
     6, "exactly one of `say`, `wav`, `sound` or `silence`"),
    ("after-agent-and-barge-in",
     "name: x\n"
     "flow: real_estate\n"
     "caller:\n"
     "  - say: hi\n"
     "  - say: there\n"
     "    after_agent: 0.5\n"
     "    barge_in: 0.2\n",
     5, "either `after_agent` or `barge_in`"),
    ("unknown-key-in-a-line",
     "name: x\n"
     "flow: real_estate\n"
     "caller:\n"
     "  - say: hi\n"
     "  - say: there\n"
     "    after_agent: 0.5\n"
     "    colour: blue\n",
     7, "colour"),
    ("missing-wav",
     "name: x\n"
     "flow: real_estate\n"
     "caller:\n"
     "  - say: hi\n"
     "  - wav: nowhere/missing.wav\n",
     5, "missing.wav does not exist"),
    ("unknown-flow",
     "# comment\n"
     "\n"
     "name: x\n"
     "flow: mortgage\n"
     "caller:\n"
     "  - say: hi\n",
     4, "flow"),
    ("bad-top-level-value",
     "name: x\n"
     "flow: real_estate\n"
     "caller:\n"
     "  - say: hi\n"
     "max_seconds: soon\n",
     5, "max_seconds"),
    ("bad-nested-expectation",
     "name: x\n"
     "flow: real_estate\n"
     "caller:\n"
     "  - say: hi\n"
     "    expect:\n"
     "      state: done\n"
     "      effects:\n"
     "        bookings: many\n",
     8, "effects.bookings"),
    ("a-list-not-a-mapping",
     "- say: hi\n"
     "- say: there\n",
     1, "mapping"),
    ("a-scalar-not-a-mapping",
     "just some words\n",
     1, "mapping"),
    ("empty-file", "", 1, "mapping"),
]


@pytest.mark.parametrize("text, line, words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_scenario_names_its_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)

    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)

    message = str(exc.value)
    assert message.startswith(str(path))
    assert re.findall(r"\bline (\d+)", message) == [str(line)]
    assert words in message
    assert "\n" not in message  # one line, fit for a terminal


def test_an_unreadable_file_is_a_scenario_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(missing)


def test_wav_paths_resolve_beside_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "clips").mkdir()
    with wave.open(str(tmp_path / "clips" / "hello.wav"), "wb") as w:  # checked at load: a real clip
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x01" * 160)
    path = tmp_path / "ok.yaml"
    path.write_text("name: x\nflow: insurance\ncaller:\n  - wav: clips/hello.wav\n    barge_in: 0.3\n")

    scenario = load_scenario(path)

    line = scenario.caller[0]
    assert line.wav == tmp_path / "clips" / "hello.wav"
    assert (line.barge_in, line.after_agent, line.line) == (0.3, None, 4)


@pytest.mark.parametrize("name, flow, lines", [
    ("tour_booking", "real_estate", 8),
    ("insurance_renewal", "insurance", 5),
])
def test_the_shipped_scenarios_load(name: str, flow: str, lines: int) -> None:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")

    assert scenario.name == name and scenario.flow == flow and scenario.today is not None
    assert len(scenario.caller) == lines
    assert all(c.say for c in scenario.caller)
    # the loader's line bookkeeping must not leak into the validated data
    assert all(c.line > 0 for c in scenario.caller)
    assert [c.line for c in scenario.caller] == sorted({c.line for c in scenario.caller})
    assert scenario.expect.state == "done" and scenario.expect.ended is True
    assert "__line__" not in scenario.model_dump_json() and "__keys__" not in scenario.model_dump_json()
