"""Identifiers a caller dictates: email, policy number, card number, phone number.

They run first in ``extract`` because they are the longest digit strings of a call: once a
16-digit card (told apart from other long numbers by Luhn) or a 10-digit phone has claimed
its tokens, no later rule can read pieces of it as a budget, a time or a date.
"""

from __future__ import annotations

from collections.abc import Sequence

from tools.cards import CARD_MAX_DIGITS, CARD_MIN_DIGITS, luhn_ok
from worker.reading.context import Utterance, run_starting_at
from worker.reading.dates import date_spans
from worker.reading.numbers import Chunk, run_digits
from worker.reading.vocabulary import EMAIL_LOCAL_STOP, MONTHS, POLICY_PREFIX_WORDS


def extract_email(ctx: Utterance) -> str | None:
    """Typed emails, and dictated ones: "dana dot w at example dot com"."""
    for k, t in enumerate(ctx.toks):
        if t.kind == "email":
            ctx.take(k, k + 1)
            return t.text.strip(".")
    toks = ctx.toks
    for k, t in enumerate(toks):
        if t.text != "at" or k == 0 or k + 1 >= len(toks):
            continue
        # domain: label ((. | dot) label)+
        labels = [toks[k + 1].text]
        if toks[k + 1].kind not in ("word", "num"):
            continue
        m = k + 1
        while True:
            if m + 1 < len(toks) and ctx.gap(m, m + 1) in (".", "-") and toks[m + 1].kind in ("word", "num"):
                labels.append(ctx.gap(m, m + 1) + toks[m + 1].text)
                m += 1
            elif m + 2 < len(toks) and toks[m + 1].text == "dot" and toks[m + 2].kind in ("word", "num"):
                labels.append("." + toks[m + 2].text)
                m += 2
            else:
                break
        domain = "".join(labels)
        tld = domain.rsplit(".", 1)[-1] if "." in domain else ""
        if not (2 <= len(tld) <= 6 and tld.isalpha()):
            continue
        # local part, read backwards: word ((. | _ | - | dot | underscore | dash) word)*
        parts = [toks[k - 1].text]
        if toks[k - 1].kind not in ("word", "num") or toks[k - 1].text in EMAIL_LOCAL_STOP:
            continue
        s = k - 1
        joiners = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-"}
        while True:
            if s - 1 >= 0 and ctx.gap(s - 1, s) in (".", "_", "-") and toks[s - 1].kind in ("word", "num"):
                parts.insert(0, toks[s - 1].text + ctx.gap(s - 1, s))
                s -= 1
            elif s - 2 >= 0 and toks[s - 1].text in joiners and toks[s - 2].kind in ("word", "num"):
                parts.insert(0, toks[s - 2].text + joiners[toks[s - 1].text])
                s -= 2
            else:
                break
        ctx.take(s, m + 1)
        return "".join(parts) + "@" + domain
    return None


def extract_policy(ctx: Utterance) -> str | None:
    """"policy number P O L 4821", "pol-4821", "polly 4821", "policy 4821" → "POL-4821"."""
    toks = ctx.toks
    n = len(toks)
    for k in range(n):
        if ctx.used[k]:
            continue
        m = k
        keyword = False
        if toks[m].text == "policy":
            keyword = True
            m += 1
            while m < n and toks[m].text in ("number", "no", "num", "is", "it's", "id"):
                m += 1
        prefix_end = _pol_prefix(ctx, m)
        if prefix_end is not None:
            m = prefix_end
            while m < n and toks[m].text in ("number", "no", "num", "is", "dash", "hyphen"):
                m += 1
        elif not keyword:
            continue
        if m >= n or m == k:
            continue
        run = run_starting_at(ctx, m, extra_skip=range(k, m))
        if not run:
            continue
        digits = run_digits(run)
        if 4 <= len(digits) <= 8:
            ctx.take(k, run[-1].j)
            return f"POL-{digits}"
    if ctx.expects("policy_number", "policy"):
        # a bare answer shaped like a date ("March 12 1984", "12 March 1984") is a date, not
        # the policy number: skip runs inside a date, and a day or a year next to a month
        dated = date_spans(ctx)
        runs = [run for run in ctx.runs()
                if not any(i < run[-1].j and run[0].i < j for i, j in dated) and not _by_a_month(ctx, run)]
        for run in runs:
            digits = run_digits(run)
            if 4 <= len(digits) <= 8:
                ctx.take(run[0].i, run[-1].j)
                return f"POL-{digits}"
        # said one digit per phrase when asked to ("Four. Eight. Two. One."): one digit a run
        singles = [run for run in runs if len(run_digits(run)) == 1]
        if 4 <= len(singles) <= 8 and len(singles) == len(runs):
            ctx.take(runs[0][0].i, runs[-1][-1].j)
            return "POL-" + "".join(run_digits(run) for run in singles)
    return None


def _by_a_month(ctx: Utterance, run: Sequence[Chunk]) -> bool:
    """A day ("12") or a year ("1984") said next to a month's name ("12 March 1984")."""
    digits = run_digits(run)
    day_or_year = len(digits) <= 2 or (len(digits) == 4 and digits[:2] in ("19", "20"))
    return day_or_year and (ctx.w(run[0].i - 1) in MONTHS or ctx.w(run[-1].j) in MONTHS)


def _pol_prefix(ctx: Utterance, m: int) -> int | None:
    """Index after a spoken "POL" prefix at m ("pol", "polly", "p o l"), else None."""
    w = ctx.w
    if w(m) in POLICY_PREFIX_WORDS:
        return m + 1
    if w(m) == "p" and w(m + 1) in ("o", "oh") and w(m + 2) == "l":
        return m + 3
    if w(m) == "p" and w(m + 1) == "ol":
        return m + 2
    if w(m) == "po" and w(m + 1) == "l":
        return m + 2
    return None

def extract_card(ctx: Utterance) -> str | None:
    """13–19 digits that pass Luhn; Luhn is what tells a card from any other long number."""
    runs = ctx.runs()
    for run in runs:
        digits = run_digits(run)
        if CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS and luhn_ok(digits):
            ctx.take(run[0].i, run[-1].j)
            return digits
    if ctx.expects("card_number", "card") and runs:
        digits = "".join(run_digits(r) for r in runs)
        if CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS and luhn_ok(digits):
            ctx.take(runs[0][0].i, runs[-1][-1].j)
            return digits
    return None


def _phone_digits(run: Sequence[Chunk]) -> str | None:
    digits = run_digits(run)
    if len(digits) == 11 and (digits[0] == "1" or (digits[0] == "0" and run[0].zero_word)):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def extract_phone(ctx: Utterance) -> str | None:
    """Ten US digits from one run of numbers (a leading 1 allowed)."""
    runs = ctx.runs()
    for run in runs:
        digits = _phone_digits(run)
        if digits:
            ctx.take(run[0].i, run[-1].j)
            return digits
    if ctx.expects("phone") and runs:
        # Asked for a phone, the caller may break it with words: "415, then 555 0123".
        digits = "".join(run_digits(r) for r in runs)
        if len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        if len(digits) == 10:
            ctx.take(runs[0][0].i, runs[-1][-1].j)
            return digits
    return None

