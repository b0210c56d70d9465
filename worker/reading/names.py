"""The caller's name: after "my name is", after "this is"/"I'm" at the start of a turn, or
as a bare answer when the agent just asked for it.

Runs last in ``extract``: every word another slot claimed ("Oakland", "Saturday") is then
out of the way, and a long stop list keeps "I'm *looking*" from becoming a name.
"""

from __future__ import annotations

import re
from difflib import get_close_matches

from worker.reading.context import Utterance
from worker.reading.tokens import Words
from worker.reading.vocabulary import (
    BED_WORDS,
    FILLERS,
    HONORIFICS,
    LEADERS,
    MONTHS,
    NAME_CUES,
    NAME_STOP,
    NUMBER_WORDS,
    ORDINAL_WORDS,
    STREET_SUFFIXES,
    STRONG_NAME_CUES,
    TRAILERS,
    WEEKDAYS,
)


def title(word: str) -> str:
    """Title-case a recogniser's word ("o'brien" → "O'Brien", "mary-jane" → "Mary-Jane")."""
    return "-".join(p[:1].upper() + p[1:] if "'" not in p else p.title() for p in word.split("-"))


def _name_word_ok(ctx: Utterance, k: int, first: bool, strong: bool) -> bool:
    """Could token k be part of a person's name? Rejects the usual words after "I'm"/"it's"."""
    if k >= len(ctx.toks) or ctx.used[k]:
        return False
    t = ctx.toks[k]
    w = t.text
    if t.kind != "word" or not re.fullmatch(r"[a-z]+(?:'[a-z]+)?", w) or w.endswith("'s"):
        return False
    if w in NAME_STOP or w in NUMBER_WORDS or w in ORDINAL_WORDS or w in WEEKDAYS or w in BED_WORDS:
        return False
    if w in STREET_SUFFIXES and not first:
        return False
    if len(w) < 2:
        return False
    if w in MONTHS and k + 1 < len(ctx.toks) and ctx.toks[k + 1].kind in ("num", "ordnum"):
        return False
    if w in MONTHS and len(w) <= 4 and w not in ("may", "june", "july"):
        return False
    if first and not strong and len(w) > 5 and (w.endswith("ing") or w.endswith("ed")):
        return False  # "I'm relocating", "I'm retired"
    return True


def _read_name(ctx: Utterance, k: int, strong: bool) -> tuple[str, int] | None:
    """Up to three name words from k; punctuation after a word ends the name."""
    while ctx.w(k) in HONORIFICS:
        k += 1
    words: list[str] = []
    m = k
    while m < len(ctx.toks) and len(words) < 3 and _name_word_ok(ctx, m, not words, strong):
        gap_before = ctx.gap(m - 1, m) if words else ""
        if words and gap_before == "-":
            words[-1] = words[-1] + "-" + ctx.toks[m].text
        else:
            words.append(ctx.toks[m].text)
        if m + 1 < len(ctx.toks) and ctx.gap(m, m + 1) not in (" ", "-"):
            m += 1
            break
        m += 1
    if not words:
        return None
    return " ".join(title(w) for w in words), m


def extract_name(ctx: Utterance) -> str | None:
    """A name after "my name is" anywhere, after "this is"/"it's"/"I'm" at the start of the
    turn, or, when the agent just asked for it, a bare 1–3 word answer."""
    toks = ctx.toks
    n = len(toks)
    asked = ctx.expects("name", "holder_name", "full_name")
    for k in range(n):
        for cue in NAME_CUES:
            size = len(cue)
            if tuple(ctx.w(k + x) for x in range(size)) != cue:
                continue
            strong = cue in STRONG_NAME_CUES
            if not strong and not asked and not all(ctx.w(x) in LEADERS for x in range(k)):
                continue
            got = _read_name(ctx, k + size, strong or asked)
            if got is not None:
                ctx.take(k, got[1])
                return got[0]
    if asked:
        idx = [k for k in range(n) if not ctx.used[k]]
        if not idx or any(toks[k].kind != "word" for k in idx):
            return None
        # Pieces of the answer ("Whitfield. Dana Whitfield.", "Dana, Dana Whitfield"): the
        # fullest one wins, the last on a tie.
        segments: list[list[int]] = [[idx[0]]]
        for a, b in zip(idx, idx[1:], strict=False):
            if b != a + 1 or re.search(r"[.?!;,]", ctx.gap(a, b)):
                segments.append([b])
            else:
                segments[-1].append(b)
        best: list[int] = []
        for seg in segments:
            lo, hi = 0, len(seg)
            while lo < hi and ctx.w(seg[lo]) in FILLERS:
                lo += 1
            while hi > lo and ctx.w(seg[hi - 1]) in TRAILERS:
                hi -= 1
            core = seg[lo:hi]
            if not core:
                continue
            if len(core) > 3 or not all(_name_word_ok(ctx, k, i == 0, True) for i, k in enumerate(core)):
                return None
            if len(core) >= len(best):
                best = core
        if best:
            ctx.take(best[0], best[-1] + 1)
            return " ".join(title(ctx.w(k)) for k in best)
    return None



#: "M as in Mike": the letter is the key word's first (the letter itself is easily misheard).
_AS_IN = re.compile(r"(?:\b[a-z]\b[\s,.-]+)?\b(?:as|is) in[\s,.-]+([a-z][a-z'-]*)(?:[\s-]+([a-z][a-z'-]*))?")
_KEYS = frozenset("alpha alfa bravo charlie delta echo foxtrot golf hotel india juliet juliett kilo lima mike "
                  "november oscar papa quebec romeo sierra tango uniform victor whiskey x-ray xray yankee zulu".split())


def _key_word(word: str) -> str | None:
    """The key word `word` is, or was misheard from ("ecko"; "necko" for "an echo", the article's
    n run on: Piper in bench robustness), or None."""
    if word in _KEYS:
        return word
    if len(word) < 4:
        return None
    close = get_close_matches(word, _KEYS, n=1, cutoff=0.75) or (
        get_close_matches(word[1:], _KEYS, n=1, cutoff=0.75) if word.startswith("n") else [])
    return close[0] if close else None


def spelled_word(words: Words) -> str | None:
    """A word spelled letter by letter ("D, A, N, A", "d-a-n-a") or with a word per letter
    ("D as in Delta, A as in Alpha, ..."): three or more letters, joined and capitalised; None
    when the turn spells nothing."""
    # the key word names the letter even when the letter itself was lost ("as in Alpha"); a
    # stray word before a key word is skipped ("as in New Yankee")
    keyed = [(m.group(2) if m.group(1) not in _KEYS and m.group(2) in _KEYS else m.group(1))[0]
             for m in _AS_IN.finditer(words.text)]
    # "as in" itself misheard ("M&M Mike, I am in Echo, and I am in November, ..."): the key
    # words alone, in order, still spell it
    keys = [key[0] for t in words.toks if (key := _key_word(t.text))]
    if len(keys) > len(keyed):
        keyed = keys
    if len(keyed) >= 3:
        return "".join(keyed).capitalize()
    best: list[str] = []
    run: list[str] = []
    for t in words.toks:
        if t.kind == "word" and len(t.text) == 1 and t.text.isalpha():
            run.append(t.text)
            continue
        if len(run) > len(best):
            best = run
        run = []
    if len(run) > len(best):
        best = run
    return "".join(best).capitalize() if len(best) >= 3 else None
