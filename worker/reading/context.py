"""One utterance being read: its tokens plus which of them earlier slots already claimed.

Slots are extracted in a fixed order and each marks the tokens it used, so a phone number
never also becomes a budget and "November 28th" never becomes a time. This is the shared
state of that pass; it lives for one ``extract`` call only.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from worker.reading.numbers import Chunk, group_runs, number_chunks
from worker.reading.tokens import Tok, Words, with_digit_homophones
from worker.reading.vocabulary import DIGIT_SLOTS

#: The questions that license a bare answer ("Dana Whitfield" after "your name?", "two thirty"
#: after "what time?"): every name an extractor passes to ``Utterance.expects``. Any other
#: expected slot reads exactly like no question, which lets a turn's reading be shared.
ANSWERABLE: frozenset[str] = frozenset({
    "name", "holder_name", "full_name", "phone", "policy_number", "policy", "card_number", "card",
    "address", "date", "date_of_birth", "time", "budget", "amount", "amount_cents", "bedrooms", "beds",
    "ordinal_choice", "choice", "option", "listing",
})


@dataclass
class Utterance:
    """The utterance being read plus which tokens earlier slots already claimed."""

    text: str
    toks: Sequence[Tok]
    today: dt.date
    expecting: str | None
    used: list[bool] = field(default_factory=list)
    _chunk_cache: tuple[tuple[bool, ...], list[Chunk]] | None = None

    def __post_init__(self) -> None:
        self.used = [False] * len(self.toks)

    @classmethod
    def of(cls, words: Words, today: dt.date, expecting: str | None) -> Utterance:
        """A fresh pass over a turn's words (nothing claimed yet); an answer to a digit question
        reads misheard digit words as digits (`with_digit_homophones`)."""
        if expecting in DIGIT_SLOTS or expecting == "time":
            words = with_digit_homophones(words, clock=expecting == "time")
        return cls(words.text, words.toks, today, expecting or None)

    def w(self, k: int) -> str:
        """The word at k, or "" outside the text (keeps look-arounds simple)."""
        return self.toks[k].text if 0 <= k < len(self.toks) else ""

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

    def chunks(self, extra_skip: Iterable[int] = ()) -> list[Chunk]:
        """Number chunks among the unclaimed tokens (memoised: extractors ask often)."""
        skip = list(self.used)
        for k in extra_skip:
            skip[k] = True
        key = tuple(skip)
        if self._chunk_cache is None or self._chunk_cache[0] != key:
            self._chunk_cache = (key, number_chunks(self.text, self.toks, skip))
        return self._chunk_cache[1]

    def runs(self) -> list[list[Chunk]]:
        return group_runs(self.chunks())

    def expects(self, *names: str) -> bool:
        """Whether the agent just asked for one of ``names`` (each listed in ANSWERABLE)."""
        return self.expecting in names


def run_starting_at(ctx: Utterance, m: int, extra_skip: Iterable[int] = ()) -> list[Chunk] | None:
    """The rest of the run of numbers whose chunk starts at token m ("1985" in "3, 1985")."""
    for run in group_runs(ctx.chunks(extra_skip)):
        for idx, c in enumerate(run):
            if c.i == m:
                return run[idx:]
    return None

