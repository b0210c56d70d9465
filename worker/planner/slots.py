"""Rule-based slot extraction for the deterministic planner.

The text comes from Whisper tiny.en listening to synthesized speech, so one value arrives in
many spellings: "415-555-0123", "four one five, five five five, oh one two three", "four
fifteen ...", "$450,000", "450 thousand", "450k", "Alamida" for Alameda. The rules below
normalise those into typed values a tool can take.

Why rules and not a model: the planner must give the same reply to the same words (tests,
replays, traces), must run offline in milliseconds, and its mistakes must be explainable
from the text alone. Everything here is a pure function of its arguments: no I/O and no
clock; "today" is passed in so "tomorrow" and "Saturday" resolve deterministically.

How it works, in one paragraph: the text is normalised (NFKC, lower case, "p.m." → "pm") and
cut into tokens (words, digit groups, "2:30", "11/28", "28th", emails, "$"). Digits and
number words are grouped into *chunks* with the usual English number grammar ("four hundred
fifty thousand" is one chunk, "four one five" is three); adjacent chunks form a *run* that
a slot reads as a phone number, a year ("nineteen eighty five"), an amount ("twelve eighty
four") and so on. Slots are extracted in a fixed order and each marks the tokens it used,
so a phone number never also becomes a budget and "November 28th" never becomes a time.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from difflib import SequenceMatcher

from pydantic import BaseModel, ConfigDict

from tools.cards import CARD_MAX_DIGITS, CARD_MIN_DIGITS, luhn_ok

__all__ = [
    "DEFAULT_AREAS",
    "Slots",
    "digits_from_speech",
    "extract",
    "luhn_ok",
    "parse_spoken_number",
]

DEFAULT_AREAS: tuple[str, ...] = ("Oakland", "Berkeley", "Alameda", "San Jose", "Palo Alto", "Fremont")


class Slots(BaseModel):
    """What one caller utterance said, slot by slot; ``None`` means "not said".

    Crosses into the planner and into traces, hence pydantic. ``wants_human`` and
    ``goodbye`` are plain booleans because "not said" and "no" mean the same there.
    ``ordinal_choice`` is a 1-based position ("the first one" → 1, "option 3" → 3) and
    counts from the end when negative ("the last one" → -1, "second to last" → -2).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    budget: int | None = None
    area: str | None = None
    bedrooms: int | None = None
    date: dt.date | None = None
    time: dt.time | None = None
    ordinal_choice: int | None = None
    address: str | None = None
    amount_cents: int | None = None
    policy_number: str | None = None
    date_of_birth: dt.date | None = None
    card_number: str | None = None
    affirmation: bool | None = None
    wants_human: bool = False
    goodbye: bool = False


# ====================================================================== vocabulary

