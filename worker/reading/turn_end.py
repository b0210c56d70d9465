"""Is the caller done talking? A rule over the words heard so far.

Silence alone cannot tell "Two PM works for me." (done: answer now) from "I'm looking in,
um," (thinking: wait). People hear it in the words: a turn that stops on a filler ("um",
"uh"), on a word that needs a follow-up ("in", "and", "the", "my"), or on a comma, dash or
ellipsis is not finished. This rule says so from the transcript; the call's turn detector
(`worker.call.turn_end`) turns it into livekit-agents' end-of-turn probability, so a
complete turn ends after a short silence and an incomplete one is given a longer one.

Pure and cheap (a few microseconds): it runs on every pause.
"""

from __future__ import annotations

import re

from worker.reading.vocabulary import THINKING_SOUNDS

__all__ = ["FILLERS", "OPEN_WORDS", "transcript_ends_turn", "turn_looks_complete"]

FILLERS: frozenset[str] = THINKING_SOUNDS
"""Hesitation sounds: a turn that stops on one is still being thought (kept in the vocabulary)."""

OPEN_WORDS: frozenset[str] = frozenset({
    # conjunctions and discourse openers
    "and", "or", "but", "because", "so", "then", "if", "that", "which", "who", "when", "while",
    "like", "well", "also", "plus",
    # prepositions
    "in", "on", "at", "to", "for", "of", "with", "from", "by", "about", "around", "near", "into",
    "between", "after", "before", "under", "over", "than", "per",
    # articles, determiners, possessives
    "a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "this", "these", "those",
    "some", "any", "each", "every",
    # a subject or auxiliary with no verb after it
    "i", "i'm", "im", "we", "we're", "it's", "is", "are", "was", "were", "be", "am", "i'd", "i'll",
    "would", "could", "should", "will", "can", "do", "does", "have", "has", "want", "need",
})
"""Words a finished English sentence rarely ends on."""

_DIGIT_WORDS = r"zero|oh|o|one|two|three|four|five|six|seven|eight|nine"
_TRAILING_DIGITS = re.compile(rf"((?:\b(?:{_DIGIT_WORDS}|\d+)\b[\s,.\-]*)+)$")
NUMBER_GROUP_DIGITS = (3, 9)
"""A turn ending on 3-9 digits read out one by one ("five one oh", "510") is a number read in
groups (a phone, a card, a zip code): the rest is coming. 10 or more is a whole phone number."""

_TRAILING_OPEN = re.compile(r"(,|;|:|-|\u2013|\u2014|\.\.\.|\u2026)\s*$")
_WORD = re.compile(r"[a-z']+|\d+")


def turn_looks_complete(text: str) -> bool:
    """True when ``text`` reads as a finished turn, False when the caller is mid-thought.

    Empty text is not complete (nothing to answer yet).
    """
    text = text.strip().lower()
    if not text:
        return False
    if _TRAILING_OPEN.search(text):
        return False
    words = _WORD.findall(text)
    if not words:
        return False
    if words[-1] in FILLERS or words[-1] in OPEN_WORDS:
        return False
    return not _reading_a_number(text)


def _reading_a_number(text: str) -> bool:
    m = _TRAILING_DIGITS.search(text)
    if m is None or ":" in m.group(1):
        return False
    digits = sum(len(w) if w.isdigit() else 1 for w in _WORD.findall(m.group(1)))
    lo, hi = NUMBER_GROUP_DIGITS
    return lo <= digits <= hi


def transcript_ends_turn(text: str) -> bool:
    """The quick end of turn: a recogniser's transcript that closes a sentence and reads as finished.

    Whisper punctuates what it hears as a finished sentence ("My name is Dana Lee.") and tends to
    leave a fragment cut at a pause bare ("The one on Grand Avenue", "tomorrow"); a bare
    fragment that happens to read as complete would otherwise end the turn at a comma pause.
    """
    return text.rstrip().endswith((".", "?", "!")) and not text.rstrip().endswith("...") \
        and turn_looks_complete(text)
