"""The engine catalog: which engine set a configuration builds, and what it warms up.

The caller's words are read with MiniLM on every turn whichever LLM plans the replies
(`worker.reading`), so the catalog must load it at start-up with a cloud LLM too; with every
part on a cloud plugin and dummy keys, building only creates clients (no network), which the
test enforces by refusing every socket connection.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from livekit.plugins import openai

from worker.call import engine_catalog
from worker.call.engine_catalog import build_engines
from worker.reading import intents
from worker.settings import Settings


def _no_network(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("building the engine set must not open a connection")


def test_a_cloud_llm_still_gets_the_embeddings_warmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_catalog, "_CACHE", {})
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    intents._prototypes.cache_clear()
    settings = Settings(_env_file=None, stt="deepgram", llm="openai", tts="openai",  # type: ignore[call-arg]
                        deepgram_api_key="dg-dummy", openai_api_key="sk-dummy")

    engines = build_engines(settings)

    assert engines.names == {"vad": "silero", "stt": "deepgram", "llm": "openai", "tts": "openai"}
    assert isinstance(engines.llm, openai.LLM)
    assert intents._prototypes.cache_info().currsize == 1, "MiniLM was not warmed up with a cloud LLM"
    assert build_engines(settings) is engines, "one engine set per process and configuration"


def test_offline_engines_warm_up_when_built_and_not_again_at_each_session_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The LiveKit worker builds the set in its process prewarm; livekit-agents then calls each
    engine's `prewarm()` on the job's event loop at every session start, which must not run a
    second Whisper decode or Piper synthesis there (it delayed the greeting by 0.3-0.7 s)."""
    from worker.engines.piper_tts import PiperTTS
    from worker.engines.whisper_decode import WhisperTranscriber

    monkeypatch.setattr(engine_catalog, "_CACHE", {})
    ran: list[str] = []
    decode, render = WhisperTranscriber._decode, PiperTTS.render_clause
    monkeypatch.setattr(WhisperTranscriber, "_decode", lambda self, *a: ran.append("whisper") or decode(self, *a))
    monkeypatch.setattr(PiperTTS, "render_clause", lambda self, text: ran.append(f"piper:{text}") or render(self, text))

    engines = build_engines(Settings(_env_file=None, stt="offline", llm="offline", tts="offline"))  # type: ignore[call-arg]
    built = list(ran)  # one decode, "Hello.", and each stock clause once (`stock_lines`, `clause_cache`)
    assert built.count("whisper") == 1 and "piper:Hello." in built and len(set(built)) == len(built), built
    assert "piper:Which area are you looking in?" in built

    for _ in range(2):  # two sessions of the process (livekit-agents' AgentActivity start)
        engines.stt.prewarm()
        engines.tts.prewarm()
    assert ran == built, "a session start ran warm-up inference again"


def test_the_instant_set_is_built_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """`MB_STT=instant MB_TTS=instant`: the load-test engines, around the same planner and VAD."""
    from worker.engines.instant import InstantSTT, InstantTTS
    from worker.planner.llm import DeterministicPlanner

    monkeypatch.setattr(engine_catalog, "_CACHE", {})
    settings = Settings(_env_file=None, stt="instant", llm="offline", tts="instant")  # type: ignore[call-arg]

    engines = build_engines(settings)

    assert engines.names == {"vad": "silero", "stt": "instant", "llm": "offline", "tts": "instant"}
    assert isinstance(engines.stt, InstantSTT) and isinstance(engines.tts, InstantTTS)
    assert isinstance(engines.llm, DeterministicPlanner)
