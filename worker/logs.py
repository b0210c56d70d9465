"""Logging setup: loguru with the call id and turn bound to every line, card numbers masked.

Library logs (livekit, asyncio) go through the standard `logging` module; they are routed into
loguru so one sink, one format and one redaction rule cover everything the process prints.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from loguru import logger

from tools.redact import mask_card_numbers

_FORMAT = (
    "<green>{time:HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
    "<cyan>{extra[call_id]}</cyan>#{extra[turn]} {name}: {message}"
)


def _redact(record: Any) -> None:
    record["message"] = mask_card_numbers(record["message"])
    record["extra"].setdefault("call_id", "-")
    record["extra"].setdefault("turn", "-")


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
    logger.add(sink or sys.stderr, level=level.upper(), serialize=json, format=_FORMAT, colorize=not json and sink is None,
               diagnose=False, backtrace=False)
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.INFO, force=True)
    for noisy in ("livekit", "livekit.agents", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if level.upper() != "DEBUG" else logging.DEBUG)


def call_logger(call_id: str, turn: int | str = "-") -> Any:
    """A logger bound to one call (and turn); every line it writes carries them."""
    return logger.bind(call_id=call_id, turn=turn)
