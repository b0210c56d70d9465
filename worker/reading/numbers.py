"""The spoken-number grammar: digits and number words grouped into values.

Digits and number words are grouped into *chunks* with the usual English number grammar
("four hundred fifty thousand" is one chunk, "four one five" is three); adjacent chunks
form a *run* that a slot reads as a phone number, a year ("nineteen eighty five"), an
amount ("twelve eighty four") and so on. Only the grouping lives here; which run is which
slot is the extractors' business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from worker.reading.tokens import MAX_NUM_DIGITS, Tok, read_words, repeatable
from worker.reading.vocabulary import MONEY_AFTER, SCALES, TEENS, TENS, UNITS, ZERO_WORDS


_SOFT_GAP = re.compile(r"[\s,\-\u2013\u2014()/+#:.]*")


@dataclass
class Chunk:
    """One number in the usual grammar: "four hundred fifty thousand", "0123", "oh"."""

    i: int  # first token
    j: int  # one past the last token
    value: Decimal | None
    digits: str
    words: bool  # made of number words only
    digitlike: bool  # one digit-ish token: "7", "0123", "seven", "oh", "double five"
    zero_word: bool
    scaled: bool  # thousand / million / k ...
    hundred: bool
    decimal: bool
    joined: bool = False  # adjacent to the previous chunk (same run)

    @property
    def small_word(self) -> bool:
        """A spoken 1–99 ("twelve", "eighty four"): half of "twelve eighty four"."""
        return self.words and not self.scaled and not self.hundred and self.value is not None and 0 < self.value < 100


@dataclass
class _Builder:
    total: Decimal = Decimal(0)
    cur: Decimal = Decimal(0)
    stage: str = "empty"  # empty unit teen tens hundred lit biglit zero repeat digits
    last_scale: int | None = None
    has_hundred: bool = False
    scaled: bool = False
    words: bool = True
    ntok: int = 0
    repeat: int = 0
    digits: str = ""
    decimal: bool = False
    zero_word: bool = False
    single_num: Tok | None = None


def _next_tok(text: str, toks: Sequence[Tok], skip: Sequence[bool], k: int) -> Tok | None:
    if k + 1 < len(toks) and not skip[k + 1] and adjacent(text, toks, k, k + 1):
        return toks[k + 1]
    return None


def adjacent(text: str, toks: Sequence[Tok], a: int, b: int) -> bool:
    """Tokens a and b belong to one spoken number unless words or sentence punctuation part them."""
    return _soft_gap(text[toks[a].end:toks[b].start])


def _soft_gap(gap: str) -> bool:
    """Separators that do not end a number: spaces, commas, dashes, "(415)"; not ". " or "?"."""
    return bool(_SOFT_GAP.fullmatch(gap)) and not re.search(r"\.\s", gap)


def _feed(b: _Builder, text: str, toks: Sequence[Tok], skip: Sequence[bool], k: int) -> bool:
    """Try to extend the chunk in ``b`` with token k; False means "ends before k"."""
    t = toks[k]
    nxt = _next_tok(text, toks, skip, k)
    if t.kind == "num":
        if b.stage == "repeat":
            d = repeatable(t)
            rest = ""
            if d is None and t.digits.isdigit() and not (t.decimal or t.grouped):
                d, rest = int(t.digits[0]), t.digits[1:]  # "double 614" (written for "double six one four")
            if d is None:
                return False
            b.digits = str(d) * b.repeat + rest
            b.cur = Decimal(b.digits)
            b.stage = "digits"
            b.words = False
            return True
        if b.stage != "empty" or b.cur != 0:
            return False
        if t.value is None:
            if b.total != 0:
                return False
            b.stage = "biglit"
        else:
            if b.total != 0 and (t.decimal or b.last_scale is None or t.value >= b.last_scale):
                return False
            b.cur = t.value
            b.stage = "lit"
        b.words = False
        b.decimal = t.decimal
        b.single_num = t if b.total == 0 else None
        b.ntok += 1
        return True
    if t.kind != "word":
        return False
    w = t.text
    if w in ("a", "an"):
        if b.stage == "empty" and b.total == 0 and b.cur == 0 and nxt is not None and (
            nxt.text == "hundred" or nxt.text in ("thousand", "million", "billion", "grand")
        ):
            b.cur = Decimal(1)
            b.stage = "unit"
            b.ntok += 1
            return True
        return False
    if w in ("double", "triple"):
        if b.stage == "empty" and b.total == 0 and b.cur == 0 and nxt is not None and (
            repeatable(nxt) is not None or (nxt.kind == "num" and nxt.digits.isdigit() and not (nxt.decimal or nxt.grouped))
        ):
            b.repeat = 2 if w == "double" else 3
            b.stage = "repeat"
            b.ntok += 1
            return True
        return False
    if b.stage == "repeat":
        d = repeatable(t)
        if d is None:
            return False
        b.digits = str(d) * b.repeat
        b.cur = Decimal(b.digits)
        b.stage = "digits"
        return True
    if w in UNITS:
        v = UNITS[w]
        if v == 0:
            if b.stage == "empty" and b.total == 0 and b.cur == 0:
                b.stage = "zero"
                b.zero_word = True
                b.ntok += 1
                return True
            return False
        if b.stage in ("empty", "hundred", "tens"):
            b.cur += v
            b.stage = "unit"
            b.ntok += 1
            return True
        return False
    if w in TEENS or w in TENS:
        if b.stage in ("empty", "hundred"):
            b.cur += TEENS.get(w) or TENS[w]
            b.stage = "teen" if w in TEENS else "tens"
            b.ntok += 1
            return True
        return False
    if w == "hundred":
        if b.stage in ("unit", "teen", "tens", "lit") and not b.has_hundred and not b.decimal and 0 < b.cur < 100:
            b.cur *= 100
            b.stage = "hundred"
            b.has_hundred = True
            b.ntok += 1
            return True
        return False
    if w in SCALES:
        s = SCALES[w]
        if b.stage in ("unit", "teen", "tens", "hundred", "lit") and b.cur > 0 and (
            b.last_scale is None or s < b.last_scale
        ):
            b.total += b.cur * s
            b.cur = Decimal(0)
            b.stage = "empty"
            b.last_scale = s
            b.has_hundred = False
            b.scaled = True
            b.decimal = False
            b.ntok += 1
            return True
        return False
    if w == "and":
        if (b.stage == "hundred" or (b.stage == "empty" and b.total > 0)) and nxt is not None and (
            (nxt.text in UNITS and UNITS[nxt.text] > 0) or nxt.text in TEENS or nxt.text in TENS
        ):
            return True
        return False
    return False


def _can_start(text: str, toks: Sequence[Tok], skip: Sequence[bool], k: int) -> bool:
    t = toks[k]
    if t.kind == "num":
        return True
    if t.kind != "word":
        return False
    w = t.text
    if w in ZERO_WORDS and w != "zero":
        # "oh" is an interjection unless it sits among digits ("five oh one", "oh one two").
        prev_ok = k > 0 and not skip[k - 1] and _is_numberish(toks[k - 1]) and adjacent(text, toks, k - 1, k)
        nxt = toks[k + 1] if k + 1 < len(toks) and not skip[k + 1] else None
        next_ok = nxt is not None and _is_numberish(nxt) and text[t.end:nxt.start] in ("", " ")
        return prev_ok or next_ok
    if w in UNITS or w in TEENS or w in TENS:
        return True
    if w in ("a", "an", "double", "triple"):
        return True  # _feed checks what follows
    return False


def _is_numberish(t: Tok) -> bool:
    return t.kind == "num" or (t.kind == "word" and (t.text in UNITS or t.text in TEENS or t.text in TENS))


def number_chunks(text: str, toks: Sequence[Tok], skip: Sequence[bool]) -> list[Chunk]:
    """Group number tokens into chunks; tokens marked in ``skip`` end a chunk."""
    out: list[Chunk] = []
    n = len(toks)
    i = 0
    while i < n:
        if skip[i] or not _can_start(text, toks, skip, i):
            i += 1
            continue
        b = _Builder()
        k = i
        while k < n and not skip[k]:
            if k > i and not adjacent(text, toks, k - 1, k):
                break
            if not _feed(b, text, toks, skip, k):
                break
            if b.stage in ("zero", "biglit", "digits"):
                k += 1
                break
            k += 1
        # _feed only takes "a", "and" and "double" when the next token completes them, so a
        # chunk cannot end on one; the guard keeps a future rule change from looping.
        if k == i or b.ntok == 0 or b.stage == "repeat":
            i += 1
            continue
        out.append(_finish(b, text, toks, i, k, out))
        i = k
    return out


def _finish(b: _Builder, text: str, toks: Sequence[Tok], i: int, j: int, prev: list[Chunk]) -> Chunk:
    value: Decimal | None
    if b.stage == "biglit":
        value = None
    else:
        value = b.total + b.cur
    single = b.single_num is not None and j - i == 1
    if b.stage == "digits":
        digits = b.digits
    elif b.zero_word:
        digits = "0"
    elif single and b.single_num is not None:
        digits = b.single_num.digits
    elif value is not None and value == value.to_integral_value():
        digits = str(int(value))
    else:
        digits = "".join(t.digits for t in toks[i:j] if t.kind == "num")
    digitlike = (
        b.stage in ("digits", "zero", "biglit")
        or (single and b.single_num is not None and not b.single_num.decimal and not b.single_num.grouped)
        or (j - i == 1 and toks[i].kind == "word" and toks[i].text in UNITS)
    )
    joined = bool(prev) and prev[-1].j == i and adjacent(text, toks, i - 1, i)
    return Chunk(i, j, value, digits, b.words, digitlike, b.zero_word, b.scaled, b.has_hundred, b.decimal, joined)


def group_runs(chunks: Sequence[Chunk]) -> list[list[Chunk]]:
    """Adjacent chunks ("four fifteen", "415 555 0123") form one run."""
    runs: list[list[Chunk]] = []
    for c in chunks:
        if runs and c.joined:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


def combine(run: Sequence[Chunk]) -> Decimal | None:
    """One number from a run: "12 84" and "twelve eighty four" → 1284, "four one five" → 415."""
    if not run:
        return None
    if len(run) == 1:
        return run[0].value
    if all(c.digitlike for c in run):
        digits = "".join(c.digits for c in run)
        return Decimal(digits) if 0 < len(digits) <= MAX_NUM_DIGITS else None
    a, b = run[0], run[1]
    if len(run) == 2 and a.small_word and b.small_word and b.value is not None and b.value >= 10:
        assert a.value is not None
        return a.value * 100 + b.value
    c = run[-1]
    if len(run) == 3 and a.small_word and b.zero_word and c.words and c.value is not None and 0 < c.value < 10:
        assert a.value is not None
        return a.value * 100 + c.value  # "twelve oh five"
    return None


def as_int(v: Decimal | None, limit: int = 10**15) -> int | None:
    if v is None or v != v.to_integral_value() or not (0 <= v < limit):
        return None
    return int(v)


def run_digits(run: Iterable[Chunk]) -> str:
    return "".join(c.digits for c in run)


# ---------------------------------------------------------------- whole texts as numbers


def parse_spoken_number(text: str) -> int | None:
    """A whole number from how it was said or transcribed, or None if the text is not one.

    Accepts "415", "450,000", "$450,000", "450 thousand", "450k", "1.2 million", "one point
    two million", "four hundred fifty thousand dollars", "twelve hundred and eighty four",
    digit by digit ("four one five" → 415) and in pairs ("four fifteen" → 415, "twelve
    eighty four" → 1284, "nineteen eighty five" → 1985). Anything else in the text (other
    words, a fraction without a scale such as "12.5") gives None rather than a guess.
    """
    if not isinstance(text, str):
        return None
    words = read_words(text)
    norm = words.text
    toks = [t for t in words.toks if not (t.kind == "dollar" or t.text in MONEY_AFTER)]
    if not toks:
        return None
    skip = [False] * len(toks)
    chunks = number_chunks(norm, toks, skip)
    covered = [False] * len(toks)
    for c in chunks:
        for k in range(c.i, c.j):
            covered[k] = True
    if not all(covered[k] or toks[k].text == "and" for k in range(len(toks))):
        return None
    runs = group_runs(chunks)
    if len(runs) != 1:
        return None
    return as_int(combine(runs[0]), limit=10**18)


def digits_from_speech(text: str) -> str:
    """All digits said in the text, in order: "four one five, 555-oh one two three" → "4155550123".

    Handles digit words, "oh"/"o" for zero among digits, "double five", and grouped numbers
    ("four fifteen" → "415", "eight hundred" → "800"). Other words are ignored, so callers
    check the length they need themselves.
    """
    words = read_words(text)
    return "".join(c.digits for c in number_chunks(words.text, words.toks, [False] * len(words.toks)))

