"""`bench turns --peers`: the peers' results are read, summarised and compared as printed.

The peers themselves run only in the bench (Pipecat installs into its own environment, too slow
for CI); these tests cover what turns their output into figures, and that every system is fed
the same caller WAVs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import peer_pipecat  # noqa: E402
from peer_lines import MIC_RATE, voice_scenario  # noqa: E402
from peer_result import LineResult, PeerRun, ratio_lines, summary_line  # noqa: E402

from worker.engines.piper_tts import synthesize_pcm  # noqa: E402
from worker.simulate.scenario import Scenario  # noqa: E402
from worker.transport.pcm import resample_mono  # noqa: E402


def test_pipecat_result_json_becomes_line_results_with_ear_latency() -> None:
    text = json.dumps({"lines": [
        {"line": 7, "audible_end": 6.76, "heard": 7.43, "early_commits": 0},
        {"line": 9, "audible_end": 11.95, "heard": None, "early_commits": 2},
    ]})
    lines = peer_pipecat.parse_result(text)
    assert [r.line for r in lines] == [7, 9]
    assert lines[0].ear == pytest.approx(0.67)
    assert lines[1].ear is None
    run = PeerRun(name="pipecat", lines=lines)
    assert run.ear == [pytest.approx(0.67)]
    assert (run.cut, run.unanswered) == (1, 1)


@pytest.mark.parametrize("text", ["not json", json.dumps({"rows": []}), json.dumps({"lines": [{"line": 1}]})])
def test_a_malformed_pipecat_result_is_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match="unreadable Pipecat peer result"):
        peer_pipecat.parse_result(text)


def test_ratios_are_runtime_over_peer_per_mode_and_a_failed_peer_says_why() -> None:
    peer = PeerRun(name="pipecat", lines=[LineResult(line=i, audible_end=0.0, heard=v)
                                          for i, v in enumerate([0.8, 1.0, 1.2])])
    broken = PeerRun(name="bare-livekit", error="RuntimeError: boom")
    out = ratio_lines({"rule": [0.4, 0.5, 0.6], "vad": [0.8, 1.0, 1.2]}, [peer, broken])
    assert out[0].split() == ["runtime", "rule", "/", "pipecat", "p50", "0.50", "p95", "0.50"]
    assert out[1].split()[-4:] == ["p50", "1.00", "p95", "1.00"]
    assert out[2] == "  runtime / bare-livekit: no figures (RuntimeError: boom)"


def test_summary_line_prints_ms_and_the_cut_off_share() -> None:
    line = summary_line("pipecat", [0.5, 0.7, 0.9], cut=1, lines=4)
    assert line.split() == ["pipecat", "n", "3", "p50", "700", "p95", "880", "cut-offs", "1/4", "(25.0%)"]


def test_an_install_failure_names_the_command_and_its_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls: list[list[str]] = []

    def fail(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 2, "", "No solution found when resolving dependencies")

    monkeypatch.setattr(peer_pipecat, "_run", fail)
    python, why = peer_pipecat.ensure_venv()
    assert python is None and calls[0][:2] == ["uv", "venv"]
    assert why is not None and why.startswith("`uv venv") and "exited 2" in why and "No solution found" in why
    assert str(tmp_path / "mediabloom" / "peers" / "pipecat-1.14.0") in why


def test_every_system_gets_the_same_16k_samples_the_runtime_would_play(tmp_path: Path) -> None:
    scenario = Scenario.model_validate({
        "name": "two_lines", "flow": "real_estate", "description": "two lines",
        "caller": [{"say": "Hi, my name is Dana.", "after_agent": 0.5}, {"silence": 1.0}, {"say": "Yes."}]})
    voiced, plan = voice_scenario(scenario, tmp_path)
    assert [ln.wav is not None for ln in voiced.caller] == [True, False, True]
    assert all(ln.say is None for ln in voiced.caller)
    waits = [ln.after_agent or 0.0 for ln in scenario.caller]  # as the runtime's runner waits
    assert waits[0] == 0.5
    assert [(p.wav, p.silence, p.after_agent) for p in plan.lines] == [
        (voiced.caller[0].wav, None, waits[0]), (None, 1.0, waits[1]), (voiced.caller[2].wav, None, waits[2])]
    assert plan.greeting and plan.reply
    pcm, rate = synthesize_pcm("Hi, my name is Dana.")
    with wave.open(str(voiced.caller[0].wav), "rb") as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (MIC_RATE, 2, 1)
        stored = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    again = resample_mono(pcm, rate, MIC_RATE)  # soxr dithers: two resamplings differ by ±1 LSB
    assert len(stored) == len(again) and int(np.abs(stored.astype(np.int32) - again).max()) <= 2
    assert int(np.abs(stored).max()) > 3000  # speech, not silence
