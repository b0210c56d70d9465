"""Builds the configured engine set once per process: cloud plugins, the offline set, or the
instant set (`worker/engines/instant.py`: engines that answer at once, for load tests).

Engines are heavy (models in memory, HTTP pools), so every call of a process shares them.
The offline engines also run their warm-up inference here (the LiveKit worker builds the set
in its process prewarm): livekit-agents calls `prewarm()` again at every session start, on the
job's event loop, where a first Whisper decode blocked it for 0.3-0.7 s before the greeting;
the engines make that second call free.
Cloud engines come only from the official LiveKit plugins; offline engines sit behind the same
livekit-agents base classes, so the session code never knows which set it runs.

It lives with the call, not in `worker/engines/`, because choosing the set reaches up to the
planner and the caller reading; `worker/engines/` holds only the engines and imports nothing
above it. The sentence embedder is warmed up whatever LLM is chosen: every caller turn is read
with it (`worker.reading`), so a cloud LLM must not leave the first turn to load MiniLM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from livekit.agents import llm, stt, tts, vad
from loguru import logger

from worker.settings import ConfigError, Settings
from worker.transport.levels import AUDIBLE_RMS


@dataclass
class Engines:
    vad: vad.VAD
    stt: stt.STT
    llm: llm.LLM
    tts: tts.TTS
    names: dict[str, str]

    @property
    def planner_model(self) -> str:
        return self.llm.model


_CACHE: dict[tuple[object, ...], Engines] = {}


def _key(settings: Settings) -> tuple[object, ...]:
    return (settings.engine("stt"), settings.engine("llm"), settings.engine("tts"), settings.vad_silence,
            settings.turn_detection, settings.endpointing_max_delay,
            settings.stt_interim_interval, settings.whisper_threads, settings.piper_threads,
            settings.whisper_model, settings.stt_hints, settings.stt_level_pause,
            settings.openai_model, settings.openai_base_url)


def _stt_vad(settings: Settings, session_vad: vad.VAD) -> vad.VAD:
    """With the reading rule, Whisper's own VAD waits the long silence (an unfinished turn's);
    a finished-sounding turn ends earlier, by meaning (`WhisperSTT.end_of_turn`)."""
    if settings.turn_detection != "rule":
        return session_vad
    from livekit.plugins import silero
    return silero.VAD.load(min_silence_duration=settings.endpointing_max_delay, min_speech_duration=0.1)


def _turn_pause(settings: Settings) -> Callable[[str, str | None], float | None] | None:
    """With the reading rule: the silence after Whisper's transcript that ends the turn."""
    if settings.turn_detection != "rule":
        return None
    from worker.call.turn_end import turn_pause
    return turn_pause


def build_engines(settings: Settings) -> Engines:
    """The process-wide engines for these settings (raises ConfigError on a missing key)."""
    settings.check_engines()
    key = _key(settings)
    if key in _CACHE:
        return _CACHE[key]
    from livekit.plugins import silero

    # 50 ms of speech starts an utterance: a barge-in pauses the agent at that moment (worker.call.barge_in)
    the_vad = silero.VAD.load(min_silence_duration=settings.vad_silence, min_speech_duration=0.05)
    names = {"vad": "silero", "stt": settings.engine("stt"), "llm": settings.engine("llm"), "tts": settings.engine("tts")}

    if names["stt"] == "deepgram":
        from livekit.plugins import deepgram

        the_stt: stt.STT = deepgram.STT(interim_results=True, api_key=settings.deepgram_api_key.get_secret_value())  # type: ignore[union-attr]
    elif names["stt"] == "instant":
        from worker.engines.instant import InstantSTT

        the_stt = InstantSTT(text="okay")  # a simulated caller tells it the words (`caller_words`)
    else:
        from worker.call.barge_in import means_go_on
        from worker.engines.whisper_models import ModelUnavailable, resolve_whisper_model
        from worker.engines.whisper_stt import WhisperSTT

        try:
            model_path = resolve_whisper_model(settings.whisper_model)
        except ModelUnavailable as exc:
            raise ConfigError(f"MB_WHISPER_MODEL={settings.whisper_model!r} cannot be used: {exc}.") from None
        the_stt = WhisperSTT(vad=_stt_vad(settings, the_vad), interim_interval=settings.stt_interim_interval,
                             cpu_threads=settings.whisper_threads, model_path=model_path,
                             model_name=settings.whisper_model, hints=settings.stt_hints,
                             turn_pause=_turn_pause(settings),
                             quiet_level=AUDIBLE_RMS if settings.stt_level_pause else None,
                             complete_pause=settings.stt_complete_pause, backchannel=means_go_on)
        the_stt.prewarm()  # here, in the process prewarm: not on the first call's event loop

    if names["llm"] == "openai":
        from livekit.plugins import openai

        the_llm: llm.LLM = openai.LLM(model=settings.openai_model, base_url=settings.openai_base_url,
                                      api_key=settings.openai_api_key.get_secret_value())  # type: ignore[union-attr]
    else:
        from worker.planner.llm import DeterministicPlanner

        the_llm = DeterministicPlanner(today=settings.today)

    if names["tts"] == "openai":
        from livekit.plugins import openai

        the_tts: tts.TTS = openai.TTS(voice=settings.openai_tts_voice, base_url=settings.openai_base_url,
                                      api_key=settings.openai_api_key.get_secret_value())  # type: ignore[union-attr]
    elif names["tts"] == "instant":
        from worker.engines.instant import InstantTTS

        the_tts = InstantTTS()
    else:
        from worker.engines.piper_tts import PiperTTS

        from worker.planner.stock_lines import stock_lines

        the_tts = PiperTTS(threads=settings.piper_threads)
        the_tts.prewarm(stock_lines())  # ~1-2 s once per process: stock first clauses play from memory

    from worker.reading.intents import warm_up

    warm_up()  # every caller turn is read with MiniLM, whichever LLM plans the replies
    engines = Engines(vad=the_vad, stt=the_stt, llm=the_llm, tts=the_tts, names=names)
    logger.info("engines: {}", ", ".join(f"{k}={v}" for k, v in names.items()))
    _CACHE[key] = engines
    return engines
