"""How sure Whisper was of each word it wrote: word probabilities from the decoder's steps.

Why: a turn's confidence (exp of the mean token log-probability) mixes every word of the turn,
so a name read back "when heard with low confidence" was decided by the "Hi", the comma and the
"um" around it as much as by the name. The decoder's per-step scores say how likely each
written token was; a word's probability is the product over its tokens (the chance the decoder
gave the whole word), punctuation left out (a comma against a full stop is a choice of
writing, not of hearing).

CTranslate2 4.8 returns the per-step scores with `return_logits_vocab=True` as one raw logit row
per step (the vocabulary, 51,864 for tiny.en, with suppressed tokens at -inf), the end of text
included; the row's log-softmax at the chosen token is its log-probability. Returning the rows
costs ~1-4 ms per decode of a short turn on tiny.en (45 ms without them; docs/recognition.md).

Words follow the written text: a token that starts with a space opens a word, so the words are
exactly `text.split()` and a reader can line them up with the transcript.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["HeardWord", "token_logprobs", "words_of"]


@dataclass(frozen=True)
class HeardWord:
    """One written word and the probability the decoder gave it (0-1)."""

    text: str
    probability: float


def token_logprobs(rows: Sequence[Any], tokens: Sequence[int]) -> list[float]:
    """The log-probability of each chosen token from its step's logit row (`return_logits_vocab`)."""
    out = []
    for row, token in zip(rows, tokens):
        v = np.asarray(row, dtype=np.float32).reshape(-1)
        finite = v[np.isfinite(v)]
        top = float(finite.max())
        out.append(float(v[token]) - top - float(np.log(np.exp(finite - top).sum())))
    return out


def words_of(tokenizer: Any, tokens: Sequence[int], logprobs: Sequence[float]) -> tuple[HeardWord, ...]:
    """The decode's words with their probabilities; () when they cannot be lined up with the text."""
    if len(logprobs) < len(tokens):
        return ()
    groups: list[list[int]] = []
    for i, token in enumerate(tokens):
        piece = tokenizer.decode([token])
        if not groups or piece[:1].isspace():
            groups.append([])
        groups[-1].append(i)
    words = []
    for group in groups:
        text = tokenizer.decode([tokens[i] for i in group]).strip()
        if not text:
            continue
        spoken = [i for i in group if any(c.isalnum() for c in tokenizer.decode([tokens[i]]))] or group
        words.append(HeardWord(text, math.exp(sum(logprobs[i] for i in spoken))))
    if [w.text for w in words] != tokenizer.decode(list(tokens)).split():
        return ()
    return tuple(words)
