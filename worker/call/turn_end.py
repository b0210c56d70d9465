"""Which silence ends the caller's turn: by meaning, by a model, or by silence alone.

`Settings.turn_detection` picks one (`build_turn_detection` gives the session its
`turn_handling["turn_detection"]`):

* ``"rule"`` (default): the reading rule over the caller's words
  (`worker.reading.turn_end.transcript_ends_turn`: a closed, finished-sounding sentence) inside Whisper's stream
  (`WhisperSTT.end_of_turn`, wired in `engine_catalog`). At a 0.2 s pause Whisper transcribes
  the whole utterance so far; a finished-sounding turn ("Two PM works for me.") ends there, an
  unfinished one ("I'm looking in, um,") waits for Whisper's VAD silence
  (`endpointing_max_delay`, 1.2 s). The session runs in "stt" turn detection, so the STT's
  end of speech is the end of the turn.
* ``"livekit"``: livekit-agents' own audio turn detector, the local ``v1-mini`` model inside its
  native library (no download; ~1 s to load, ~280 MB, ~200 ms a prediction on 2 cores), after a
  0.2 s VAD silence; `endpointing` min/max delays for likely/unlikely ends.
* ``"vad"``: the VAD's silence alone (0.45 s unless `MB_VAD_MIN_SILENCE`), the old behaviour.

`bench/turn_latency.py` measures them side by side (latency at the ear, premature cut-offs).
"""

from __future__ import annotations

from typing import Any

from worker.settings import Settings

__all__ = ["build_turn_detection"]


def build_turn_detection(settings: Settings) -> Any:
    """The `turn_handling["turn_detection"]` value for these settings."""
    if settings.turn_detection == "rule":
        return "stt"
    if settings.turn_detection == "livekit":
        from livekit.agents import inference

        return inference.TurnDetector(version="v1-mini")
    return "vad"
