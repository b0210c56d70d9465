"""Clock times: "2:30 pm", "two thirty", "at two", "half past three", "noon".

Most numbers in a call are not times, so a bare number counts only with a cue ("at two",
"2 pm", "two o'clock") or when the agent just asked for a time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from worker.reading.context import Utterance, run_starting_at
from worker.reading.numbers import Chunk, as_int
from worker.reading.vocabulary import DAY_PARTS, TIME_CUES, TIME_FOLLOWERS


_AM_PART = re.compile(r"(?<!good )\bmorning\b")
_PM_PART = re.compile(r"(?<!good )\b(?:afternoon|evening|night)\b|\btonight\b")
#: A part of the day named on its own ("in the morning, please"); a greeting names none.
_PART = re.compile(r"(?<!good )\b(morning|afternoon|evening|tonight|night)\b")
#: Words just before a part that rule it out ("not in the", "can't do the"); "n't" asking for it
#: ("Isn't there anything in the", "Don't you have") does not. A comma ends the reach ("no, afternoon").
_RULED_OUT = re.compile(r"(?:\bnot|\bnever|n't)(?!\s+(?:you|there)\b)(?:\s+[a-z']+){0,4}\s*$")
#: Where each part of the day starts and ends, in minutes after midnight. Noon itself is neither
#: morning nor afternoon ("in the afternoon I have 12 PM" is not what a person says).
_PART_WINDOWS = {"morning": (0, 12 * 60), "afternoon": (12 * 60 + 1, 17 * 60), "evening": (17 * 60, 24 * 60)}


def _glued_meridiem(ctx: Utterance, after: int) -> str | None:
    """"11a and works for me", "2p dim": the recogniser glued the "a"/"p" of "AM"/"PM" to the
    number and lost the "m"; a lone "a" or "p" touching the digits is nothing else."""
    toks = ctx.toks
    if ctx.w(after) in ("a", "p") and 0 < after < len(toks) and toks[after].start == toks[after - 1].end \
            and toks[after - 1].kind == "num":
        return ctx.w(after) + "m"
    return None


def _misheard_in_the_day_part(ctx: Utterance, after: int) -> bool:
    """ "two win the afternoon", "two admit afternoon": the answer to "which time?" with its
    "in the" misheard (espeak-ng en-gb, bench robustness): one short word, then an optional
    "the", then a part of the day."""
    word = ctx.w(after)
    if not word or not word.isalpha() or len(word) > 5:
        return False
    nxt = after + 2 if ctx.w(after + 1) == "the" else after + 1
    return ctx.w(nxt) in DAY_PARTS


def _meridiem(ctx: Utterance, after: int) -> str | None:
    """"am"/"pm" right after the number, else a part of day said anywhere in the text."""
    if ctx.w(after) in ("am", "pm"):
        return ctx.w(after)
    if ctx.w(after) == "a" and ctx.w(after + 1) == "m":
        return "am"
    if ctx.w(after) == "p" and ctx.w(after + 1) == "m":
        return "pm"
    glued = _glued_meridiem(ctx, after)
    if glued:
        return glued
    # "Good morning, at 2?" is a greeting, not a part of the day.
    if _AM_PART.search(ctx.text):
        return "am"
    if _PM_PART.search(ctx.text):
        return "pm"
    return None


def _to_time(hour: int, minute: int, meridiem: str | None) -> dt.time | None:
    """Apply am/pm, or the shop-hours guess: 1–6 → afternoon, 7–11 → morning."""
    if not (0 <= minute < 60):
        return None
    if meridiem == "pm":
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + 12
    elif meridiem == "am":
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12
    elif 1 <= hour <= 6:
        hour += 12
    elif not 0 <= hour <= 23:
        return None
    return dt.time(hour, minute)


def _hour_minute(run: Sequence[Chunk], with_meridiem: bool, asked: bool = False) -> tuple[int, int, int] | None:
    """(hour, minute, chunks used) from "2", "two thirty", "2 30", "two oh five", "2.30"; and
    "230", "1130" with a meridiem or when the agent asked for a time (Whisper writes "eleven
    thirty" and "four thirty" as 1130 and 430)."""
    first = run[0]
    if first.scaled or first.hundred and not with_meridiem:
        return None
    if first.decimal and first.value is not None:
        whole, _, frac = str(first.value).partition(".")
        if len(frac) == 2 and whole.isdigit():
            return int(whole), int(frac), 1
        return None
    h = as_int(first.value)
    if h is None:
        return None
    if 1 <= h <= 12 and len(run) >= 3 and run[1].zero_word and run[2].value is not None and 0 < run[2].value < 10:
        return h, int(run[2].value), 3
    if 1 <= h <= 12 and len(run) >= 2 and run[1].value is not None and not run[1].scaled:
        m = as_int(run[1].value)
        if m is not None and 10 <= m < 60 and (run[1].words or len(run[1].digits) == 2):
            return h, m, 2
    if 1 <= h <= 12:
        return h, 0, 1
    if (with_meridiem or asked and len(run) == 1) and first.digitlike and len(first.digits) in (3, 4):
        hh, mm = divmod(h, 100)
        if 1 <= hh <= 12 and mm < 60 and (with_meridiem or mm > 0):  # "900" is nine hundred
            return hh, mm, 1
    return None


_PRONOUN_ONE = frozenset({"the", "that", "this", "which", "each", "every", "another", "other"})
"""Words before "one" that make it a pronoun ("the one on Grand Avenue"), not an hour."""


def _explicit(ctx: Utterance, end: int) -> bool:
    """The number run ending before token `end` is said as a time: a meridiem, "o'clock", "in the
    morning", "tonight", "at night" follows it."""
    after_run = ctx.w(end)
    return bool(
        after_run in ("am", "pm", "o'clock", "tonight")
        or (after_run in ("a", "p") and ctx.w(end + 1) == "m")
        or _glued_meridiem(ctx, end) is not None
        or (after_run == "in" and ctx.w(end + 1) == "the" and ctx.w(end + 2) in DAY_PARTS)
        or (ctx.expects("time") and _misheard_in_the_day_part(ctx, end))
        or (after_run == "at" and ctx.w(end + 1) == "night")
    )


def _cued(ctx: Utterance, start: int) -> bool:
    """A time cue ("at", "around", "by") comes right before the number run starting at `start`."""
    return start > 0 and ctx.w(start - 1) in TIME_CUES and not ctx.used[start - 1]


def extract_time(ctx: Utterance) -> dt.time | None:
    """A clock time. Bare numbers count only with a cue ("at two", "2 pm", "two o'clock") or
    when the agent asked for a time, because most numbers in a call are not times."""
    toks = ctx.toks
    n = len(toks)
    for k in range(n):
        if ctx.used[k]:
            continue
        t = toks[k]
        if t.kind == "clock":
            hh, mm = (int(x) for x in t.text.split(":"))
            mer = _meridiem(ctx, k + 1) if hh <= 12 else None
            value = _to_time(hh, mm, mer)
            if value is not None:
                ctx.take(k, k + 1)
                return value
        if t.text in ("noon", "midday"):
            ctx.take(k, k + 1)
            return dt.time(12, 0)
        if t.text == "midnight":
            ctx.take(k, k + 1)
            return dt.time(0, 0)
        if t.text in ("half", "quarter") and ctx.w(k + 1) in ("past", "after", "to", "till", "of"):
            run = run_starting_at(ctx, k + 2)
            if run:
                h = as_int(run[0].value)
                if h is not None and 1 <= h <= 12:
                    minute = 30 if t.text == "half" else 15
                    if ctx.w(k + 1) in ("to", "till", "of"):
                        if t.text == "half":
                            continue
                        h, minute = (h - 2) % 12 + 1, 45
                    value = _to_time(h, minute, _meridiem(ctx, run[0].j))
                    if value is not None:
                        ctx.take(k, run[0].j)
                        return value
    # a time said as one ("10 AM", "at two") before a bare number: "the one on College Avenue at 10 AM" is 10 AM
    judged = [(run, _explicit(ctx, run[-1].j), _cued(ctx, run[0].i)) for run in ctx.runs()]
    for run, explicit, cue in sorted(judged, key=lambda j: not (j[1] or j[2])):
        start, end = run[0].i, run[-1].j
        if start > 0 and toks[start - 1].kind == "dollar":
            continue
        if not (explicit or cue or ctx.expects("time")):
            continue
        if not (explicit or cue) and start > 0 and ctx.w(start - 1) in _PRONOUN_ONE and ctx.w(start) == "one":
            continue  # "the one on Grand", "that one": a pronoun, not 1 o'clock
        hm = _hour_minute(run, explicit, ctx.expects("time"))
        if hm is None:
            continue
        hour, minute, used = hm
        stop = run[used - 1].j
        if not explicit and used < len(run):
            continue  # "at 2 5 5 ..." is not a time
        if not explicit:
            follower = ctx.w(stop)
            if follower and not ctx.hard_break_after(stop - 1) and follower not in TIME_FOLLOWERS:
                continue
        mer = _meridiem(ctx, stop)
        value = _to_time(hour, minute, mer)
        if value is not None:
            extra = (1 if ctx.w(stop) in ("am", "pm", "o'clock") or _glued_meridiem(ctx, stop)
                     else 2 if ctx.w(stop) in ("a", "p") else 0)
            ctx.take(start, stop + extra)
            return value
    return None


def part_of_day(said: str) -> str | None:
    """The part of the day the words name instead of a clock time: "morning", "afternoon" or
    "evening" ("tonight" and "night" are the evening), the last one said when several ("morning,
    no, afternoon"); None when none is named, only in a greeting ("good morning") or only ruled
    out ("not in the morning", "I can't do the morning": narrowing to it would offer what was refused).

    Why not the words "early" or "late": alone they name no part of the day ("the early one" is a
    choice by position), and with one ("late morning") the part is what narrows the offer."""
    low = said.lower()
    found = [m.group(1) for m in _PART.finditer(low) if not _RULED_OUT.search(low[:m.start()])]
    if not found:
        return None  # none, or only one ruled out ("not in the morning"): no part to narrow to
    return {"tonight": "evening", "night": "evening"}.get(found[-1], found[-1])


def in_part_of_day(value: dt.time, part: str) -> bool:
    """Whether a clock time falls in the part of the day (`part_of_day`'s names)."""
    start, end = _PART_WINDOWS[part]
    return start <= value.hour * 60 + value.minute < end
