"""A dictated number of the wrong shape: decode again from where the greedy decode hesitated.

Why: Whisper tiny.en, decoding greedily, writes one "five" too many in "five five five, five
five oh nine", loses an "oh" before another digit or one "two" of "two two, two" across a
pause. The slot's digit shape (`whisper_digits.DigitShape`: ten digits for a phone, a Luhn-valid
card) says the decode is wrong, but not where. The model itself usually does: at the step
where it wrote the extra "five", the right next word ("oh") was its second choice. So the
search takes the greedy decode's per-step log-probabilities, forces each of the likeliest
other digit words at the steps where they came close (`_BRANCHES` of them, above
`_FLOOR`), lets the decoder finish each branch greedily (one batched decoder call), and keeps
the branch that fits the shape with the highest log-probability of the whole sequence. When
no branch fits, the branches that came closest to the shape's count are branched once more
(two edits: "oh oh" heard as "four", or two fives too many). A decode with too few digits is
also branched where it said a lone "oh", saying it twice ("oh oh" heard as one "oh"), and such
a decode is credited `_ZERO_REPEAT_BONUS` when the fitting decodes are ranked.

It replaced a beam plus seeded samples at two temperatures: those were not repeatable (the
seed does not reach the CTranslate2 worker thread that samples, so one line's decode changed
from run to run), and the branches find more: on the multi-voice set (audio cached, tiny.en)
phone numbers right on first hearing 202 -> 209 of 240, cards 63 -> 67 of 80 (docs/recognition.md).
A beam is still tried when no branch fits. Cost: two or three decoder calls (the branches of a
round in one batch), only on a digit answer whose decode does not fit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import ctranslate2
import numpy as np

from worker.engines.whisper_digits import DigitShape, spoken_digits
from worker.engines.whisper_text import is_looping

__all__ = ["SEARCH_BUDGET_S", "fitting_decode"]

SEARCH_BUDGET_S = 2.5
"""Seconds after a transcription began past which the search starts no new round nor the beam,
and gives up (the plain decode stands). Why: a card of fifteen ones ("four one one one, one one
one one, ...") decodes as a loop of ones that no branch fits; each round then decodes every
branch to the token cap, and the search took 6-9 s, twice over with the loop's retry on a 30 s
window: the caller heard nothing for 7 s (`bench robustness`); with the budget ~3 s. A search
that finds a fit does so in its first round or two: the slowest line of
tests/engines/test_whisper_branch.py takes 1.2 s at load 1.4, so the budget leaves it twice that.

A search also stops once its audio is `stale` (the caller went on: a speculative decode at a pause
that will not be the final). Why: the recognition stream decodes an utterance again at each pause,
one decode after another on the model's lock; the searches of a card of fifteen ones read in
groups queued up, each with its budget, and the final waited behind them (8 s in `bench
robustness`). One budget for the whole utterance instead left no search for the whole number when
the caller read it in groups with pauses: the first search, at the first pause, set the deadline
(cards read with 0.5 s pauses, espeak-ng and flite, through the stream: 2 of 8 lines lost)."""

_BRANCHES = 8
"""Deviations tried per decode: the other digit words closest to the one the decoder chose."""
_FLOOR = -8.0
"""A digit word with a log-probability under this at a step is never forced there."""
_DEPTH = 2
"""Rounds of branching; the second runs only when no branch of the first fits."""
_FRONTIER = 2
"""Branches of one round that are branched again: those closest to the shape's digit count."""

_ZERO_REPEAT_BONUS = 3.0
"""Log-probability credited to a decode that repairs a short count by saying an "oh" twice.

Why: "oh oh" heard as one "oh" is the commonest miss; at the step after the "oh" the model
ranks a second "oh" far down, so a count repaired from there lost to one repaired with an
extra "five" ("five five five five, one oh seven" for "five five five, one oh oh seven").
Chosen on a held-out draw of the hearing set (seed 11: 218 -> 225 of 240 phone lines at 3.0,
223 at 2.0, 222 at 5.0), confirmed on seed 12 (219 -> 220); cards unchanged (docs/recognition.md)."""

_BEAM = 5
"""Hypotheses of the beam tried when no branch fits."""
_END_TAIL = 1
"""The end of text is forced only before the last digit words: one too many at the end."""

_WORDS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "double",
          "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
"""The words forced at a branch ("forty one" for "four one", "double five" for "five five"); the
end of text is one too (the decoder went on after the last digit)."""


@dataclass(frozen=True)
class _Decode:
    tokens: list[int]
    """The text tokens after Whisper's start sequence (a forced prefix included)."""
    steps: list[np.ndarray]
    """Log-probabilities over the vocabulary at each step (the last one chose the end)."""
    text: str
    logprob: float
    """Sum over the tokens and the end of text."""
    capped: bool
    """No end of text within the token cap (a loop): branched from, never kept."""
    bonus: float = 0.0
    """Credited when ranking decodes that fit (`_ZERO_REPEAT_BONUS`), never in `logprob`."""


def _log_softmax(row: Any) -> np.ndarray:
    v = np.asarray(row, dtype=np.float32).reshape(-1)
    finite = np.isfinite(v)
    top = float(v[finite].max())
    return v - (top + float(np.log(np.exp(v[finite] - top).sum())))


class _Decoder:
    """Greedy decodes of forced prefixes on one encoder output, scored token by token."""

    def __init__(self, model: Any, tokenizer: Any, encoded: Any, prompt: list[int], max_new: int,
                 suppress: list[int]) -> None:
        self.model, self.tokenizer, self.encoded = model, tokenizer, encoded
        self.prompt, self.max_new, self.suppress = prompt, max_new, suppress
        self.no_speech = 0.0
        self.word_of: dict[int, str] = {tokenizer.eot: ""}
        for word in _WORDS:
            for form in (" " + word, " " + word.capitalize()):
                ids = tokenizer.encode(form)
                if len(ids) == 1:
                    self.word_of[ids[0]] = word

    def run(self, prefixes: list[list[int]]) -> list[_Decode]:
        """Decode each prefix to its end; decodes that hit the token cap are dropped."""
        features = self.encoded
        if len(prefixes) > 1:
            features = ctranslate2.StorageView.from_array(
                np.ascontiguousarray(np.repeat(np.asarray(self.encoded), len(prefixes), axis=0)))
        results = self.model.generate(
            features, [self.prompt + p for p in prefixes],
            beam_size=1, max_length=len(self.prompt) + self.max_new, suppress_blank=True,
            suppress_tokens=self.suppress, return_logits_vocab=True, return_no_speech_prob=True,
        )
        out = []
        for result in results:
            tokens = list(result.sequences_ids[0])
            steps = [_log_softmax(r) for r in result.logits[0]]
            logprob = sum(float(s[t]) for s, t in zip(steps, [*tokens, self.tokenizer.eot]))
            capped = len(steps) != len(tokens) + 1 or len(tokens) >= self.max_new
            out.append(_Decode(tokens, steps, self.tokenizer.decode(tokens).strip(), logprob, capped))
        if len(prefixes) == 1 and results:
            self.no_speech = float(results[0].no_speech_prob)
        return out

    def branches(self, parent: _Decode) -> list[list[int]]:
        """Prefixes forcing another digit word where the decoder nearly wrote one."""
        eot = self.tokenizer.eot
        words = [self.word_of.get(t) for t in parent.tokens]
        digits_left = [sum(w is not None for w in words[i:]) for i in range(len(words) + 1)]
        near: list[tuple[float, int, int]] = []
        for i, step in enumerate(parent.steps[: len(parent.tokens) + 1]):
            chosen = parent.tokens[i] if i < len(parent.tokens) else eot
            best: dict[str, int] = {}  # one spelling per word: "Oh" or "oh"
            for token, word in self.word_of.items():
                if word == self.word_of.get(chosen) or step[token] <= _FLOOR:
                    continue  # the same word ("Five" for "five"), or too unlikely
                if token == eot and digits_left[i] > _END_TAIL:
                    continue  # ending mid-number drops digits the caller said
                if word not in best or step[token] > step[best[word]]:
                    best[word] = token
            near += [(float(step[chosen] - step[token]), i, token) for token in best.values()]
        near.sort()
        return [parent.tokens[:i] + [token] for _, i, token in near[:_BRANCHES]]

    def zero_repeats(self, parent: _Decode, shape: DigitShape) -> list[list[int]]:
        """Prefixes saying an "oh" (or "zero") of a decode with too few digits once more; of "oh oh",
        only the second (repeating the first is the same prefix)."""
        if len(spoken_digits(parent.text)) >= min(shape.counts):
            return []
        zeros = [i for i, t in enumerate(parent.tokens) if self.word_of.get(t) in ("oh", "zero")]
        return [parent.tokens[: i + 1] + [parent.tokens[i]] for i in zeros
                if i + 1 >= len(parent.tokens) or self.word_of.get(parent.tokens[i + 1]) not in ("oh", "zero")]

    def ended(self, parent: _Decode, prefix: list[int]) -> _Decode:
        """The parent cut where a branch forced the end of text (no decoding needed)."""
        tokens = prefix[:-1]
        steps = parent.steps[: len(tokens) + 1]
        logprob = sum(float(s[t]) for s, t in zip(steps, prefix))
        return _Decode(tokens, steps, self.tokenizer.decode(tokens).strip(), logprob, False)


def _fits(decode: _Decode, shape: DigitShape) -> bool:
    return not decode.capped and shape.fits(decode.text) and not is_looping(decode.text)


def fitting_decode(
    model: Any, tokenizer: Any, encoded: object, prompt: list[int], max_new: int, suppress: list[int],
    shape: DigitShape, deadline: float | None = None, stale: Callable[[], bool] | None = None,
) -> tuple[str, float, float, bool] | None:
    """(text, mean log-probability, no-speech probability, token cap hit) of the likeliest
    decode that fits `shape`, or None. `model` is the CTranslate2 Whisper, `suppress` the
    numeric vocabulary's suppressed tokens. Greedy decodes only, so deterministic unless it
    runs past `deadline` (a `time.perf_counter()` value, see `SEARCH_BUDGET_S`) or its audio
    goes `stale`: then it gives up before its next decoder call."""
    def late() -> bool:
        return (deadline is not None and time.perf_counter() >= deadline) or (stale is not None and stale())

    if late():
        return None
    decoder = _Decoder(model, tokenizer, encoded, prompt, max_new, suppress)
    frontier = decoder.run([[]])
    fitting = [d for d in frontier if _fits(d, shape)]
    for _ in range(_DEPTH):
        if fitting or not frontier:
            break
        if late():
            return None
        eot = tokenizer.eot
        branches = {tuple(p): (parent, p) for parent in frontier for p in decoder.branches(parent)}
        repeats = {tuple(p) for parent in frontier for p in decoder.zero_repeats(parent, shape)}
        prefixes = [p for _, p in branches.values() if p[-1] != eot] + [list(p) for p in repeats if p not in branches]
        children = [replace(d, bonus=_ZERO_REPEAT_BONUS) if tuple(p) in repeats else d
                    for p, d in zip(prefixes, decoder.run(prefixes) if prefixes else [])]
        children += [decoder.ended(parent, p) for parent, p in branches.values() if p[-1] == eot]
        fitting = [d for d in children if _fits(d, shape)]
        frontier = sorted(children, key=lambda d: (shape.distance(d.text), -d.logprob))[:_FRONTIER]
    if not fitting:  # last resort: a beam's hypotheses (a loop the branches did not leave)
        if late():
            return None
        beam = model.generate(encoded, [prompt], beam_size=_BEAM, num_hypotheses=_BEAM, suppress_blank=True,
                              max_length=len(prompt) + max_new, suppress_tokens=suppress)[0]
        fitting = [d for d in decoder.run([list(h) for h in beam.sequences_ids]) if _fits(d, shape)]
    if not fitting:
        return None
    best = max(fitting, key=lambda d: d.logprob + d.bonus)
    return best.text, best.logprob / (len(best.tokens) + 1), decoder.no_speech, False