_UNITS: dict[str, int] = {
    "zero": 0, "oh": 0, "o": 0, "one": 1, "two": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
}
_ZERO_WORDS = frozenset({"zero", "oh", "o"})
_TEENS: dict[str, int] = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS: dict[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES: dict[str, int] = {
    "thousand": 1_000, "k": 1_000, "grand": 1_000,
    "million": 1_000_000, "mil": 1_000_000, "m": 1_000_000, "mm": 1_000_000,
    "billion": 1_000_000_000,
}
_ORDINAL_WORDS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
_NUMBER_WORDS = frozenset(_UNITS) | frozenset(_TEENS) | frozenset(_TENS) | {"hundred"} | frozenset(_SCALES)

_MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
_WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
_BED_WORDS = frozenset({"bedroom", "bedrooms", "bed", "beds", "br", "bd", "bdr", "bdrm", "bedrm"})
_STREET_SUFFIXES = frozenset({
    "street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "drive", "dr",
    "lane", "ln", "way", "court", "ct", "place", "pl", "terrace", "circle", "cir", "parkway",
    "pkwy", "highway", "hwy", "square", "trail", "plaza", "alley",
})
_POLICY_PREFIX_WORDS = frozenset({"pol", "polly", "poly", "paul", "pole", "poll", "pall"})
_MONEY_AFTER = frozenset({"dollars", "dollar", "bucks", "usd"})
_BUDGET_CUES = frozenset({
    "budget", "budget's", "budgeted", "up", "under", "below", "max", "maximum", "around", "about",
    "approximately", "roughly", "less", "afford", "spend", "spending", "price", "priced",
    "range", "between", "ceiling", "top", "cap", "limit", "most", "within",
})
_TIME_CUES = frozenset({"at", "around", "by", "till", "until", "before", "after", "between", "say"})
# Words that may follow a bare "at two" and still leave it a time ("at two on Saturday"),
# as opposed to "look at two houses".
_TIME_FOLLOWERS = frozenset({
    "on", "tomorrow", "today", "tonight", "then", "please", "works", "work", "would", "that",
    "this", "next", "in", "and", "or", "for", "ish", "sharp", "if", "is", "so", "thanks", "thank",
    "okay", "ok", "sounds", "should", "maybe", "yes", "yeah", "i", "we", "could", "fine", "good",
    "great", "perfect", "to", "the", "pm", "am", "o'clock", "exactly", "right",
}) | frozenset(_WEEKDAYS) | frozenset(_MONTHS)
_AM_PART = re.compile(r"(?<!good )\bmorning\b")
_PM_PART = re.compile(r"(?<!good )\b(?:afternoon|evening|night)\b|\btonight\b")
_CHOICE_WORDS = frozenset({"number", "option", "choice", "listing"})
_NOT_LAST = frozenset({"name", "week", "year", "month", "time", "night", "call", "visit", "four", "digits", "minute"})
_NOT_CHOICE_BEFORE = frozenset({"a", "one", "just", "at", "my", "your"})  # "wait a second", "at first"
_NOT_CHOICE_OWNERS = frozenset({
    "my", "phone", "policy", "card", "your", "account", "confirmation", "case", "house", "street", "our",
})
_NAME_CUES: tuple[tuple[str, ...], ...] = (
    ("my", "name", "is"), ("my", "name's"), ("the", "name", "is"), ("the", "name's"),
    ("name", "is"), ("name's",), ("call", "me"), ("this", "is"), ("it", "is"), ("it's",),
    ("i", "am"), ("i'm",), ("here", "is"),
)
_STRONG_NAME_CUES = frozenset({("my", "name", "is"), ("my", "name's"), ("the", "name", "is"),
                               ("the", "name's"), ("name", "is"), ("name's",), ("call", "me")})
_EMAIL_LOCAL_STOP = frozenset({
    "me", "is", "it's", "email", "mail", "address", "us", "him", "her", "them", "look", "looking",
    "here", "there", "be", "am", "are", "was", "were", "live", "living", "work", "works", "working",
    "and", "or", "the", "a", "an", "that", "this", "i'm", "we're", "it", "reach", "home", "stay",
})
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mister", "dr", "doctor"})
# Words that follow "I'm" / "it's" / "this is" but are not names. Common first names that
# are also words (Will, May, Grace, Mark, Hope) are deliberately absent.
_NAME_STOP = frozenset("""
a an the and or but so to of in on at for from with about by as is am are was were be been being
it its it's i i'm i'd i'll i've me my mine myself you you're your yours we we're our ours they them
their he she him her his hers this that that's these those there there's here here's what which who
whom whose when where why how not no nope nah yes yeah yep yup ya sure ok okay alright right correct
incorrect wrong fine good great well very really just also still only even too quite pretty calling
looking interested trying wondering hoping thinking going planning wanting ready back sorry glad
happy excited new done finished all any some none nothing something anything everything one ones
hi hello hey thanks thank please bye goodbye um uh uhm er erm hmm mm mhm oh ah like actually
basically currently probably maybe perhaps definitely absolutely certainly never always regarding
gonna wanna gotta got get have has had do does did can could would should shall might must
need want call calls phone number email mail name budget area house home place policy card address
street bedroom bedrooms bed today tomorrow tonight morning afternoon evening night week weekend
month year time available free busy open late early cool nice awesome perfect true false same
different possible curious confused unsure certain positive kidding serious able unable allowed
pleased reaching ringing following checking asking inquiring enquiring responding returning getting
doing having making taking moving selling buying renting renewing paying needing speaking talking
real actual last next other another over out up down off into onto through after before since
until while because if then than whether either neither both each every much many more most less
least few lot lots bit kind sort type way thing things stuff someone somebody anyone anybody
everyone everybody nobody person people agent human operator representative customer caller
interested afraid allergic available calling correct currently trying about again already
wait hold hang stop cancel confirm yes no maybe cheers bye later soon now then ever still dollar
dollars thousand million hundred k am pm noon midnight o'clock your's mine not don't doesn't isn't
can't won't wouldn't couldn't shouldn't didn't i'd we'd you'd they're it'll that'll what's who's
honestly seriously exactly totally super quite rather fairly almost nearly about approximately
looking calling interested home renewal payment insurance quote tour listing pre self non
approved preapproved retired married single divorced relocating local expensive cheap lovely
beautiful cold hot warm raining
""".split())
_FILLERS = frozenset("""
yes yeah yep yup sure ok okay alright right um uh uhm er erm hmm mm mhm oh ah hi hello hey well so
sorry it is it's that's my name name's the of course absolutely and
""".split())
# What may precede a weak cue ("Hi, thanks for calling, this is Dana"): weak cues ("it's",
# "I'm", "this is") only introduce a name at the start of a turn, so "the house, it's
# expensive" never renames the caller.
_LEADERS = _FILLERS | frozenset("""
hi hello hey there good morning afternoon evening yes thanks thank you for calling oh yeah
""".split())
_TRAILERS = frozenset({"thanks", "thank", "you", "please", "here", "speaking", "calling"})

# ====================================================================== tokens

_TOKEN_RE = re.compile(
    r"(?P<email>[a-z0-9][a-z0-9._%+\-]*@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,})"
    r"|(?P<clock>(?<!\d)\d{1,2}:\d{2})(?!\d)"
    r"|(?P<slash>(?<!\d)\d{1,2}/\d{1,2}(?:/\d{2,4})?)(?![\d/])"
    r"|(?P<ordnum>\d+(?:st|nd|rd|th))(?![a-z])"
    r"|(?P<num>\d+(?:[.,]\d+)*)"
    r"|(?P<word>[a-z]+(?:'[a-z]+)*)"
    r"|(?P<dollar>\$)"
)
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_DECIMAL = re.compile(r"\d+\.\d+")
_SOFT_GAP = re.compile(r"[\s,\-\u2013\u2014()/+#:.]*")
_MAX_NUM_DIGITS = 24  # longer digit strings are kept as digits, never as quantities


@dataclass(frozen=True)
class _Tok:
    """One token of the normalised text; numbers carry their digits and value."""

    text: str
    kind: str  # email | clock | slash | ordnum | num | word | dollar
    start: int
    end: int
    value: Decimal | None = None  # num tokens only; None when too long to be a quantity
    digits: str = ""  # num tokens only: the digits as written, leading zeros kept
    decimal: bool = False
    grouped: bool = False  # "450,000"


def _normalise(text: str) -> str:
    """Fold the recogniser's spelling noise that never carries meaning."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u02bc", "'").replace("`", "'")
    text = text.lower()
    text = re.sub(r"(?<![a-z])([ap])\s?\.\s?m\b\.?", r"\1m", text)  # "p.m." / "p. m." → "pm"
    text = re.sub(r"\bo\s+clock\b|\boclock\b", "o'clock", text)
    text = re.sub(r"\b(mm|uh)[\s-]+(hmm|huh)\b", "uh-huh", text)
    return text


def _tokenise(text: str) -> list[_Tok]:
    """Cut normalised text into tokens; multi-dot digit groups ("415.555.0123") are split."""
    toks: list[_Tok] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup or "word"
        raw = m.group(0)
        if kind != "num":
            toks.append(_Tok(raw, kind, m.start(), m.end()))
            continue
        if _GROUPED.fullmatch(raw) or _DECIMAL.fullmatch(raw) or raw.isdigit():
            toks.append(_num_tok(raw, m.start()))
            continue
        for part in re.finditer(r"\d+", raw):
            toks.append(_num_tok(part.group(0), m.start() + part.start()))
    return _merge_points(toks)


def _num_tok(raw: str, start: int) -> _Tok:
    digits = re.sub(r"\D", "", raw)
    grouped = "," in raw
    decimal = "." in raw
    value: Decimal | None = None
    if len(digits) <= _MAX_NUM_DIGITS:
        try:
            value = Decimal(raw.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex admits only digits, "," and "."
            value = None
    return _Tok(raw, "num", start, start + len(raw), value, digits, decimal, grouped)


def _merge_points(toks: list[_Tok]) -> list[_Tok]:
    """"one point two (million)" → a decimal token, so scales apply to it like to "1.2"."""
    out: list[_Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if (
            i + 2 < len(toks)
            and toks[i + 1].text == "point"
            and _digit_of(t) is not None
            and _digit_of(toks[i + 2]) is not None
        ):
            whole = _digit_of(t)
            frac = ""
            k = i + 2
            while k < len(toks) and _digit_of(toks[k]) is not None and len(frac) < 6:
                frac += str(_digit_of(toks[k]))
                k += 1
            raw = f"{whole}.{frac}"
            out.append(_Tok(raw, "num", t.start, toks[k - 1].end, Decimal(raw), str(whole) + frac, True))
            i = k
            continue
        out.append(t)
        i += 1
    return out


def _digit_of(t: _Tok) -> int | None:
    """The single digit a token stands for ("seven", "7"), else None."""
    if t.kind == "word" and t.text in _UNITS and t.text not in ("o", "oh"):
        return _UNITS[t.text]
    if t.kind == "num" and not t.decimal and not t.grouped and len(t.digits) == 1:
        return int(t.digits)
    return None


def _repeatable(t: _Tok) -> int | None:
    """The digit after "double"/"triple", where "oh" is a zero ("double oh seven")."""
    return 0 if t.kind == "word" and t.text in ("oh", "o") else _digit_of(t)


# ====================================================================== number chunks


@dataclass
class _Chunk:
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
    single_num: _Tok | None = None


def _next_tok(text: str, toks: Sequence[_Tok], skip: Sequence[bool], k: int) -> _Tok | None:
    if k + 1 < len(toks) and not skip[k + 1] and _adjacent(text, toks, k, k + 1):
        return toks[k + 1]
    return None


def _adjacent(text: str, toks: Sequence[_Tok], a: int, b: int) -> bool:
    """Tokens a and b belong to one spoken number unless words or sentence punctuation part them."""
    return _soft_gap(text[toks[a].end:toks[b].start])


def _soft_gap(gap: str) -> bool:
    """Separators that do not end a number: spaces, commas, dashes, "(415)"; not ". " or "?"."""
    return bool(_SOFT_GAP.fullmatch(gap)) and not re.search(r"\.\s", gap)


def _feed(b: _Builder, text: str, toks: Sequence[_Tok], skip: Sequence[bool], k: int) -> bool:
    """Try to extend the chunk in ``b`` with token k; False means "ends before k"."""
    t = toks[k]
    nxt = _next_tok(text, toks, skip, k)
    if t.kind == "num":
        if b.stage == "repeat":
            d = _repeatable(t)
            if d is None:
                return False
            b.digits = str(d) * b.repeat
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
        if b.stage == "empty" and b.total == 0 and b.cur == 0 and nxt is not None and _repeatable(nxt) is not None:
            b.repeat = 2 if w == "double" else 3
            b.stage = "repeat"
            b.ntok += 1
            return True
        return False
    if b.stage == "repeat":
        d = _repeatable(t)
        if d is None:
            return False
        b.digits = str(d) * b.repeat
        b.cur = Decimal(b.digits)
        b.stage = "digits"
        return True
    if w in _UNITS:
        v = _UNITS[w]
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
    if w in _TEENS or w in _TENS:
        if b.stage in ("empty", "hundred"):
            b.cur += _TEENS.get(w) or _TENS[w]
            b.stage = "teen" if w in _TEENS else "tens"
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
    if w in _SCALES:
        s = _SCALES[w]
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
            (nxt.text in _UNITS and _UNITS[nxt.text] > 0) or nxt.text in _TEENS or nxt.text in _TENS
        ):
            return True
        return False
    return False


def _can_start(text: str, toks: Sequence[_Tok], skip: Sequence[bool], k: int) -> bool:
    t = toks[k]
    if t.kind == "num":
        return True
    if t.kind != "word":
        return False
    w = t.text
    if w in _ZERO_WORDS and w != "zero":
        # "oh" is an interjection unless it sits among digits ("five oh one", "oh one two").
        prev_ok = k > 0 and not skip[k - 1] and _is_numberish(toks[k - 1]) and _adjacent(text, toks, k - 1, k)
        nxt = toks[k + 1] if k + 1 < len(toks) and not skip[k + 1] else None
        next_ok = nxt is not None and _is_numberish(nxt) and text[t.end:nxt.start] in ("", " ")
        return prev_ok or next_ok
    if w in _UNITS or w in _TEENS or w in _TENS:
        return True
    if w in ("a", "an", "double", "triple"):
        return True  # _feed checks what follows
    return False


def _is_numberish(t: _Tok) -> bool:
    return t.kind == "num" or (t.kind == "word" and (t.text in _UNITS or t.text in _TEENS or t.text in _TENS))


def _chunks(text: str, toks: Sequence[_Tok], skip: Sequence[bool]) -> list[_Chunk]:
    """Group number tokens into chunks; tokens marked in ``skip`` end a chunk."""
    out: list[_Chunk] = []
    n = len(toks)
    i = 0
    while i < n:
        if skip[i] or not _can_start(text, toks, skip, i):
            i += 1
            continue
        b = _Builder()
        k = i
        while k < n and not skip[k]:
            if k > i and not _adjacent(text, toks, k - 1, k):
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


def _finish(b: _Builder, text: str, toks: Sequence[_Tok], i: int, j: int, prev: list[_Chunk]) -> _Chunk:
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
        or (j - i == 1 and toks[i].kind == "word" and toks[i].text in _UNITS)
    )
    joined = bool(prev) and prev[-1].j == i and _adjacent(text, toks, i - 1, i)
    return _Chunk(i, j, value, digits, b.words, digitlike, b.zero_word, b.scaled, b.has_hundred, b.decimal, joined)


def _runs(chunks: Sequence[_Chunk]) -> list[list[_Chunk]]:
    """Adjacent chunks ("four fifteen", "415 555 0123") form one run."""
    runs: list[list[_Chunk]] = []
    for c in chunks:
        if runs and c.joined:
            runs[-1].append(c)
        else:
            runs.append([c])
    return runs


def _combine(run: Sequence[_Chunk]) -> Decimal | None:
    """One number from a run: "12 84" and "twelve eighty four" → 1284, "four one five" → 415."""
    if not run:
        return None
    if len(run) == 1:
        return run[0].value
    if all(c.digitlike for c in run):
        digits = "".join(c.digits for c in run)
        return Decimal(digits) if 0 < len(digits) <= _MAX_NUM_DIGITS else None
    a, b = run[0], run[1]
    if len(run) == 2 and a.small_word and b.small_word and b.value is not None and b.value >= 10:
        assert a.value is not None
        return a.value * 100 + b.value
    c = run[-1]
    if len(run) == 3 and a.small_word and b.zero_word and c.words and c.value is not None and 0 < c.value < 10:
        assert a.value is not None
        return a.value * 100 + c.value  # "twelve oh five"
    return None


def _as_int(v: Decimal | None, limit: int = 10**15) -> int | None:
    if v is None or v != v.to_integral_value() or not (0 <= v < limit):
        return None
    return int(v)


def _run_digits(run: Iterable[_Chunk]) -> str:
    return "".join(c.digits for c in run)


# ====================================================================== context


@dataclass
class _Ctx:
    """The utterance being read plus which tokens earlier slots already claimed."""

    text: str
    toks: list[_Tok]
    today: dt.date
    expecting: str | None
    used: list[bool] = field(default_factory=list)
    _chunk_cache: tuple[tuple[bool, ...], list[_Chunk]] | None = None

    def __post_init__(self) -> None:
        self.used = [False] * len(self.toks)

    def w(self, k: int) -> str:
        """The word at k, or "" outside the text (keeps look-arounds simple)."""
        return self.toks[k].text if 0 <= k < len(self.toks) else ""

    def free_word(self, k: int) -> str:
        return self.w(k) if 0 <= k < len(self.toks) and not self.used[k] else ""

    def take(self, i: int, j: int) -> None:
        for k in range(max(i, 0), min(j, len(self.toks))):
            self.used[k] = True

    def gap(self, a: int, b: int) -> str:
        """Text between token a and token b (a < b)."""
        if not (0 <= a < len(self.toks) and 0 <= b < len(self.toks)):
            return ""
        return self.text[self.toks[a].end:self.toks[b].start]

    def hard_break_after(self, k: int) -> bool:
        """Sentence punctuation or the end of the text right after token k."""
        if k + 1 >= len(self.toks):
            return True
        return bool(re.search(r"[.?!;,]", self.gap(k, k + 1)))

    def chunks(self, extra_skip: Iterable[int] = ()) -> list[_Chunk]:
        """Number chunks among the unclaimed tokens (memoised: extractors ask often)."""
        skip = list(self.used)
        for k in extra_skip:
            skip[k] = True
        key = tuple(skip)
        if self._chunk_cache is None or self._chunk_cache[0] != key:
            self._chunk_cache = (key, _chunks(self.text, self.toks, skip))
        return self._chunk_cache[1]

    def runs(self) -> list[list[_Chunk]]:
        return _runs(self.chunks())

    def expects(self, *names: str) -> bool:
        return self.expecting in names


def _make_ctx(text: str, today: dt.date, expecting: str | None) -> _Ctx:
    norm = _normalise(text if isinstance(text, str) else "")
    toks = _tokenise(norm)
    return _Ctx(norm, toks, today, (expecting or None))


# ====================================================================== public helpers


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
    norm = _normalise(text)
    toks = [t for t in _tokenise(norm) if not (t.kind == "dollar" or t.text in _MONEY_AFTER)]
    if not toks:
        return None
    skip = [False] * len(toks)
    chunks = _chunks(norm, toks, skip)
    covered = [False] * len(toks)
    for c in chunks:
        for k in range(c.i, c.j):
            covered[k] = True
    if not all(covered[k] or toks[k].text == "and" for k in range(len(toks))):
        return None
    runs = _runs(chunks)
    if len(runs) != 1:
        return None
    return _as_int(_combine(runs[0]), limit=10**18)


def digits_from_speech(text: str) -> str:
    """All digits said in the text, in order: "four one five, 555-oh one two three" → "4155550123".

    Handles digit words, "oh"/"o" for zero among digits, "double five", and grouped numbers
    ("four fifteen" → "415", "eight hundred" → "800"). Other words are ignored, so callers
    check the length they need themselves.
    """
    if not isinstance(text, str):
        return ""
    ctx = _make_ctx(text, dt.date(2000, 1, 1), None)
    return "".join(c.digits for c in ctx.chunks())


# ====================================================================== slot extractors


def _extract_email(ctx: _Ctx) -> str | None:
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
        if toks[k - 1].kind not in ("word", "num") or toks[k - 1].text in _EMAIL_LOCAL_STOP:
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


def _extract_policy(ctx: _Ctx) -> str | None:
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
        run = _run_starting_at(ctx, m, extra_skip=range(k, m))
        if not run:
            continue
        digits = _run_digits(run)
        if 4 <= len(digits) <= 8:
            ctx.take(k, run[-1].j)
            return f"POL-{digits}"
    if ctx.expects("policy_number", "policy"):
        for run in ctx.runs():
            digits = _run_digits(run)
            if 4 <= len(digits) <= 8:
                ctx.take(run[0].i, run[-1].j)
                return f"POL-{digits}"
    return None


def _pol_prefix(ctx: _Ctx, m: int) -> int | None:
    """Index after a spoken "POL" prefix at m ("pol", "polly", "p o l"), else None."""
    w = ctx.w
    if w(m) in _POLICY_PREFIX_WORDS:
        return m + 1
    if w(m) == "p" and w(m + 1) in ("o", "oh") and w(m + 2) == "l":
        return m + 3
    if w(m) == "p" and w(m + 1) == "ol":
        return m + 2
    if w(m) == "po" and w(m + 1) == "l":
        return m + 2
    return None


def _run_starting_at(ctx: _Ctx, m: int, extra_skip: Iterable[int] = ()) -> list[_Chunk] | None:
    """The rest of the run of numbers whose chunk starts at token m ("1985" in "3, 1985")."""
    for run in _runs(ctx.chunks(extra_skip)):
        for idx, c in enumerate(run):
            if c.i == m:
                return run[idx:]
    return None


def _extract_card(ctx: _Ctx) -> str | None:
    """13–19 digits that pass Luhn; Luhn is what tells a card from any other long number."""
    runs = ctx.runs()
    for run in runs:
        digits = _run_digits(run)
        if CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS and luhn_ok(digits):
            ctx.take(run[0].i, run[-1].j)
            return digits
    if ctx.expects("card_number", "card") and runs:
        digits = "".join(_run_digits(r) for r in runs)
        if CARD_MIN_DIGITS <= len(digits) <= CARD_MAX_DIGITS and luhn_ok(digits):
            ctx.take(runs[0][0].i, runs[-1][-1].j)
            return digits
    return None


def _phone_digits(run: Sequence[_Chunk]) -> str | None:
    digits = _run_digits(run)
    if len(digits) == 11 and (digits[0] == "1" or (digits[0] == "0" and run[0].zero_word)):
        digits = digits[1:]
    return digits if len(digits) == 10 else None


def _extract_phone(ctx: _Ctx) -> str | None:
    """Ten US digits from one run of numbers (a leading 1 allowed)."""
    runs = ctx.runs()
    for run in runs:
        digits = _phone_digits(run)
        if digits:
            ctx.take(run[0].i, run[-1].j)
            return digits
    if ctx.expects("phone") and runs:
        # Asked for a phone, the caller may break it with words: "415, then 555 0123".
        digits = "".join(_run_digits(r) for r in runs)
        if len(digits) == 11 and digits[0] == "1":
            digits = digits[1:]
        if len(digits) == 10:
            ctx.take(runs[0][0].i, runs[-1][-1].j)
            return digits
    return None


# ---------------------------------------------------------------------- dates


@dataclass(frozen=True)
class _DateHit:
    i: int
    j: int
    value: dt.date
    has_year: bool
    rank: int  # lower is more specific


def _ordinal_at(ctx: _Ctx, k: int) -> tuple[int, int] | None:
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
    if t.text in _TENS and k + 1 < len(ctx.toks) and not ctx.used[k + 1]:
        nxt = ctx.toks[k + 1].text
        if nxt in _ORDINAL_WORDS and _ORDINAL_WORDS[nxt] < 10:
            return _TENS[t.text] + _ORDINAL_WORDS[nxt], k + 2
    if t.text in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[t.text], k + 1
    return None


def _day_at(ctx: _Ctx, k: int) -> tuple[int, int] | None:
    """A day of the month at k, as an ordinal or a plain number 1–31."""
    hit = _ordinal_at(ctx, k)
    if hit is not None:
        return hit if 1 <= hit[0] <= 31 else None
    for c in ctx.chunks():
        if c.i == k:
            v = _as_int(c.value)
            if v is not None and 1 <= v <= 31 and not c.decimal and not c.scaled:
                return v, c.j
            return None
    return None


def _year_at(ctx: _Ctx, k: int) -> tuple[int, int] | None:
    """A year 1900–2100 starting at k: "1985", "nineteen eighty five", "two thousand three"."""
    if k < len(ctx.toks) and ctx.w(k) == "of":
        k += 1  # "March of 1985" is rare but harmless
    run = _run_starting_at(ctx, k)
    if not run:
        return None
    # Prefer the longest prefix of the run that reads as a year.
    for size in range(min(len(run), 3), 0, -1):
        v = _as_int(_combine(run[:size]))
        if v is not None and 1900 <= v <= 2100:
            return v, run[size - 1].j
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


def _date_hits(ctx: _Ctx) -> list[_DateHit]:
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
        # 3-3-1985, 1985-03-03
        if t.kind == "num" and k + 2 < n and all(
            toks[x].kind == "num" and not toks[x].decimal and not toks[x].grouped for x in (k + 1, k + 2)
        ) and ctx.gap(k, k + 1) == "-" and ctx.gap(k + 1, k + 2) == "-" and not t.decimal:
            a, b, c = (int(toks[x].digits[-4:] or "0") for x in (k, k + 1, k + 2))
            if len(toks[k].digits) == 4 and 1900 <= a <= 2100 and 1 <= b <= 12:
                add(k, k + 3, b, c, a)
                k += 3
                continue
            if len(toks[k + 2].digits) in (2, 4) and 1 <= a <= 12 and 1 <= b <= 31:
                add(k, k + 3, a, b, _full_year(c, today))
                k += 3
                continue
        # March 3rd (,) 1985 / March the third / November 28
        if w in _MONTHS:
            d0 = k + 1
            if ctx.w(d0) == "the":
                d0 += 1
            day = _day_at(ctx, d0)
            if day is not None:
                yr = _year_at(ctx, day[1])
                end = yr[1] if yr else day[1]
                add(k, end, _MONTHS[w], day[0], yr[0] if yr else None)
                k = end
                continue
        # (the) third of March (,) 1985 / 28th November
        ordinal = _ordinal_at(ctx, k)
        plain = None if ordinal else _day_at(ctx, k) if ctx.w(k - 1) == "the" else None
        hit = ordinal or plain
        if hit is not None and 1 <= hit[0] <= 31:
            m = hit[1]
            if ctx.w(m) == "of":
                m += 1
            if ctx.w(m) in _MONTHS and not ctx.used[m]:
                yr = _year_at(ctx, m + 1)
                end = yr[1] if yr else m + 1
                start = k - 1 if ctx.w(k - 1) == "the" else k
                add(start, end, _MONTHS[ctx.w(m)], hit[0], yr[0] if yr else None)
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


def _bare_ordinal_is_date(ctx: _Ctx, k: int, ordinal: tuple[int, int]) -> bool:
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


def _relative_day(ctx: _Ctx, k: int) -> _DateHit | None:
    w = ctx.w(k)
    today = ctx.today
    if w in ("today", "tonight"):
        return _DateHit(k, k + 1, today, False, 3)
    if w == "this" and ctx.w(k + 1) in ("morning", "afternoon", "evening"):
        return _DateHit(k, k + 2, today, False, 3)
    if w == "tomorrow":
        if ctx.w(k - 1) == "after" and ctx.w(k - 2) == "day":
            d = _add_days(today, 2)
            return _DateHit(k - 2, k + 1, d, False, 3) if d else None
        d = _add_days(today, 1)
        return _DateHit(k, k + 1, d, False, 3) if d else None
    if w == "in" and ctx.w(k + 2) in ("days", "day"):
        run = _run_starting_at(ctx, k + 1)
        if run and len(run) == 1:
            v = _as_int(run[0].value)
            if v is not None and 0 < v <= 60:
                d = _add_days(today, v)
                return _DateHit(k, k + 3, d, False, 3) if d else None
    if w in _WEEKDAYS or (w == "weekend" and ctx.w(k - 1) in ("this", "the", "next")):
        target = _WEEKDAYS.get(w, 5)
        delta = (target - today.weekday()) % 7 or 7
        d = _add_days(today, delta)
        return _DateHit(k, k + 1, d, False, 2) if d else None
    return None


def _birth_cue(ctx: _Ctx) -> bool:
    return ctx.expects("date_of_birth", "dob") or bool(
        re.search(r"\b(born|birth|birthday|dob|d o b|birthdate)\b", ctx.text)
    )


def _extract_dates(ctx: _Ctx) -> tuple[dt.date | None, dt.date | None]:
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


# ---------------------------------------------------------------------- addresses


def _extract_address(ctx: _Ctx) -> str | None:
    """"1234 Maple Street", "12 Oak Ave", "twelve thirty four maple street"."""
    toks = ctx.toks
    for run in ctx.runs():
        number = _as_int(_combine(run))
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
            if t.kind == "word" and t.text in _STREET_SUFFIXES and words:
                suffix = t.text
                break
            if t.kind == "ordnum" or (t.kind == "word" and t.text.isalpha() and t.text not in _NAME_STOP
                                      and t.text not in _BED_WORDS and t.text not in _NUMBER_WORDS):
                words.append(t.text)
                if ctx.hard_break_after(k) and not ctx.expects("address"):
                    break
                k += 1
                continue
            break
        if suffix is not None:
            ctx.take(run[0].i, k + 1)
            return " ".join([str(number), *(_title(x) for x in words), _title(suffix)])
        if ctx.expects("address") and 1 <= len(words) <= 3:
            ctx.take(run[0].i, m + len(words))
            return " ".join([str(number), *(_title(x) for x in words)])
    return None


# ---------------------------------------------------------------------- bedrooms


def _room_count(c: _Chunk) -> int | None:
    v = _as_int(c.value)
    return v if v is not None and 0 < v <= 20 and not c.scaled and not c.decimal else None


def _extract_bedrooms(ctx: _Ctx) -> int | None:
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
        if t.text not in _BED_WORDS:
            continue
        for idx, c in enumerate(chunks):
            if c.j != k or not _adjacent(ctx.text, toks, k - 1, k) or (v := _room_count(c)) is None:
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


# ---------------------------------------------------------------------- times


def _meridiem(ctx: _Ctx, after: int) -> str | None:
    """"am"/"pm" right after the number, else a part of day said anywhere in the text."""
    if ctx.w(after) in ("am", "pm"):
        return ctx.w(after)
    if ctx.w(after) == "a" and ctx.w(after + 1) == "m":
        return "am"
    if ctx.w(after) == "p" and ctx.w(after + 1) == "m":
        return "pm"
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


def _hour_minute(run: Sequence[_Chunk], with_meridiem: bool) -> tuple[int, int, int] | None:
    """(hour, minute, chunks used) from "2", "two thirty", "2 30", "two oh five", "2.30"."""
    first = run[0]
    if first.scaled or first.hundred and not with_meridiem:
        return None
    if first.decimal and first.value is not None:
        whole, _, frac = str(first.value).partition(".")
        if len(frac) == 2 and whole.isdigit():
            return int(whole), int(frac), 1
        return None
    h = _as_int(first.value)
    if h is None:
        return None
    if 1 <= h <= 12 and len(run) >= 3 and run[1].zero_word and run[2].value is not None and 0 < run[2].value < 10:
        return h, int(run[2].value), 3
    if 1 <= h <= 12 and len(run) >= 2 and run[1].value is not None and not run[1].scaled:
        m = _as_int(run[1].value)
        if m is not None and 10 <= m < 60 and (run[1].words or len(run[1].digits) == 2):
            return h, m, 2
    if 1 <= h <= 12:
        return h, 0, 1
    if with_meridiem and first.digitlike and len(first.digits) in (3, 4):
        hh, mm = divmod(h, 100)
        if 1 <= hh <= 12 and mm < 60:
            return hh, mm, 1
    return None


def _extract_time(ctx: _Ctx) -> dt.time | None:
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
            run = _run_starting_at(ctx, k + 2)
            if run:
                h = _as_int(run[0].value)
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
    for run in ctx.runs():
        start, end = run[0].i, run[-1].j
        after_run = ctx.w(end)
        explicit = (
            after_run in ("am", "pm", "o'clock", "tonight")
            or (after_run in ("a", "p") and ctx.w(end + 1) == "m")
            or (after_run == "in" and ctx.w(end + 1) == "the" and ctx.w(end + 2) in ("morning", "afternoon", "evening"))
            or (after_run == "at" and ctx.w(end + 1) == "night")
        )
        cue = ctx.w(start - 1) in _TIME_CUES and not ctx.used[start - 1] if start > 0 else False
        if start > 0 and toks[start - 1].kind == "dollar":
            continue
        if not (explicit or cue or ctx.expects("time")):
            continue
        hm = _hour_minute(run, explicit)
        if hm is None:
            continue
        hour, minute, used = hm
        stop = run[used - 1].j
        if not explicit and used < len(run):
            continue  # "at 2 5 5 ..." is not a time
        if not explicit:
            follower = ctx.w(stop)
            if follower and not ctx.hard_break_after(stop - 1) and follower not in _TIME_FOLLOWERS:
                continue
        mer = _meridiem(ctx, stop)
        value = _to_time(hour, minute, mer)
        if value is not None:
            extra = 1 if ctx.w(stop) in ("am", "pm", "o'clock") else 2 if ctx.w(stop) in ("a", "p") else 0
            ctx.take(start, stop + extra)
            return value
    return None


# ---------------------------------------------------------------------- money


def _money_signal(ctx: _Ctx, run: Sequence[_Chunk]) -> bool:
    start, end = run[0].i, run[-1].j
    return (start > 0 and ctx.toks[start - 1].kind == "dollar") or ctx.w(end) in _MONEY_AFTER


def _budget_cue(ctx: _Ctx, start: int) -> bool:
    return any(ctx.w(k) in _BUDGET_CUES for k in range(max(0, start - 4), start))


def _extract_budget(ctx: _Ctx) -> int | None:
    """Dollars the caller will spend; the largest amount wins ("between 800k and 1.2 million")."""
    best: int | None = None
    for run in ctx.runs():
        value = _as_int(_run_value(run), limit=10**12)
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


def _run_value(run: Sequence[_Chunk]) -> Decimal | None:
    """A run as one quantity; rounds cents off dollars ("$1.2 million" stays exact)."""
    v = _combine(run)
    if v is None:
        return None
    return v.to_integral_value() if v >= 0 else None


def _extract_amount(ctx: _Ctx) -> int | None:
    """Cents of a stated amount: "$1,284", "1284 dollars and 50 cents", "twelve eighty four"."""
    for run in ctx.runs():
        if not (_money_signal(ctx, run) or ctx.expects("amount", "amount_cents")):
            continue
        value = _combine(run)
        if value is None or value < 0 or value >= 10**12:
            continue
        cents = value * 100
        end = run[-1].j
        if ctx.w(end) in _MONEY_AFTER:
            tail = end + 1
            if ctx.w(tail) == "and":
                tail += 1
            extra = _run_starting_at(ctx, tail)
            if extra and ctx.w(extra[-1].j) in ("cents", "cent"):
                c = _as_int(_combine(extra))
                if c is not None and c < 100:
                    cents += c
        if cents != cents.to_integral_value():
            continue
        return int(cents)
    return None


# ---------------------------------------------------------------------- choices


def _extract_choice(ctx: _Ctx) -> int | None:
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
        if w == "last" and nxt not in _NOT_LAST and prev != "at":
            ctx.take(k, k + 1)
            return -1
        hit = _ordinal_at(ctx, k)
        if hit is not None and 1 <= hit[0] <= 10:
            after = ctx.w(hit[1])
            if after in ("name", "time", "of", "floor", "thing", "things") or prev in _NOT_CHOICE_BEFORE:
                continue
            ctx.take(k, hit[1])
            return hit[0]
        if w in _CHOICE_WORDS and prev not in _NOT_CHOICE_OWNERS:
            run = _run_starting_at(ctx, k + 1)
            if run and len(run) == 1:
                v = _as_int(run[0].value)
                if v is not None and 1 <= v <= 20 and not run[0].scaled:
                    ctx.take(k, run[0].j)
                    return v
    if ctx.expects("ordinal_choice", "choice", "option", "listing"):
        runs = ctx.runs()
        if len(runs) == 1 and len(runs[0]) == 1:
            v = _as_int(runs[0][0].value)
            if v is not None and 1 <= v <= 20:
                ctx.take(runs[0][0].i, runs[0][0].j)
                return v
    return None


# ---------------------------------------------------------------------- areas


def _squash(s: str) -> str:
    return re.sub(r"[^a-z]", "", s.lower())


def _extract_area(ctx: _Ctx, areas: Sequence[str]) -> str | None:
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
                if any(t.text in _NAME_STOP or len(t.text) < 2 for _, t in span) and size > 1:
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
        return None
    ctx.take(best[4], best[5])
    return best[3]


# ---------------------------------------------------------------------- names


def _title(word: str) -> str:
    """Title-case a recogniser's word ("o'brien" → "O'Brien", "mary-jane" → "Mary-Jane")."""
    return "-".join(p[:1].upper() + p[1:] if "'" not in p else p.title() for p in word.split("-"))


def _name_word_ok(ctx: _Ctx, k: int, first: bool, strong: bool) -> bool:
    """Could token k be part of a person's name? Rejects the usual words after "I'm"/"it's"."""
    if k >= len(ctx.toks) or ctx.used[k]:
        return False
    t = ctx.toks[k]
    w = t.text
    if t.kind != "word" or not re.fullmatch(r"[a-z]+(?:'[a-z]+)?", w) or w.endswith("'s"):
        return False
    if w in _NAME_STOP or w in _NUMBER_WORDS or w in _ORDINAL_WORDS or w in _WEEKDAYS or w in _BED_WORDS:
        return False
    if w in _STREET_SUFFIXES and not first:
        return False
    if len(w) < 2:
        return False
    if w in _MONTHS and k + 1 < len(ctx.toks) and ctx.toks[k + 1].kind in ("num", "ordnum"):
        return False
    if w in _MONTHS and len(w) <= 4 and w not in ("may", "june", "july"):
        return False
    if first and not strong and len(w) > 5 and (w.endswith("ing") or w.endswith("ed")):
        return False  # "I'm relocating", "I'm retired"
    return True


def _read_name(ctx: _Ctx, k: int, strong: bool) -> tuple[str, int] | None:
    """Up to three name words from k; punctuation after a word ends the name."""
    while ctx.w(k) in _HONORIFICS:
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
    return " ".join(_title(w) for w in words), m


def _extract_name(ctx: _Ctx) -> str | None:
    """A name after "my name is" anywhere, after "this is"/"it's"/"I'm" at the start of the
    turn, or, when the agent just asked for it, a bare 1–3 word answer."""
    toks = ctx.toks
    n = len(toks)
    asked = ctx.expects("name", "holder_name", "full_name")
    for k in range(n):
        for cue in _NAME_CUES:
            size = len(cue)
            if tuple(ctx.w(k + x) for x in range(size)) != cue:
                continue
            strong = cue in _STRONG_NAME_CUES
            if not strong and not asked and not all(ctx.w(x) in _LEADERS for x in range(k)):
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
            while lo < hi and ctx.w(seg[lo]) in _FILLERS:
                lo += 1
            while hi > lo and ctx.w(seg[hi - 1]) in _TRAILERS:
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
            return " ".join(_title(ctx.w(k)) for k in best)
    return None


# ---------------------------------------------------------------------- intents said in words

_NEUTRAL = re.compile(
    r"\b(?:no (?:more|later|earlier|less|sooner|higher|lower|further) than|not (?:sure|certain)|"
    r"i'm not sure|don't know|do not know|doesn't matter|does not matter|no idea|no rush|"
    r"whether or not|no matter|no longer)\b"
)
_NEGATIVE = re.compile(
    r"\b(?:no|nope|nah|nay|negative|cancel|incorrect|wrong|wait|stop|hold on|hang on|never ?mind|"
    r"not (?:right|correct|quite|yet|really|now|that|it|true|good|okay|ok)|don't|do not|dont|isn't|is not|"
    r"that's not|that is not|not at all|no way|no thanks|no thank you)\b"
)
_POSITIVE = re.compile(
    r"\b(?:yes|yeah|yea|yep|yup|ya|sure|correct|exactly|absolutely|definitely|certainly|of course|"
    r"go ahead|please do|sounds good|sounds great|sounds right|sounds perfect|that works|works for me|"
    r"confirm|confirmed|affirmative|perfect|okay|ok|alright|all right|uh-huh|do it|book it|"
    r"let's do it|let's do that|that's right|that is right|that's correct|^right|yes please|"
    r"go for it|please proceed|proceed|i do|i agree|agreed)\b"
)
_HUMAN = re.compile(
    r"\b(?:talk|speak|speaking|chat|connect|transfer|put|get)\b(?: (?:me|to|with|through|a|an|the|some|"
    r"your|real|live|actual|human|person|over|please|just|someone|somebody|can|i|with))*? "
    r"(?:a |an |the |some |your |real |live |actual )*(?:person|human|agent|representative|rep|someone|"
    r"somebody|operator|manager|supervisor|people|customer service)\b"
    r"|\b(?:operator|representative|real person|live person|actual person|live agent|real human|"
    r"human being|a human|human please|agent please)\b"
)
_HUMAN_NEGATED = re.compile(r"\b(?:don't|do not|no need to|not|never|doesn't)\b(?: \S+){0,3}$")
_GOODBYE = re.compile(
    r"\b(?:bye|goodbye|good bye|bye-bye|that's all|that is all|that's it|that is it|nothing else|"
    r"that'll be all|that will be all|i'm done|we're done|have a (?:good|great|nice) (?:day|one|night|evening|weekend)|"
    r"hang up|talk to you later|take care)\b"
)


def _extract_affirmation(words: str) -> bool | None:
    """Negation wins: "no, that's not right" and "yes... wait" are both False."""
    clean = _NEUTRAL.sub(" ", words)
    if _NEGATIVE.search(clean):
        return False
    if _POSITIVE.search(clean):
        return True
    return None


def _extract_wants_human(words: str) -> bool:
    return any(not _HUMAN_NEGATED.search(words[:m.start()].rstrip()) for m in _HUMAN.finditer(words))


# ====================================================================== entry point


def extract(
    text: str,
    today: dt.date,
    expecting: str | None = None,
    known_areas: Sequence[str] | None = None,
) -> Slots:
    """Every slot the utterance fills.

    ``today`` anchors relative dates; ``expecting`` is the slot the agent just asked for
    and licenses bare answers ("Dana Whitfield", "nine hundred thousand", "two thirty",
    "twelve eighty four", "the second") that would be too ambiguous out of context.
    ``known_areas`` lists the areas to recognise (default: DEFAULT_AREAS).
    """
    ctx = _make_ctx(text, today, expecting)
    areas = DEFAULT_AREAS if known_areas is None else tuple(known_areas)
    email = _extract_email(ctx)
    policy = _extract_policy(ctx)
    card = _extract_card(ctx)
    phone = _extract_phone(ctx)
    address = _extract_address(ctx)
    day, dob = _extract_dates(ctx)
    bedrooms = _extract_bedrooms(ctx)
    when = _extract_time(ctx)
    budget = _extract_budget(ctx)
    amount = _extract_amount(ctx)
    choice = _extract_choice(ctx)
    area = _extract_area(ctx, areas)
    name = _extract_name(ctx)
    words = " ".join(t.text for t in ctx.toks)
    return Slots(
        name=name,
        phone=phone,
        email=email,
        budget=budget,
        area=area,
        bedrooms=bedrooms,
        date=day,
        time=when,
        ordinal_choice=choice,
        address=address,
        amount_cents=amount,
        policy_number=policy,
        date_of_birth=dob,
        card_number=card,
        affirmation=_extract_affirmation(words),
        wants_human=_extract_wants_human(words),
        goodbye=bool(_GOODBYE.search(words)),
    )
