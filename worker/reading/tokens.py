"""The caller's words, normalised and cut into tokens: the first step of every reading.

Whisper spells one value many ways ("p.m.", "P M", "450,000", "28th", curly quotes); the
normalisation folds the spellings that never carry meaning, and the tokeniser keeps the
ones that do (clock times, dates with slashes, ordinals, emails, "$") as whole tokens so
the later rules never have to re-split them. ``Words`` is the result for one turn; it is
immutable, so one turn's reading can hand it to every extractor without copying.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from worker.reading.corrections import retract
from worker.reading.vocabulary import DAY_PARTS, DIGIT_HOMOPHONES, UNITS

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
MAX_NUM_DIGITS = 24  # longer digit strings are kept as digits, never as quantities


@dataclass(frozen=True)
class Tok:
    """One token of the normalised text; numbers carry their digits and value."""

    text: str
    kind: str  # email | clock | slash | ordnum | num | word | dollar
    start: int
    end: int
    value: Decimal | None = None  # num tokens only; None when too long to be a quantity
    digits: str = ""  # num tokens only: the digits as written, leading zeros kept
    decimal: bool = False
    grouped: bool = False  # "450,000"


def normalise(text: str) -> str:
    """Fold the recogniser's spelling noise that never carries meaning."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u02bc", "'").replace("`", "'")
    text = text.lower()
    text = re.sub(r"(?<![a-z])([ap])\s?\.\s?m\b\.?", r"\1m", text)  # "p.m." / "p. m." → "pm"
    text = re.sub(r"(?<=\d)\s?([ap])\s?\.\s?n\b\.?", r" \1m", text)  # "4 p.n" (the m heard as n) → "4 pm"
    text = re.sub(r"(?<=\d)\s?b\.?\s?m\b\.?", " pm", text)  # "2 BM" (the p heard as b) → "2 pm"
    text = re.sub(r"(?<=\d)\s?pn\b", " pm", text)  # "2 pn works for me"
    text = re.sub(r"\bo\s+clock\b|\boclock\b", "o'clock", text)
    text = re.sub(r"\b(mm|uh)[\s-]+(hmm|huh)\b", "uh-huh", text)
    return text


def tokenise(text: str) -> list[Tok]:
    """Cut normalised text into tokens; multi-dot digit groups ("415.555.0123") are split."""
    toks: list[Tok] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup or "word"
        raw = m.group(0)
        if kind != "num":
            toks.append(Tok(raw, kind, m.start(), m.end()))
            continue
        if _GROUPED.fullmatch(raw) or _DECIMAL.fullmatch(raw) or raw.isdigit():
            toks.append(_num_tok(raw, m.start()))
            continue
        for part in re.finditer(r"\d+", raw):
            toks.append(_num_tok(part.group(0), m.start() + part.start()))
    return _merge_points(toks)


def _num_tok(raw: str, start: int) -> Tok:
    digits = re.sub(r"\D", "", raw)
    grouped = "," in raw
    decimal = "." in raw
    value: Decimal | None = None
    if len(digits) <= MAX_NUM_DIGITS:
        try:
            value = Decimal(raw.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the regex admits only digits, "," and "."
            value = None
    return Tok(raw, "num", start, start + len(raw), value, digits, decimal, grouped)


def _merge_points(toks: list[Tok]) -> list[Tok]:
    """"one point two (million)" → a decimal token, so scales apply to it like to "1.2"."""
    out: list[Tok] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if (
            i + 2 < len(toks)
            and toks[i + 1].text == "point"
            and digit_of(t) is not None
            and digit_of(toks[i + 2]) is not None
        ):
            whole = digit_of(t)
            frac = ""
            k = i + 2
            while k < len(toks) and digit_of(toks[k]) is not None and len(frac) < 6:
                frac += str(digit_of(toks[k]))
                k += 1
            raw = f"{whole}.{frac}"
            out.append(Tok(raw, "num", t.start, toks[k - 1].end, Decimal(raw), str(whole) + frac, True))
            i = k
            continue
        out.append(t)
        i += 1
    return out


def digit_of(t: Tok) -> int | None:
    """The single digit a token stands for ("seven", "7"), else None."""
    if t.kind == "word" and t.text in UNITS and t.text not in ("o", "oh"):
        return UNITS[t.text]
    if t.kind == "num" and not t.decimal and not t.grouped and len(t.digits) == 1:
        return int(t.digits)
    return None


def repeatable(t: Tok) -> int | None:
    """The digit after "double"/"triple", where "oh" is a zero ("double oh seven")."""
    return 0 if t.kind == "word" and t.text in ("oh", "o") else digit_of(t)


@dataclass(frozen=True)
class Words:
    """One text normalised and tokenised; immutable, so one reading serves every rule."""

    text: str  # normalised
    toks: tuple[Tok, ...]

    @property
    def said(self) -> str:
        """The tokens joined by single spaces: what the yes/no and wish patterns read."""
        return " ".join(t.text for t in self.toks)


def read_words(text: str) -> Words:
    """Normalise, drop self-corrected values (`corrections`) and tokenise; anything but a
    string reads as no words."""
    norm = retract(normalise(text if isinstance(text, str) else ""))
    return Words(norm, tuple(tokenise(norm)))


def _numberish(t: Tok) -> bool:
    return t.kind == "num" or (t.kind == "word" and t.text in UNITS) or t.text in ("double", "triple")


_CLOCK_AFTER = frozenset({"in", "pm", "am", "o'clock", "thirty", "fifteen", "forty", "oh"})


def with_digit_homophones(words: Words, *, clock: bool = False) -> Words:
    """Words with "fine", "for", "to", "owe", "w" ... read as digit words where they sit among
    digits ("four one fine", "408 for 661", "w5" for "double five").

    Only for an answer to a digit question (phone, card, policy number): there "fine" after
    "four one" is a misheard "five"; anywhere else it means fine. With `clock` (the answer to
    "what time?") a homophone before a clock word counts too: "free in the afternoon", "to
    pm". The spans in the text do not move, only the token's word, so every later rule reads
    the digit word.
    """
    toks = list(words.toks)
    changed = False
    for k, t in enumerate(toks):
        new = DIGIT_HOMOPHONES.get(t.text) if t.kind == "word" else None
        if new is None:
            continue
        prev = toks[k - 1] if k > 0 and _close(words.text, toks[k - 1], t) else None
        nxt = toks[k + 1] if k + 1 < len(toks) and _close(words.text, t, toks[k + 1]) else None
        if new == "double":
            ok = nxt is not None and nxt.kind == "num"  # "w5": only straight before a digit
        else:
            ok = (prev is not None and _numberish(prev)) or (nxt is not None and _numberish(nxt)) or (
                clock and nxt is not None and (nxt.text in _CLOCK_AFTER or _day_part_soon(toks, k))
            )
        if ok:
            toks[k] = Tok(new, "word", t.start, t.end)
            changed = True
    return Words(words.text, tuple(toks)) if changed else words


def _day_part_soon(toks: list[Tok], k: int) -> bool:
    """A part of the day within the next three words ("to win the afternoon": "in the" misheard)."""
    return any(t.text in DAY_PARTS for t in toks[k + 1 : k + 4])


def _close(text: str, a: Tok, b: Tok) -> bool:
    """No sentence break between two tokens (spaces, commas and dashes are fine)."""
    return re.fullmatch(r"[\s,\-]*", text[a.end:b.start]) is not None
