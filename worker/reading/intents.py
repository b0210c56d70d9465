"""Caller intent by meaning, not keywords: MiniLM embeddings against example phrases.

Rules in `wishes.py` catch the common wordings ("bye", "talk to a person"); this catches the
paraphrases they miss ("could somebody from your team ring me back?"). Each intent is a handful
of example sentences; a turn takes the intent of its nearest example when the cosine
similarity clears a threshold, else "other". Deterministic: same text, same answer.

Not memoised per text here: a turn is classified once, by `turn.read_turn`, whose memo both
the call and the planner share. `warm_up` loads MiniLM and embeds the examples at start-up,
whatever LLM is configured, because every caller turn of every call is classified.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from worker.engines.embeddings import SentenceEmbedder

EXAMPLES: dict[str, list[str]] = {
    "human": [
        "I want to talk to a real person", "can I speak with someone from your team",
        "get me a human please", "I'd like a representative to call me back", "transfer me to an agent",
        "can someone from your office call me back", "put me through to somebody", "I need to speak to a manager",
        "could I just speak with one of your realtors instead", "can I talk to one of your agents",
    ],
    "goodbye": [
        "no that's all, goodbye", "that's everything, thanks, bye", "I'm done, have a nice day",
        "nothing else, thank you", "talk to you later", "that will be all for today", "that's it for now, bye",
    ],
    "affirm": ["yes please do that", "sure, go ahead", "that's right", "yes, correct", "okay, sounds good"],
    "deny": ["no, don't do that", "no that's wrong", "please cancel that", "not right now", "hold on, stop"],
    "book_tour": ["I'd like to see a house", "can I schedule a viewing", "I want to book a tour of a home"],
    "renew": ["I want to renew my policy", "my insurance is up for renewal", "I need to pay my premium"],
}
THRESHOLD = 0.62


@lru_cache(maxsize=1)
def _prototypes() -> tuple[list[str], np.ndarray]:
    labels = [label for label, texts in EXAMPLES.items() for _ in texts]
    vectors = SentenceEmbedder.shared().embed([t for texts in EXAMPLES.values() for t in texts])
    return labels, vectors


def warm_up() -> None:
    """Load the model, embed the examples and one query now, not on the first caller turn."""
    classify("warm up")


def classify(text: str) -> tuple[str, float]:
    """The caller's intent and its similarity; ("other", score) below the threshold."""
    if not text.strip():
        return "other", 0.0
    labels, vectors = _prototypes()
    query = SentenceEmbedder.shared().embed([text])[0]
    scores = vectors @ query
    best = int(np.argmax(scores))
    score = float(scores[best])
    return (labels[best] if score >= THRESHOLD else "other"), round(score, 4)
