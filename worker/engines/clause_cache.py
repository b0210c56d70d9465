"""Rendered audio of short stock clauses, kept per voice so a reply that opens with one plays at once.

Why: the first clause of most replies is a stock phrase ("Got it.", "Let me check the
calendar.", "Which area are you looking in?"), and on two busy cores Piper takes 50-270 ms to
render even those (`uv run mediabloom bench turns`: "synthesis first audio" p50 153 ms). A worker
process serves many calls, so after its first use such a clause is played from memory. Only short
clauses without digits are kept: they are the ones that repeat, and a clause with digits (a phone
number read back, a card's last four) is the caller's own and stays out of memory.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["MAX_CLAUSES", "MAX_WORDS", "ClauseCache"]

MAX_WORDS = 10
"""Longest clause kept, in words ("Is there anything else I can help you with?" is 9)."""
MAX_CLAUSES = 256
"""Clauses kept per voice (least recently used dropped first); ~1-2 s of audio each, ~20 MB at most."""

_DIGIT = re.compile(r"\d")


class ClauseCache:
    """A thread-safe LRU of clause text → int16 samples (Piper renders in worker threads)."""

    def __init__(self, max_clauses: int = MAX_CLAUSES, max_words: int = MAX_WORDS) -> None:
        self.max_clauses = max_clauses
        self.max_words = max_words
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def keeps(self, clause: str) -> bool:
        """Whether `clause` is one this cache stores: short, with no digit in it."""
        return 0 < len(clause.split()) <= self.max_words and not _DIGIT.search(clause)

    def get(self, clause: str) -> np.ndarray | None:
        """The samples rendered before for `clause` (read-only), or None."""
        with self._lock:
            pcm = self._items.get(clause)
            if pcm is None:
                self.misses += self.keeps(clause)
                return None
            self._items.move_to_end(clause)
            self.hits += 1
            return pcm

    def put(self, clause: str, pcm: np.ndarray) -> None:
        """Keep `pcm` for `clause` if the clause is one this cache stores."""
        if not self.keeps(clause) or pcm.size == 0:
            return
        pcm = pcm.copy()
        pcm.setflags(write=False)
        with self._lock:
            self._items[clause] = pcm
            self._items.move_to_end(clause)
            while len(self._items) > self.max_clauses:
                self._items.popitem(last=False)

    def __contains__(self, clause: object) -> bool:
        return clause in self._items

    def __len__(self) -> int:
        return len(self._items)
