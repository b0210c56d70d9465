"""Audio helpers for the engine tests."""

from __future__ import annotations

import numpy as np
from livekit import rtc


def to_frames(pcm: np.ndarray, sample_rate: int, frame_ms: int = 20) -> list[rtc.AudioFrame]:
    """Cut int16 mono samples into frames of `frame_ms`."""
    step = sample_rate * frame_ms // 1000
    return [
        rtc.AudioFrame(pcm[i : i + step].tobytes(), sample_rate, 1, pcm[i : i + step].size)
        for i in range(0, pcm.size, step)
        if pcm[i : i + step].size
    ]


def silence(seconds: float, sample_rate: int) -> np.ndarray:
    return np.zeros(int(seconds * sample_rate), dtype=np.int16)


class WordTokenizer:
    """A tokenizer of whole words: " five" is one token, the end of text is 0."""

    eot = 0

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def encode(self, text: str) -> list[int]:
        return [self.ids.setdefault(text, len(self.ids) + 1)]

    def decode(self, tokens: list[int]) -> str:
        names = {i: w for w, i in self.ids.items()}
        return "".join(names[t] for t in tokens)
