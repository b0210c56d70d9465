"""Engine choice and the operator-facing failures of the `mediabloom` command.

A missing cloud key or a typo in a scenario must end with one sentence naming the variable or
the line and exit status 2, never with a stack trace from inside a plugin.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from worker.settings import ConfigError, Settings

ROOT = Path(__file__).resolve().parents[2]
ENGINE_VARS = ("DEEPGRAM_API_KEY", "OPENAI_API_KEY", "MB_STT", "MB_LLM", "MB_TTS")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No engine variable from the developer's shell may decide these tests."""
    for var in ENGINE_VARS:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.lower(), raising=False)
    return monkeypatch


def one_sentence(message: str) -> bool:
    """One line, ending in a full stop, with no other sentence end inside."""
    return "\n" not in message and message.endswith(".") and len(re.findall(r"[.!?](?:\s|$)", message)) == 1


@pytest.mark.parametrize("var, value, key", [
    ("MB_LLM", "openai", "OPENAI_API_KEY"),
    ("MB_TTS", "openai", "OPENAI_API_KEY"),
    ("MB_STT", "deepgram", "DEEPGRAM_API_KEY"),
])
def test_a_cloud_engine_without_its_key_refuses_to_start(clean_env: pytest.MonkeyPatch, var: str, value: str,
                                                         key: str) -> None:
    clean_env.setenv(var, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    with pytest.raises(ConfigError) as exc:
        settings.check_engines()

    message = str(exc.value)
    assert key in message and f"{var}={value}" in message
    assert one_sentence(message), message


def test_the_missing_key_named_is_the_one_actually_missing(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MB_LLM", "openai")
    clean_env.setenv("DEEPGRAM_API_KEY", "dg-test")  # present, and irrelevant to the LLM
    with pytest.raises(ConfigError) as exc:
        Settings(_env_file=None).check_engines()  # type: ignore[call-arg]
    assert "OPENAI_API_KEY" in str(exc.value) and "DEEPGRAM" not in str(exc.value)


def test_auto_without_keys_is_offline(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert [settings.engine(p) for p in ("stt", "llm", "tts")] == ["offline", "offline", "offline"]
    settings.check_engines()  # nothing to complain about


def test_auto_with_keys_picks_the_cloud_engines(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DEEPGRAM_API_KEY", "dg-test")
    clean_env.setenv("OPENAI_API_KEY", "sk-test")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert [settings.engine(p) for p in ("stt", "llm", "tts")] == ["deepgram", "openai", "openai"]
    settings.check_engines()


def test_auto_decides_per_part(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("DEEPGRAM_API_KEY", "dg-test")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert [settings.engine(p) for p in ("stt", "llm", "tts")] == ["deepgram", "offline", "offline"]


def test_an_explicit_offline_choice_wins_over_present_keys(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("OPENAI_API_KEY", "sk-test")
    clean_env.setenv("MB_LLM", "offline")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.engine("llm") == "offline" and settings.engine("tts") == "openai"


# ---------------------------------------------------------------- the CLI, as a subprocess
def _command() -> list[str]:
    """`uv run mediabloom` when uv is there (without re-syncing), else the venv's console script."""
    uv = shutil.which("uv")
    if uv:
        return [uv, "run", "--no-sync", "--project", str(ROOT), "mediabloom"]
    return [str(Path(sys.executable).parent / "mediabloom")]


BAD_SCENARIO = "name: x\nflow: real_estate\ncaller:\n  - say: hi\n  - say: there\n    wav: there.wav\n"


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    scenario: Path
    out_dir: Path


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliRun]:
    """Both CLI runs started together: each pays livekit-agents' import time, so run them in parallel."""
    work = tmp_path_factory.mktemp("cli")  # not the repo: no `.env` can be picked up
    bad = work / "bad.yaml"
    bad.write_text(BAD_SCENARIO)
    env = {k: v for k, v in os.environ.items() if k.upper() not in ENGINE_VARS}
    jobs = {
        "no_key": (ROOT / "scenarios" / "tour_booking.yaml", {**env, "MB_STT": "deepgram"}),
        "bad_scenario": (bad, {**env, "MB_STT": "offline", "MB_LLM": "offline", "MB_TTS": "offline"}),
    }
    procs = {
        name: subprocess.Popen(_command() + ["simulate", str(scenario), "--out", str(work / name)], cwd=work,
                               env=e, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name, (scenario, e) in jobs.items()
    }
    runs: dict[str, CliRun] = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        runs[name] = CliRun(proc.returncode, out, err, jobs[name][0], work / name)
    return runs


def test_cli_without_the_deepgram_key_exits_2_naming_it(cli_runs: dict[str, CliRun]) -> None:
    run = cli_runs["no_key"]
    assert run.returncode == 2, run.stderr
    assert "DEEPGRAM_API_KEY" in run.stderr
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    assert not run.out_dir.exists()  # it stopped before any call started


def test_cli_with_a_bad_scenario_exits_2_with_one_line(cli_runs: dict[str, CliRun]) -> None:
    run = cli_runs["bad_scenario"]
    assert run.returncode == 2, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert str(run.scenario) in lines[0] and "line 5" in lines[0]
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert not run.out_dir.exists()
