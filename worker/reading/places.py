"""Places: a street address ("1234 Maple Street") and a known area ("Alamida" → Alameda).

Areas are matched fuzzily against the list the reading is given, because the recogniser
misspells place names ("Berkley", "San Hose") far more often than common words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from worker.reading.context import Utterance
from worker.reading.names import title
from worker.reading.numbers import as_int, combine
from worker.reading.vocabulary import BED_WORDS, NAME_STOP, NUMBER_WORDS, STREET_SUFFIXES


def extract_address(ctx: Utterance) -> str | None:
    """"1234 Maple Street", "12 Oak Ave", "twelve thirty four maple street"."""
    toks = ctx.toks
    for run in ctx.runs():
        number = as_int(combine(run))
        if number is None or not 0 < number < 100_000 or any(c.decimal or c.scaled for c in run):
            continue
        if run[0].i > 0 and toks[run[0].i - 1].kind == "dollar":
            continue
        m = run[-1].j
        words: list[str] = []
        k = m
        suffix = None
        while k < len(toks) and len(words) <= 4 and not ctx.used[k]:
            t = toks[k]
            if t.kind == "word" and t.text in STREET_SUFFIXES and words:
                suffix = t.text
                break
            if t.kind == "ordnum" or (t.kind == "word" and t.text.isalpha() and t.text not in NAME_STOP
                                      and t.text not in BED_WORDS and t.text not in NUMBER_WORDS):
                words.append(t.text)
                if ctx.hard_break_after(k) and not ctx.expects("address"):
                    break
                k += 1
                continue
            break
        if suffix is not None:
            ctx.take(run[0].i, k + 1)
            return " ".join([str(number), *(title(x) for x in words), title(suffix)])
        if ctx.expects("address") and 1 <= len(words) <= 3:
            ctx.take(run[0].i, m + len(words))
            return " ".join([str(number), *(title(x) for x in words)])
    return None



def _squash(s: str) -> str:
    return re.sub(r"[^a-z]", "", s.lower())


def extract_area(ctx: Utterance, areas: Sequence[str]) -> str | None:
    """First known area mentioned, tolerant of misspellings ("Alamida", "Berkley", "San Hose")."""
    words = [(k, t) for k, t in enumerate(ctx.toks) if t.kind == "word" and not ctx.used[k]]
    targets = [(a, _squash(a), len(a.split())) for a in areas if isinstance(a, str) and _squash(a)]
    if not targets or not words:
        return None
    best: tuple[int, float, int, str, int, int] | None = None  # (pos, -ratio, -len, area, i, j)
    for idx in range(len(words)):
        for area, sq, nwords in targets:
            for size in sorted({max(1, nwords - 1), nwords, nwords + 1}):
                if idx + size > len(words):
                    continue
                span = words[idx:idx + size]
                if span[-1][0] - span[0][0] != size - 1:
                    continue  # not contiguous
                if any(t.text in NAME_STOP or len(t.text) < 2 for _, t in span) and size > 1:
                    continue
                cand = "".join(t.text for _, t in span)
                if not cand.isalpha() or abs(len(cand) - len(sq)) > 3 or cand[0] != sq[0] and len(cand) < 6:
                    continue
                ratio = 1.0 if cand == sq else SequenceMatcher(None, cand, sq).ratio()
                threshold = 0.8 if len(sq) >= 6 else 0.9
                if ratio < threshold:
                    continue
                key = (span[0][0], -ratio, -len(sq), area, span[0][0], span[-1][0] + 1)
                if best is None or key < best:
                    best = key
    if best is None:
        return _spelled_area(ctx, targets)
    ctx.take(best[4], best[5])
    return best[3]


def _spelled_area(ctx: Utterance, targets: Sequence[tuple[str, str, int]]) -> str | None:
    """An area spelled out ("A, L, A, M, E, D, A"), as a caller does when it was misheard."""
    letters = "".join(t.text for t in ctx.toks if t.kind == "word" and len(t.text) == 1 and t.text.isalpha())
    if len(letters) < 4:
        return None
    for area, sq, _ in targets:
        if SequenceMatcher(None, letters, sq).ratio() >= 0.85:
            return area
    return None

