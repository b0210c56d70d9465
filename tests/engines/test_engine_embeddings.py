"""MiniLM embeddings in numpy: reference similarities and intent-like sanity."""

from __future__ import annotations

import numpy as np

from worker.engines.embeddings import SentenceEmbedder, cosine


def test_matches_published_reference(embedder: SentenceEmbedder) -> None:
    # sentence-transformers' quickstart for all-MiniLM-L6-v2 prints this similarity matrix
    vectors = embedder.embed(
        ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    )
    expected = np.array([[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(vectors @ vectors.T, expected, atol=1e-3)


def test_paraphrase_beats_unrelated(embedder: SentenceEmbedder) -> None:
    tour, viewing, card = embedder.embed(["book a tour", "schedule a viewing", "charge my card"])
    assert cosine(tour, viewing) > cosine(tour, card) + 0.15
    pay, bill = embedder.embed(["I want to pay my bill", "can I make a payment"])
    assert cosine(pay, bill) > cosine(pay, tour)


def test_batch_equals_single_and_edges(embedder: SentenceEmbedder) -> None:
    batch = embedder.embed(["short", "a much longer sentence with many more tokens in it"])
    assert np.allclose(batch[0], embedder.embed_one("short"), atol=1e-5)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)
    assert embedder.embed([""]).shape == (1, 384)
    assert SentenceEmbedder.shared() is SentenceEmbedder.shared()
