"""Money and quantities: a budget ("up to 450k"), an amount ("$1,284.50"), bedrooms.

A budget needs a cue or a scale ("budget", "under", "thousand") because a bare number is
as likely a house number or a time; an amount needs a money word unless the agent asked
for one. Bedrooms are a count next to a bedroom word ("three bed", "3-4 bedrooms").
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from worker.reading.context import Utterance, run_starting_at
from worker.reading.numbers import Chunk, adjacent, as_int, combine
from worker.reading.vocabulary import BED_WORDS, BUDGET_CUES, MONEY_AFTER


def _money_signal(ctx: Utterance, run: Sequence[Chunk]) -> bool:
    start, end = run[0].i, run[-1].j
    return (start > 0 and ctx.toks[start - 1].kind == "dollar") or ctx.w(end) in MONEY_AFTER


def _budget_cue(ctx: Utterance, start: int) -> bool:
    return any(ctx.w(k) in BUDGET_CUES for k in range(max(0, start - 4), start))


def extract_budget(ctx: Utterance) -> int | None:
    """Dollars the caller will spend; the largest amount wins ("between 800k and 1.2 million")."""
    best: int | None = None
    for run in ctx.runs():
        value = as_int(_run_value(run), limit=10**12)
        if value is None or value <= 0:
            continue
        scaled = any(c.scaled for c in run)
        ok = (
            (_budget_cue(ctx, run[0].i) and value >= 1_000)
            or ((_money_signal(ctx, run) or scaled) and value >= 10_000)
            or ctx.expects("budget")
        )
        if ok and (best is None or value > best):
            best = value
    return best


def _run_value(run: Sequence[Chunk]) -> Decimal | None:
    """A run as one quantity; rounds cents off dollars ("$1.2 million" stays exact)."""
    v = combine(run)
    if v is None:
        return None
    return v.to_integral_value() if v >= 0 else None


def extract_amount(ctx: Utterance) -> int | None:
    """Cents of a stated amount: "$1,284", "1284 dollars and 50 cents", "twelve eighty four"."""
    for run in ctx.runs():
        if not (_money_signal(ctx, run) or ctx.expects("amount", "amount_cents")):
            continue
        value = combine(run)
        if value is None or value < 0 or value >= 10**12:
            continue
        cents = value * 100
        end = run[-1].j
        if ctx.w(end) in MONEY_AFTER:
            tail = end + 1
            if ctx.w(tail) == "and":
                tail += 1
            extra = run_starting_at(ctx, tail)
            if extra and ctx.w(extra[-1].j) in ("cents", "cent"):
                c = as_int(combine(extra))
                if c is not None and c < 100:
                    cents += c
        if cents != cents.to_integral_value():
            continue
        return int(cents)
    return None



def _room_count(c: Chunk) -> int | None:
    v = as_int(c.value)
    return v if v is not None and 0 < v <= 20 and not c.scaled and not c.decimal else None


def extract_bedrooms(ctx: Utterance) -> int | None:
    """"three bedrooms", "3 bed", "a 2 bedroom", "3br", "studio"; of a range ("three or four
    bedrooms", "3-4 beds") the smaller, since listings are searched by minimum bedrooms."""
    toks = ctx.toks
    chunks = ctx.chunks()
    for k, t in enumerate(toks):
        if ctx.used[k] or t.kind != "word":
            continue
        if t.text == "studio":
            ctx.take(k, k + 1)
            return 0
        if t.text not in BED_WORDS:
            continue
        for idx, c in enumerate(chunks):
            if c.j != k or not adjacent(ctx.text, toks, k - 1, k) or (v := _room_count(c)) is None:
                continue
            lo = c.i
            if idx > 0:
                p = chunks[idx - 1]
                ranged = (p.j == c.i and ctx.gap(p.j - 1, c.i).strip() == "-") or (
                    p.j == c.i - 1 and ctx.w(c.i - 1) in ("or", "to")
                )
                pv = _room_count(p)
                if ranged and pv is not None and pv < v:
                    v, lo = pv, p.i
            ctx.take(lo, k + 1)
            return v
    if ctx.expects("bedrooms", "beds"):
        for c in chunks:
            v = _room_count(c)
            if v is not None:
                ctx.take(c.i, c.j)
                return v
    return None

