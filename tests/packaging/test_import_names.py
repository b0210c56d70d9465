"""The generic import names `worker` and `tools` never resolve to someone else's code silently.

A clean virtual environment gets MediaBloom's wheel (no dependencies: only the two package
`__init__` modules run here), then meets the two ways a generic name clashes: a `tools/` folder
where Python starts, and another distribution that installs a `tools` package of its own.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = shutil.which("uv") or "uv"  # `uv run pytest` is the test command, so uv is on PATH


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=180)


def _build_wheel(project: Path, out: Path) -> Path:
    done = _run(UV, "build", "--wheel", "--out-dir", out, project)
    assert done.returncode == 0, done.stderr
    return next(out.glob("*.whl"))


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv holding MediaBloom's wheel and nothing else."""
    tmp = tmp_path_factory.mktemp("names")
    wheel = _build_wheel(ROOT, tmp / "dist")
    env = tmp / "venv"
    assert _run(UV, "venv", "--quiet", "--python", sys.executable, env).returncode == 0
    done = _run(UV, "pip", "install", "--quiet", "--no-deps", "--python", env / "bin" / "python", wheel)
    assert done.returncode == 0, done.stderr
    return env


def _foreign_tools(where: Path) -> Path:
    package = where / "tools"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("FOREIGN = True\n")
    return package


def test_both_packages_import_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    probe = "import worker, tools; print(tools.DISTRIBUTION, tools.__file__)"
    done = _run(venv / "bin" / "python", "-c", probe, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    name, path = done.stdout.split()
    assert name == "mediabloom" and "site-packages" in path


def test_a_tools_folder_in_the_working_directory_is_refused_loudly(venv: Path, tmp_path: Path) -> None:
    foreign = _foreign_tools(tmp_path)
    done = _run(venv / "bin" / "python", "-c", "import worker", cwd=tmp_path)
    assert done.returncode != 0
    assert "is not MediaBloom's" in done.stderr and str(foreign) in done.stderr


def test_without_the_working_directory_on_the_path_ours_wins(venv: Path, tmp_path: Path) -> None:
    """How the `mediabloom` console script starts: the working directory is not on sys.path."""
    _foreign_tools(tmp_path)
    done = _run(venv / "bin" / "python", "-P", "-c", "import worker, tools; print(tools.__file__)", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "site-packages" in done.stdout


def test_another_distribution_named_tools_is_detected(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("clash")
    wheel = _build_wheel(ROOT, tmp / "dist")
    other = tmp / "othertools"
    _foreign_tools(other)
    (other / "pyproject.toml").write_text(
        '[project]\nname = "othertools"\nversion = "1.0"\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["tools"]\n')
    other_wheel = _build_wheel(other, tmp / "other-dist")
    env = tmp / "venv"
    assert _run(UV, "venv", "--quiet", "--python", sys.executable, env).returncode == 0
    python = env / "bin" / "python"
    for w in (wheel, other_wheel):  # the other one lands last and overwrites tools/__init__.py
        done = _run(UV, "pip", "install", "--quiet", "--no-deps", "--python", python, w)
        assert done.returncode == 0, done.stderr
    done = _run(python, "-P", "-c", "import worker", cwd=tmp)
    assert done.returncode != 0
    assert "is not MediaBloom's" in done.stderr
