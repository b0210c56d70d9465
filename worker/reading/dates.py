"""Dates: a tour day ("Saturday", "the 28th", "tomorrow") and a date of birth.

Relative dates resolve against the ``today`` the reading is given, never the clock, so the
same words give the same date in a test, a replay and a live call. A past date with a year
is taken as a date of birth; anything else is an appointment day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from worker.reading.context import Utterance, run_starting_at
from worker.reading.numbers import Chunk, as_int, combine, group_runs
from worker.reading.vocabulary import DATE_FOLLOWERS, DAY_PARTS, MONTHS, ORDINAL_WORDS, TENS, WEEKDAYS


@dataclass(frozen=True)
class _DateHit:
    i: int
    j: int
    value: dt.date
    has_year: bool
    rank: int  # lower is more specific


def ordinal_at(ctx: Utterance, k: int) -> tuple[int, int] | None:
    """An ordinal at k: "28th", "third", "twenty eighth" → (value, index after)."""
    if k >= len(ctx.toks) or ctx.used[k]:
        return None
    t = ctx.toks[k]
    if t.kind == "ordnum":
        digits = t.text[:-2]
        if len(digits) <= 3:
            return int(digits), k + 1
        return None
    if t.kind != "word":
        return None
    if t.text in TENS and k + 1 < len(ctx.toks) and not ctx.used[k + 1]:
        nxt = ctx.toks[k + 1].text
        if nxt in ORDINAL_WORDS and ORDINAL_WORDS[nxt] < 10:
            return TENS[t.text] + ORDINAL_WORDS[nxt], k + 2
    if t.text in ORDINAL_WORDS:
        return ORDINAL_WORDS[t.text], k + 1
    return None


def _day_at(ctx: Utterance, k: int) -> tuple[int, int] | None:
    """A day of the month at k, as an ordinal or a plain number 1–31."""
    hit = ordinal_at(ctx, k)
    if hit is not None:
        return hit if 1 <= hit[0] <= 31 else None
    for c in ctx.chunks():
        if c.i == k:
            v = as_int(c.value)
            if v is not None and 1 <= v <= 31 and not c.decimal and not c.scaled:
                return v, c.j
            return None
    return None


def _year_at(ctx: Utterance, k: int) -> tuple[int, int] | None:
    """A year 1900–2100 starting at k: "1985", "nineteen eighty five", "two thousand three"."""
    if k < len(ctx.toks) and ctx.w(k) == "of":
        k += 1  # "March of 1985" is rare but harmless
    run = run_starting_at(ctx, k)
    if not run:
        return None
    # Prefer the longest prefix of the run that reads as a year.
    for size in range(min(len(run), 3), 0, -1):
        v = as_int(combine(run[:size]))
        if v is not None and 1900 <= v <= 2100:
            return v, run[size - 1].j
    return None


def _birth_year_at(ctx: Utterance, k: int) -> tuple[int, int] | None:
    """`_year_at`, but after a birth-date question a year said again right after one no caller
    can have been born in keeps the second: Whisper writes a misheard year, then the year
    ("July 4, 2013, 1990", "July 4, 1900, 1990" for "July fourth, nineteen ninety")."""
    yr = _year_at(ctx, k)
    if yr is None or not ctx.expects("date_of_birth") or yr[1] >= len(ctx.toks) \
            or not _PUNCTUATION_ONLY.fullmatch(ctx.gap(yr[1] - 1, yr[1])):
        return yr
    again = _year_at(ctx, yr[1])

    def born(y: int) -> bool:
        return ctx.today.year - 110 <= y <= ctx.today.year - 16

    return again if again is not None and not born(yr[0]) and born(again[0]) else yr


def _short_year_at(ctx: Utterance, k: int) -> tuple[int, int] | None:
    """A two-digit year after a month and day ("March twelfth, eighty-four"): only for a date
    of birth (asked for, or said after a comma), since "November 28, 30 minutes" is not one."""
    if not (ctx.expects("date_of_birth") or ctx.hard_break_after(k - 1)):
        return None
    run = run_starting_at(ctx, k)
    if not run or len(run) != 1 or run[0].scaled or run[0].decimal:
        return None
    v = as_int(run[0].value)
    if v is None or not 10 <= v <= 99 or ctx.w(run[0].j) in ("am", "pm", "o'clock", "minutes", "minute"):
        return None
    return _full_year(v, ctx.today), run[0].j


def _three_numbers_at(ctx: Utterance, k: int) -> list[Chunk] | None:
    """The numbers from k on, across sentence breaks, until there are three: a slow caller's
    "3. 12. 84." or "Three. Twelve. Eighty-four." is written one number per sentence. Runs join
    only when nothing but punctuation parts them; a run that goes on past the third number
    ("3, 12, 84, 5") is no triple, and neither is one that began before k ("3, 12, 19, 84" read
    from the 12 would be December 19). A third number that starts a year ("19", "20") takes
    the next one too: "three, twelve, nineteen eighty-four" (`_split_year`)."""
    runs = group_runs(ctx.chunks())
    for idx, run in enumerate(runs):
        start = next((x for x, c in enumerate(run) if c.i == k), None)
        if start is None:
            continue
        if start > 0 or (idx > 0 and _in_a_row(ctx, runs[idx - 1][-1], run[0])):
            return None
        said = run[start:]
        for nxt in runs[idx + 1:]:
            if (len(said) >= 3 and not (len(said) == 3 and _century(said[2]))) or not _in_a_row(ctx, said[-1], nxt[0]):
                break
            said += nxt
        return said
    return None


def _in_a_row(ctx: Utterance, before: Chunk, after: Chunk) -> bool:
    """`after` follows `before` with nothing but punctuation between."""
    return after.i == before.j and bool(_PUNCTUATION_ONLY.fullmatch(ctx.gap(before.j - 1, after.i)))


def _century(c: Chunk) -> bool:
    """"19" / "nineteen", "20" / "twenty": the first half of a year said in two."""
    return len(c.digits) == 2 and as_int(c.value) in (19, 20) and not (c.scaled or c.decimal or c.hundred)


def _split_year(run: list[Chunk]) -> int | None:
    """The year of a month-day-year said with the year in two halves ("nineteen eighty-four",
    "19, 84"): None unless `run` is four numbers ending in a century and its two-digit rest."""
    if len(run) != 4 or not _century(run[2]):
        return None
    century, rest = as_int(run[2].value), run[3]
    v = as_int(rest.value)
    if century is None or v is None or len(rest.digits) != 2 or rest.scaled or rest.decimal or rest.hundred:
        return None
    return century * 100 + v


_PUNCTUATION_ONLY = re.compile(r"[\s.,;:!?\-]*")


def _numeric_birth_date(ctx: Utterance, k: int) -> tuple[int, int, int, int] | None:
    """"3, 12, 84" / "three twelve eighty four" / "3. 12. 84.": month, day, year as three
    numbers, read only when the agent asked for a date of birth or the caller said "born"/"birth"."""
    if not (ctx.expects("date_of_birth") or any(t.text in ("born", "birth", "dob", "birthday") for t in ctx.toks)):
        return None
    run = _three_numbers_at(ctx, k)
    if run and (split := _split_year(run)) is not None:
        m, d = as_int(run[0].value), as_int(run[1].value)
        if m is not None and d is not None and 1 <= m <= 12 and 1 <= d <= 31 and 1900 <= split <= 2100 \
                and not any(c.scaled or c.decimal or c.hundred for c in run[:2]):
            return m, d, split, run[3].j
        return None
    if not run or len(run) != 3 or any(c.scaled or c.decimal or c.hundred for c in run):
        return None
    m, d, y = (as_int(c.value) for c in run)
    if m is None or d is None or y is None or not (1 <= m <= 12 and 1 <= d <= 31):
        return None
    if len(run[2].digits) == 4 and 1900 <= y <= 2100:
        return m, d, y, run[2].j
    if 10 <= y <= 99 or (len(run[2].digits) == 2 and y < 10):
        return m, d, _full_year(y, ctx.today), run[2].j
    return None


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _next_month_day(today: dt.date, month: int, day: int) -> dt.date | None:
    """The first month/day on or after today (Feb 29 waits for a leap year)."""
    for year in range(today.year, today.year + 9):
        d = _safe_date(year, month, day)
        if d is not None and d >= today:
            return d
    return None


def _next_day_of_month(today: dt.date, day: int) -> dt.date | None:
    y, m = today.year, today.month
    for _ in range(13):
        d = _safe_date(y, m, day)
        if d is not None and d >= today:
            return d
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return None


def _add_days(today: dt.date, n: int) -> dt.date | None:
    try:
        return today + dt.timedelta(days=n)
    except OverflowError:
        return None


def _full_year(y: int, today: dt.date) -> int:
    if y >= 100:
        return y
    return 2000 + y if 2000 + y <= today.year else 1900 + y


def _date_hits(ctx: Utterance) -> list[_DateHit]:
    hits: list[_DateHit] = []
    toks = ctx.toks
    n = len(toks)
    today = ctx.today

    def add(i: int, j: int, month: int, day: int, year: int | None, rank: int = 0) -> None:
        if year is not None:
            d = _safe_date(year, month, day)
            if d is not None:
                hits.append(_DateHit(i, j, d, True, rank))
        else:
            d = _next_month_day(today, month, day)
            if d is not None:
                hits.append(_DateHit(i, j, d, False, rank))

    k = 0
    while k < n:
        if ctx.used[k]:
            k += 1
            continue
        t = toks[k]
        w = t.text
        # 11/28, 3/3/1985, 03/03/85
        if t.kind == "slash":
            if ctx.w(k - 1) in ("exp", "expires", "expiry", "expiration", "expiring", "valid", "thru"):
                k += 1  # a card expiry (month/year), not a day
                continue
            parts = [int(p) for p in w.split("/")]
            year = _full_year(parts[2], today) if len(parts) == 3 else None
            if 1 <= parts[0] <= 12:
                add(k, k + 1, parts[0], parts[1], year)
            k += 1
            continue
        # 3-3-1985, 1985-03-03, 3.12.84 (the same separator twice)
        if t.kind == "num" and k + 2 < n and all(
            toks[x].kind == "num" and not toks[x].decimal and not toks[x].grouped for x in (k + 1, k + 2)
        ) and ctx.gap(k, k + 1) in ("-", ".") and ctx.gap(k + 1, k + 2) == ctx.gap(k, k + 1) and not t.decimal:
            a, b, c = (int(toks[x].digits[-4:] or "0") for x in (k, k + 1, k + 2))
            if len(toks[k].digits) == 4 and 1900 <= a <= 2100 and 1 <= b <= 12:
                add(k, k + 3, b, c, a)
                k += 3
                continue
            if len(toks[k + 2].digits) in (2, 4) and 1 <= a <= 12 and 1 <= b <= 31:
                add(k, k + 3, a, b, _full_year(c, today))
                k += 3
                continue
        # 3, 12, 84 (a date of birth said as numbers)
        triple = _numeric_birth_date(ctx, k) if t.kind in ("num", "word") else None
        if triple is not None:
            add(k, triple[3], triple[0], triple[1], triple[2])
            k = triple[3]
            continue
        # March 3rd (,) 1985 / March the third / November 28
        if w in MONTHS:
            d0 = k + 1
            if ctx.w(d0) == "the":
                d0 += 1
            day = _day_at(ctx, d0)
            if day is not None:
                yr = _birth_year_at(ctx, day[1]) or _short_year_at(ctx, day[1])
                end = yr[1] if yr else day[1]
                add(k, end, MONTHS[w], day[0], yr[0] if yr else None)
                k = end
                continue
        # 12 March 1984 / 28 November: a day in digits before a month's name ("may" needs a year;
        # "2 March dates" counts things named for a month, so with no year the month must end the
        # phrase or be followed by a word a date is followed by)
        if t.kind == "num" and ctx.w(k - 1) != "the":
            day = _day_at(ctx, k)
            month = ctx.w(day[1]) if day is not None else ""
            if day is not None and month in MONTHS and not ctx.used[day[1]]:
                yr = _year_at(ctx, day[1] + 1)
                if yr is not None or (month != "may" and _month_ends_a_date(ctx, day[1])):
                    end = yr[1] if yr else day[1] + 1
                    add(k, end, MONTHS[month], day[0], yr[0] if yr else None)
                    k = end
                    continue
        # (the) third of March (,) 1985 / 28th November
        ordinal = ordinal_at(ctx, k)
        plain = None if ordinal else _day_at(ctx, k) if ctx.w(k - 1) == "the" else None
        hit = ordinal or plain
        if hit is not None and 1 <= hit[0] <= 31:
            m = hit[1]
            if ctx.w(m) == "of":
                m += 1
            if ctx.w(m) in MONTHS and not ctx.used[m]:
                yr = _year_at(ctx, m + 1)
                end = yr[1] if yr else m + 1
                start = k - 1 if ctx.w(k - 1) == "the" else k
                add(start, end, MONTHS[ctx.w(m)], hit[0], yr[0] if yr else None)
                k = end
                continue
        # Asked for a day, "the 28" is one too.
        if plain is not None and ordinal is None and ctx.expects("date"):
            d = _next_day_of_month(today, plain[0])
            if d is not None:
                hits.append(_DateHit(k - 1, plain[1], d, False, 1))
            k = plain[1]
            continue
        # "the 28th", "on the second": a day of this or next month.
        if ordinal is not None and 1 <= ordinal[0] <= 31 and _bare_ordinal_is_date(ctx, k, ordinal):
            d = _next_day_of_month(today, ordinal[0])
            if d is not None:
                start = k - 1 if ctx.w(k - 1) == "the" else k
                hits.append(_DateHit(start, ordinal[1], d, False, 1))
            k = ordinal[1]
            continue
        # Relative days and weekdays.
        rel = _relative_day(ctx, k)
        if rel is not None:
            hits.append(rel)
            k = rel.j
            continue
        k += 1
    return hits


def _month_ends_a_date(ctx: Utterance, m: int) -> bool:
    """After "28 November" with no year: the end of a phrase or a word that may follow a date
    ("28 November please", "28 November at 2"), not a noun ("2 March dates", "3 March times")."""
    return ctx.hard_break_after(m) or ctx.w(m + 1) in DATE_FOLLOWERS


def _bare_ordinal_is_date(ctx: Utterance, k: int, ordinal: tuple[int, int]) -> bool:
    """"the 28th" is a date; "the second one" is a choice and "a second" is a moment."""
    after = ctx.w(ordinal[1])
    if after in ("one", "ones", "option", "choice", "listing", "house", "home", "property", "slot",
                 "time", "place", "address", "number", "name", "floor", "of", "to", "last", "thing"):
        return False
    before = ctx.w(k - 1)
    if before in ("a", "one", "just", "at", "my", "your", "our"):
        return False
    if ctx.expects("date"):
        return True
    if before != "the":
        return False
    # Small ordinals in words ("the third") are usually choices; "on the third" is a date.
    written_digits = ctx.toks[k].kind == "ordnum"
    after_preposition = ctx.w(k - 2) in ("on", "for", "by", "until", "till")
    return ordinal[0] >= 11 or (written_digits and ordinal[0] > 3) or after_preposition


def _relative_day(ctx: Utterance, k: int) -> _DateHit | None:
    w = ctx.w(k)
    today = ctx.today
    if w in ("today", "tonight"):
        return _DateHit(k, k + 1, today, False, 3)
    if w == "this" and ctx.w(k + 1) in DAY_PARTS:
        return _DateHit(k, k + 2, today, False, 3)
    if w == "tomorrow":
        if ctx.w(k - 1) == "after" and ctx.w(k - 2) == "day":
            d = _add_days(today, 2)
            return _DateHit(k - 2, k + 1, d, False, 3) if d else None
        d = _add_days(today, 1)
        return _DateHit(k, k + 1, d, False, 3) if d else None
    if w == "in" and ctx.w(k + 2) in ("days", "day"):
        run = run_starting_at(ctx, k + 1)
        if run and len(run) == 1:
            v = as_int(run[0].value)
            if v is not None and 0 < v <= 60:
                d = _add_days(today, v)
                return _DateHit(k, k + 3, d, False, 3) if d else None
    if w in WEEKDAYS or (w == "weekend" and ctx.w(k - 1) in ("this", "the", "next")):
        target = WEEKDAYS.get(w, 5)
        delta = (target - today.weekday()) % 7 or 7
        d = _add_days(today, delta)
        return _DateHit(k, k + 1, d, False, 2) if d else None
    return None


def date_spans(ctx: Utterance) -> list[tuple[int, int]]:
    """Token spans (start, end) that read as a date ("March 12 1984", "the 12th of March"),
    claiming nothing: a digit reader asks so that a date is never taken for an identifier
    ("March 12 1984" is not policy 121984)."""
    return [(h.i, h.j) for h in _date_hits(ctx)]


def extract_dates(ctx: Utterance) -> tuple[dt.date | None, dt.date | None]:
    """(appointment date, date of birth). A past date with a year is a birth date."""
    hits = _date_hits(ctx)
    appointment: list[_DateHit] = []
    birth: list[_DateHit] = []
    for h in hits:
        ctx.take(h.i, h.j)
        if h.has_year and h.value < ctx.today and h.value.year >= 1900:
            birth.append(h)
        elif h.has_year and h.value < ctx.today:
            continue
        else:
            appointment.append(h)
    appointment.sort(key=lambda h: (h.rank, h.i))
    return (appointment[0].value if appointment else None, birth[0].value if birth else None)

