"""Shared, process-wide engine instances for the engine tests (each loads once)."""

from __future__ import annotations

import pytest
from livekit.agents import vad as agents_vad
from livekit.plugins import silero

from worker.engines.embeddings import SentenceEmbedder
from worker.engines.piper_tts import PiperTTS
from worker.engines.whisper_models import resolve_whisper_model
from worker.engines.whisper_stt import WhisperSTT
from worker.settings import Settings


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


@pytest.fixture(scope="session")
def shipped_stt(silero_vad: agents_vad.VAD) -> WhisperSTT:
    """Whisper as a call builds it from the default settings (model, decoder hints)."""
    settings = Settings()
    engine = WhisperSTT(vad=silero_vad, model_path=resolve_whisper_model(settings.whisper_model),
                        model_name=settings.whisper_model, hints=settings.stt_hints)
    engine.prewarm()
    return engine
