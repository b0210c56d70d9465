"""Which silence ends the caller's turn: by meaning, by a model, or by silence alone.

`Settings.turn_detection` picks one (`build_turn_detection` gives the session its
`turn_handling["turn_detection"]`):

* ``"rule"`` (default): the reading rule over the caller's words inside Whisper's stream
  (`turn_pause` below, handed to `WhisperSTT.turn_pause` in `engine_catalog`). At a 0.2 s pause
  Whisper transcribes the whole utterance so far; a finished-sounding turn ("Two PM works for
  me.") ends there, an unfinished one ("I'm looking in, um,") waits for Whisper's VAD silence
  (`endpointing_max_delay`, 1.2 s), and one in between waits `MEDIUM_PAUSE_S`. The session runs
  in "stt" turn detection, so the STT's end of speech is the end of the turn.
* ``"livekit"``: livekit-agents' own audio turn detector, the local ``v1-mini`` model inside its
  native library (no download; ~1 s to load, ~280 MB, ~200 ms a prediction on 2 cores), after a
  0.25 s VAD silence (the least it accepts); `endpointing` min/max delays for likely/unlikely ends.
* ``"vad"``: the VAD's silence alone (0.45 s unless `MB_VAD_MIN_SILENCE`), the old behaviour.

`bench/turn_latency.py` measures them side by side (latency at the ear, premature cut-offs).
"""

from __future__ import annotations

import re
from typing import Any

from worker.engines.whisper_hints import READ_BACK_SLOTS
from worker.reading.turn_end import FILLERS, OPEN_WORDS, transcript_ends_turn, turn_looks_complete
from worker.settings import Settings

__all__ = ["DIGITS_EXPECTED", "MEDIUM_PAUSE_S", "build_turn_detection", "turn_pause"]

MEDIUM_PAUSE_S = 1.0
"""The silence that ends a turn whose words read finished but that Whisper did not close ("for
tomorrow please...", a bare "Two PM works for me"). Measured (`bench turns`): these turns waited
the long 1.2 s and made the p95 tail. It is kept above the hesitation pauses of
`scenarios/long_sentences.yaml` (0.4-0.7 s), which a bare fragment may end on, plus a filler the
VAD does not hear as speech: at 0.8 s, flite awb's "Grand Avenue, uh, [0.5 s pause] for tomorrow"
("uh" transcribed "dot") was cut before "for" in CI (the caller resumed 118 ms after the end).
1.0 s costs these turns 0.2 s at the ear (not re-measured)."""

DIGITS_EXPECTED: dict[str, int] = {"phone": 10, "card_number": 15, "card": 15, "card_group": 4,
                                   "policy_number": 4, "policy": 4}
"""Digits in a whole answer to a digit question (`worker.engines.whisper_hints.DIGIT_QUESTIONS`):
fewer is a number still being read in groups (wait the long silence); all of them ends the turn
at once, closed by Whisper or not (it seldom punctuates digit strings). Policy numbers are
POL-dddd (`worker.reading.identifiers`). Cards count 15 (Amex has 15; callers read 16 in
groups of four, so they never pause after the 15th digit, and Whisper drops a digit now and
then: "zero three four three" → "343"; a wrong number is the read-back's to catch). A card
taken group by group (`worker.planner.card_groups`) asks for four digits at a time."""

_DIGIT = re.compile(r"\d|\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b")
_WORD = re.compile(r"[a-z']+|\d+")
_OPEN_END = re.compile(r"(,|;|:|-|\u2013|\u2014)\s*$")


def build_turn_detection(settings: Settings) -> Any:
    """The `turn_handling["turn_detection"]` value for these settings."""
    if settings.turn_detection == "rule":
        return "stt"
    if settings.turn_detection == "livekit":
        from livekit.agents import inference

        return inference.TurnDetector(version="v1-mini")
    return "vad"


def _words_open(text: str) -> bool:
    """Cut on a comma or dash, or on a filler or a word that needs a follow-up ("in", "um")."""
    bare = text.rstrip(" .\u2026")
    words = _WORD.findall(bare.lower())
    return not words or bool(_OPEN_END.search(bare)) or words[-1] in FILLERS or words[-1] in OPEN_WORDS


def turn_pause(text: str, expecting: str | None) -> float | None:
    """Seconds of silence after Whisper's transcript of the whole utterance that end the turn;
    None: wait for the VAD's long silence. `expecting` is the slot the agent asked for.

    0 for a closed, finished sentence (`transcript_ends_turn`) and for a digit answer with all
    its digits; None for words cut open (a comma, a filler, "in") and for a digit answer still
    short of digits; `MEDIUM_PAUSE_S` for words that read finished but were left unclosed.
    The reading rule's "3-9 digits: a number read in groups" holds for digit questions (and an
    unknown question) only: "March 12th, 1984." and "about $900,000." are finished answers."""
    body = " ".join(text.split())
    if not body:
        return None
    if expecting in READ_BACK_SLOTS.values():
        expecting = None  # "yes", "no" or a part of the number: ends like an answer to no known question
    need = DIGITS_EXPECTED.get(expecting or "")
    digits = sum(len(m.group()) if m.group().isdigit() else 1 for m in _DIGIT.finditer(body.lower()))
    if need is not None and digits:
        return 0.0 if digits >= need and not _words_open(body) else None
    if transcript_ends_turn(body):
        return 0.0
    if _words_open(body):
        return None
    closed = body.endswith((".", "?", "!")) and not body.endswith("...")
    if not turn_looks_complete(body.rstrip(" .\u2026")) and expecting is None:
        return None  # maybe a number read in groups (the reading rule): the rest may come
    return 0.0 if closed else MEDIUM_PAUSE_S
