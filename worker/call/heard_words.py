"""The recogniser's word confidences of a committed caller turn, taken from the STT's finals.

Why here and not from livekit-agents: an STT hands per-word confidences in the standard
`stt.SpeechData.words` (`TimedString.confidence`), but livekit-agents 1.8.9 drops them on the
way to the turn: the committed `llm.ChatMessage` carries the text and one
`transcript_confidence` (the mean over the turn's finals), and the `user_input_transcribed`
event carries the text only. The agent's `stt_node` sees every final the session uses, so the
call keeps them there (`add`) and, when the session commits the turn, takes the finals whose
text makes up the turn's text (`take`: the session joins a turn's finals with a space). Data
still flows one way: engine → session → conversation → state machine.
"""

from __future__ import annotations

from livekit.agents import stt
from livekit.agents.types import NOT_GIVEN

__all__ = ["HeardWords"]

_KEPT = 8
"""Finals kept at most while waiting for their turn (one turn rarely has more than two)."""


def _confidences(data: stt.SpeechData) -> list[float] | None:
    """One confidence per whitespace word of the final's text, or None when the STT gave none."""
    words = data.words or []
    if not words or any(w.confidence is NOT_GIVEN for w in words) or [str(w) for w in words] != data.text.split():
        return None
    return [float(w.confidence) for w in words]


class HeardWords:
    """Finals seen by the agent's STT node, waiting for the turn they belong to."""

    def __init__(self) -> None:
        self._finals: list[tuple[str, list[float] | None]] = []

    def add(self, event: stt.SpeechEvent) -> None:
        """Keep a final transcript's words (other events are ignored)."""
        if event.type != stt.SpeechEventType.FINAL_TRANSCRIPT or not event.alternatives:
            return
        data = event.alternatives[0]
        if data.text.strip():
            self._finals = [*self._finals, (" ".join(data.text.split()), _confidences(data))][-_KEPT:]

    def take(self, text: str) -> list[float] | None:
        """The word confidences of a committed turn (one per whitespace word of `text`), or None
        when its finals are not all known with word confidences. Finals up to the turn's are dropped."""
        wanted = " ".join(text.split())
        for start in range(len(self._finals)):
            for end in range(start + 1, len(self._finals) + 1):
                finals = self._finals[start:end]
                if " ".join(t for t, _ in finals) != wanted:
                    continue
                self._finals = self._finals[end:]
                if any(c is None for _, c in finals):
                    return None
                return [c for _, confs in finals for c in confs or []]
        return None
