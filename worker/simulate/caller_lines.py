"""Voicing a scripted caller line: who speaks it, and where the caller pauses.

Scenario lines were all spoken by the agent's own Piper voice, which Whisper hears almost
perfectly and whose pauses are short. Callers who hesitate ("um, so, I'm looking in, uh,
Oakland") and voices Whisper finds harder are what end-of-turn detection has to survive, so
a line may name a voice (`worker.simulate.voices`: espeak-ng, flite, Piper) and mark pauses
in its text with `[pause 0.7]` (seconds, at most `MAX_PAUSE_S`). The audio is generated when
the call runs; nothing is committed as a recording.
"""

from __future__ import annotations

import re

import numpy as np

from worker.simulate.voices import Voice, speak

__all__ = ["MAX_PAUSE_S", "check_pauses", "split_pauses", "voice_line"]

MAX_PAUSE_S = 10.0
RATE = 16_000
_PAUSE = re.compile(r"\[pause\s+(\d+(?:\.\d+)?)\s*s?\]", re.IGNORECASE)


def split_pauses(text: str) -> list[str | float]:
    """`"um, [pause 0.7] so"` → `["um,", 0.7, "so"]` (empty pieces dropped)."""
    out: list[str | float] = []
    pos = 0
    for m in _PAUSE.finditer(text):
        if text[pos:m.start()].strip():
            out.append(text[pos:m.start()].strip())
        seconds = float(m.group(1))
        if seconds > MAX_PAUSE_S:
            raise ValueError(f"a pause is at most {MAX_PAUSE_S:g} s (got {seconds:g})")
        out.append(seconds)
        pos = m.end()
    if text[pos:].strip():
        out.append(text[pos:].strip())
    return out


def check_pauses(say: str) -> None:
    """Raise ValueError for pause markup that cannot be voiced (a pause over `MAX_PAUSE_S`)."""
    split_pauses(say)


def voice_line(text: str, voice: str | None = None) -> tuple[np.ndarray, int]:
    """The line as int16 mono samples and their rate; pauses are digital silence."""
    chosen = Voice.parse(voice) if voice else Voice(engine="piper", name="joe")
    parts: list[np.ndarray] = []
    for piece in split_pauses(text):
        if isinstance(piece, float):
            parts.append(np.zeros(int(round(piece * RATE)), np.int16))
        else:
            audio = speak(chosen, piece)
            parts.append(np.clip(audio * 32768.0, -32768, 32767).astype(np.int16))
    return (np.concatenate(parts) if parts else np.zeros(0, np.int16)), RATE
