"""Scoring a transcript of a `hearing_set.Line`: word error rate and the value read from it.

WER is computed on normalised words: lower case, punctuation dropped, and every spoken or
written number turned into its digits one by one, using the reading layer's own number grammar
("415-555-0192", "four one five, five five five, oh one nine two" and "4155550192" all become
"4 1 5 5 5 5 0 1 9 2"). Without that, "415" against "four one five" would count as errors a
caller never made. The value is what `worker.reading` extracts for the line's slot, given the
question the agent asked (`expecting`), as the live call does.
"""

from __future__ import annotations

import datetime as dt
import re

from tests.support.hearing_set import TODAY, Line
from worker.reading.numbers import number_chunks
from worker.reading.slots import extract
from worker.reading.tokens import read_words
from worker.reading.vocabulary import ORDINAL_WORDS

__all__ = ["read_value", "wer_counts", "words_for_wer"]


_UNITS_WORDS = ("dollar", "dollars", "cent", "cents")
_TENS_ORD = re.compile(r"\b(twenty|thirty)[\s-]+(" + "|".join(w for w, v in ORDINAL_WORDS.items() if v < 10) + r")\b")
_ORD = re.compile(r"\b(" + "|".join(sorted(ORDINAL_WORDS, key=len, reverse=True)) + r")\b")


def _ordinals_as_digits(text: str) -> str:
    text = _TENS_ORD.sub(lambda m: str({"twenty": 20, "thirty": 30}[m[1]] + ORDINAL_WORDS[m[2]]), text.lower())
    return _ORD.sub(lambda m: str(ORDINAL_WORDS[m[1]]), text)


def words_for_wer(text: str) -> list[str]:
    """Normalised words: numbers and ordinals as single digits, "P O L" as "pol", no
    punctuation, no currency words ("$93" and "ninety three dollars" read the same)."""
    text = re.sub(r"\bp\W*o\W*l\b", "pol", _ordinals_as_digits(text))
    words = read_words(text)
    toks = words.toks
    chunks = number_chunks(words.text, toks, [False] * len(toks))
    by_start = {c.i: c for c in chunks}
    out: list[str] = []
    k = 0
    while k < len(toks):
        c = by_start.get(k)
        if c is not None:
            out.extend(c.digits)
            k = c.j
            continue
        t = toks[k]
        if t.kind == "dollar" or t.text in _UNITS_WORDS or (t.text == "and" and out and out[-1].isdigit()):
            k += 1
            continue
        if t.kind in ("clock", "slash", "ordnum"):
            out.extend(ch for ch in t.text if ch.isdigit())
        else:
            out.append(t.text)
        k += 1
    return out


def wer_counts(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edits, reference words): Levenshtein distance over `words_for_wer`."""
    ref, hyp = words_for_wer(reference), words_for_wer(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def read_value(line: Line, transcript: str, today: dt.date = TODAY) -> str | None:
    """The line's slot as the reading layer reads it from `transcript` (as a string)."""
    value = getattr(extract(transcript, today, expecting=line.expecting), line.slot)
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)
