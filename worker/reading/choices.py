"""Which of the offered options the caller picked: "the first one", "option 3", "the last".

Runs after dates and times, so "the 28th" and "at two" are already claimed and only the
positions remain.
"""

from __future__ import annotations

from worker.reading.context import Utterance, run_starting_at
from worker.reading.dates import ordinal_at
from worker.reading.numbers import as_int
from worker.reading.vocabulary import CHOICE_WORDS, NOT_CHOICE_BEFORE, NOT_CHOICE_OWNERS, NOT_LAST


def extract_choice(ctx: Utterance) -> int | None:
    """1-based position the caller picked; negative counts from the end ("the last one")."""
    toks = ctx.toks
    for k, t in enumerate(toks):
        if ctx.used[k]:
            continue
        w = t.text
        nxt = ctx.w(k + 1)
        prev = ctx.w(k - 1)
        if w == "second" and (nxt == "last" or (nxt == "to" and ctx.w(k + 2) == "last")):
            ctx.take(k, k + (2 if nxt == "last" else 3))
            return -2
        if w == "last" and nxt not in NOT_LAST and prev != "at":
            ctx.take(k, k + 1)
            return -1
        hit = ordinal_at(ctx, k)
        if hit is not None and 1 <= hit[0] <= 10:
            after = ctx.w(hit[1])
            if after in ("name", "time", "of", "floor", "thing", "things") or prev in NOT_CHOICE_BEFORE:
                continue
            ctx.take(k, hit[1])
            return hit[0]
        if w in CHOICE_WORDS and prev not in NOT_CHOICE_OWNERS:
            run = run_starting_at(ctx, k + 1)
            if run and len(run) == 1:
                v = as_int(run[0].value)
                if v is not None and 1 <= v <= 20 and not run[0].scaled:
                    ctx.take(k, run[0].j)
                    return v
    if ctx.expects("ordinal_choice", "choice", "option", "listing"):
        runs = ctx.runs()
        if len(runs) == 1 and len(runs[0]) == 1:
            v = as_int(runs[0][0].value)
            if v is not None and 1 <= v <= 20:
                ctx.take(runs[0][0].i, runs[0][0].j)
                return v
    return None

