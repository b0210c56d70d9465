"""Logging setup: loguru with the call id and turn bound to every line, card numbers masked.

Library logs (livekit, asyncio) go through the standard `logging` module; they are routed into
loguru so one sink, one format and one redaction rule cover everything the process prints.

Two guards, both here so no log call can forget them (`tools.redact` holds the rules):
- every record's message and bound fields are masked for card numbers and have their control
  characters escaped before any sink formats them, so caller text (a transcript, a data-channel
  field) can neither leak a card nor start a forged log line of its own;
- the process sink masks the formatted text once more (tracebacks included) and indents every
  line after a record's first, so only a record's own header ever starts a line.
"""

from __future__ import annotations

import json as jsonlib
import logging
import sys
from pathlib import Path
from typing import Any

from loguru import logger

from tools.redact import log_safe, mask_card_numbers

_FORMAT = (
    "<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
    "<cyan>{extra[call_id]}</cyan>#{extra[turn]} {name}: {message}"
)
CONTINUATION = "  | "
"""Prefix of every line after a record's first (tracebacks): never mistaken for a record."""


def _redact(record: Any) -> None:
    record["message"] = log_safe(record["message"])
    extra = record["extra"]
    for key, value in extra.items():
        if isinstance(value, str):
            extra[key] = log_safe(value)
    extra.setdefault("call_id", "-")
    extra.setdefault("turn", "-")


# Installed on import too: every sink added later in a process that imports this module (a
# test's included) gets masked, escaped records even before `setup_logging` runs.
logger.configure(patcher=_redact, extra={"call_id": "-", "turn": "-"})


class GuardedSink:
    """Writes formatted records to a stream or a callable: masked as a whole, one header per line."""

    def __init__(self, target: Any, serialized: bool = False) -> None:
        self.serialized = serialized
        if isinstance(target, (str, Path)):
            target = Path(target).open("a", encoding="utf-8")  # noqa: SIM115 - lives as long as the sink
        self.target = target

    def __call__(self, message: Any) -> None:
        text = guard_serialized(str(message)) if self.serialized else guard_formatted(str(message))
        if callable(self.target) and not hasattr(self.target, "write"):
            self.target(text)
            return
        self.target.write(text)
        self.target.flush()


def guard_formatted(text: str) -> str:
    """A formatted record, masked, with every line after its first indented."""
    text = mask_card_numbers(text)
    head, newline, rest = text.partition("\n")
    if not rest:
        return text
    body = rest[:-1] if rest.endswith("\n") else rest
    lines = [CONTINUATION + line for line in body.split("\n")]
    return head + newline + "\n".join(lines) + ("\n" if rest.endswith("\n") else "")


def guard_serialized(text: str) -> str:
    """A JSON-serialized record: its formatted text guarded, its exception value masked.

    Only these two fields can hold text the patcher has not seen (the traceback); numbers
    elsewhere (thread id, timestamp) are the logger's own and stay as they are.
    """
    data = jsonlib.loads(text)
    data["text"] = guard_formatted(data.get("text", ""))
    exc = (data.get("record") or {}).get("exception")
    if isinstance(exc, dict) and isinstance(exc.get("value"), str):
        exc["value"] = log_safe(exc["value"])
    return jsonlib.dumps(data, ensure_ascii=False) + "\n"


class _InterceptHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def setup_logging(level: str = "INFO", json: bool = False, sink: Any = None) -> None:
    """Configure the process-wide sink; call once at start-up."""
    logger.remove()
    logger.configure(patcher=_redact, extra={"call_id": "-", "turn": "-"})
    # diagnose=False: a traceback shows where, never the values of variables (they held secrets).
    logger.add(GuardedSink(sink or sys.stderr, serialized=json), level=level.upper(), serialize=json, format=_FORMAT,
               colorize=not json and sink is None, diagnose=False, backtrace=False)
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.INFO, force=True)
    for noisy in ("livekit", "livekit.agents", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if level.upper() != "DEBUG" else logging.DEBUG)
