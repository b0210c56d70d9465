"""Shared, process-wide engine instances for the engine tests (each loads once)."""

from __future__ import annotations

import pytest
from livekit.agents import vad as agents_vad
from livekit.plugins import silero

from worker.engines.embeddings import SentenceEmbedder
from worker.engines.piper_tts import PiperTTS
from worker.engines.whisper_stt import WhisperSTT


@pytest.fixture(scope="session")
def silero_vad() -> agents_vad.VAD:
    return silero.VAD.load(min_silence_duration=0.55)


@pytest.fixture(scope="session")
def whisper(silero_vad: agents_vad.VAD) -> WhisperSTT:
    engine = WhisperSTT(vad=silero_vad)
    engine.prewarm()
    return engine


@pytest.fixture(scope="session")
def piper() -> PiperTTS:
    return PiperTTS()


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    return SentenceEmbedder.shared()
