"""Stock clauses are rendered once per voice; the caller's own digits are never kept."""

from __future__ import annotations

import numpy as np
import pytest

from worker.engines.clause_cache import ClauseCache
from worker.engines.piper_tts import PiperTTS


def test_a_stock_clause_is_rendered_once_and_replayed_the_same() -> None:
    piper = PiperTTS()
    calls: list[str] = []
    original = piper.cache.put

    def counting_put(clause: str, pcm: np.ndarray) -> None:
        calls.append(clause)
        original(clause, pcm)

    piper.cache.put = counting_put  # type: ignore[method-assign]
    first = piper.render_clause("Let me check the calendar.")
    again = piper.render_clause("Let me check the calendar.")
    assert calls == ["Let me check the calendar."]  # the second came from memory, not from Piper
    assert first.size > piper.sample_rate // 4 and np.array_equal(first, again)
    assert piper.cache.hits == 1 and not again.flags.writeable


@pytest.mark.parametrize("clause", ["I have 5 1 0, 4 8 2, 7 3 9 1.", "ending in 6467.",
                                    "That is one clause far too long to be a stock opening phrase."])
def test_digits_and_long_clauses_are_not_kept(clause: str) -> None:
    cache = ClauseCache()
    cache.put(clause, np.ones(100, dtype=np.int16))
    assert len(cache) == 0 and cache.get(clause) is None


def test_the_least_recently_used_clause_goes_first() -> None:
    cache = ClauseCache(max_clauses=2)
    for clause in ("Got it.", "Thanks.", "Got it.", "Okay."):
        if cache.get(clause) is None:
            cache.put(clause, np.ones(10, dtype=np.int16))
    assert cache.get("Thanks.") is None and cache.get("Got it.") is not None and cache.get("Okay.") is not None


def test_prewarm_keeps_the_clauses_a_reply_is_cut_into() -> None:
    """The greeting reaches the voice sentence by sentence, its first clause cut short: those
    clauses are the ones kept, so the reply's first audio is a cache hit."""
    piper = PiperTTS()
    greeting = "Hi, this is Maya from Bloom Realty. Who am I speaking with?"
    piper.prewarm([greeting, "I have 5 1 0, 4 8 2."])
    assert {"Hi,", "Who am I speaking with?"} <= set(piper.cache._items)
    assert not any(ch.isdigit() for clause in piper.cache._items for ch in clause)
    first = piper.clauses("Hi, this is Maya from Bloom Realty.")[0]
    assert first in piper.cache
