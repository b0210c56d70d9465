"""Typed failures raised by tool actions and sandbox backends.

Why a small hierarchy instead of bare exceptions: the conversation layer has to decide,
per failure, whether to retry silently (``transient``), to tell the caller something
specific ("that slot was just taken"), or to hand off to a person. Carrying a stable
machine-readable ``code`` and a retry hint on the exception lets the registry turn any
failure into a :class:`tools.registry.ToolOutcome` without string matching.

Messages are masked for card numbers at construction time, so no code path that later
prints, logs or returns the message can leak a full card number, even by accident.
"""

from __future__ import annotations

from tools.redact import mask_card_numbers


class ToolFailure(Exception):
    """A business action failed in a way the conversation can reason about.

    ``code`` is stable and meant for programs (flow specs, planners, tests); ``message``
    is a short human sentence that may be spoken or shown; ``transient`` says whether
    the same call is worth retrying (timeouts, 5xx-like outages) or not (bad input,
    conflicts, unknown records).
    """

    default_code: str = "tool_failure"
    default_transient: bool = False

    def __init__(self, message: str, *, code: str | None = None, transient: bool | None = None) -> None:
        self.message: str = mask_card_numbers(message)
        self.code: str = code or self.default_code
        self.transient: bool = self.default_transient if transient is None else transient
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, transient={self.transient})"


class TransientToolError(ToolFailure):
    """Worth retrying: the backend timed out, was unavailable or dropped the connection."""

    default_code = "transient_error"
    default_transient = True


class PermanentToolError(ToolFailure):
    """Retrying the same call will fail the same way; the conversation must change course."""

    default_code = "permanent_error"
    default_transient = False


class NotFound(PermanentToolError):
    """The referenced record (listing, slot, policy, ...) does not exist."""

    default_code = "not_found"


class Conflict(PermanentToolError):
    """The request contradicts current state: slot already taken, amount does not match, ..."""

    default_code = "conflict"
