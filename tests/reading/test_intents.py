"""Caller intent by meaning: nearest MiniLM example above a threshold, else "other"."""

from __future__ import annotations

import pytest

from worker.reading import intents
from worker.reading.intents import THRESHOLD, classify


@pytest.mark.parametrize(("text", "intent"), [
    ("could a colleague of yours call me back", "human"),
    ("I am done, have a good one", "goodbye"),
    ("okay, that sounds good", "affirm"),
    ("I would like to see the house on Grand Avenue", "book_tour"),
    ("please renew my insurance", "renew"),
])
def test_paraphrases_find_their_intent(text: str, intent: str) -> None:
    label, score = classify(text)
    assert label == intent and score >= THRESHOLD


def test_unrelated_words_are_other_with_their_score() -> None:
    label, score = classify("what is the weather in Paris")
    assert label == "other" and 0 <= score < THRESHOLD


def test_no_words_are_other_without_running_the_model() -> None:
    assert classify("   ") == ("other", 0.0)


def test_the_same_words_give_the_same_answer() -> None:
    assert classify("put me through to somebody") == classify("put me through to somebody")


def test_warm_up_embeds_the_examples() -> None:
    intents._prototypes.cache_clear()
    intents.warm_up()
    labels, vectors = intents._prototypes()
    assert intents._prototypes.cache_info().hits >= 1 and len(labels) == len(vectors)
    assert set(labels) == set(intents.EXAMPLES)
