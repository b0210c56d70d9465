"""End of turn by meaning inside Whisper's stream: the parts `WhisperRecognizeStream` mixes in.

The stream (`worker.engines.whisper_stt`) transcribes the whole utterance at each 0.2 s pause
(its speculative final). With `WhisperSTT.end_of_turn` set (the call's reading rule), a
speculative transcript that reads as a finished turn ends the utterance there, before the VAD's
long end-of-speech silence. Two refinements live here:

* a short utterance (under `SHORT_SPEECH_S` of speech: "Yes.", or "Hi," before a pause) ends
  that way only after `SHORT_PAUSE_S`, because Whisper mishears a lone word cut at a quick pause
  ("Hi" → "Bye.");
* after an early end the VAD is still inside its speech segment (its silence is the long one),
  so speech that comes back opens a new utterance itself, with the audio that re-opened it.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import vad as agents_vad
from loguru import logger

from worker.engines.whisper_decode import SAMPLE_RATE

__all__ = ["SHORT_PAUSE_S", "SHORT_SPEECH_S", "EndByMeaning"]

SHORT_SPEECH_S = 0.7
"""Utterances shorter than this (up to the pause) are "short" for the end-of-turn rule."""
SHORT_PAUSE_S = 0.45
"""The pause after which a short, finished-sounding utterance ends the turn."""


class EndByMeaning:
    """Mixed into `WhisperRecognizeStream` (which provides `_whisper`, `_open` and the utterance)."""

    _whisper: Any
    _ended_early: bool
    _recent: deque[np.ndarray]

    def _open(self, frames: list[rtc.AudioFrame], ago: float) -> None:  # provided by the stream
        raise NotImplementedError

    def _reopen_if_speaking(self, ev: agents_vad.VADEvent) -> None:
        """After an early end the VAD never left its speech segment: new speech re-opens one."""
        self._recent.extend(np.frombuffer(f.data, dtype=np.int16).copy() for f in ev.frames)
        if ev.raw_accumulated_speech < 0.1:
            return
        keep = int((ev.raw_accumulated_speech + 0.1) * SAMPLE_RATE)
        audio = np.concatenate(list(self._recent))[-keep:]
        self._recent.clear()
        self._ended_early = False
        logger.debug("caller went on after an early end of turn: new utterance")
        self._open([rtc.AudioFrame(audio.tobytes(), SAMPLE_RATE, 1, audio.size)], audio.size / SAMPLE_RATE)

    def _short_turn_ended(self, utt: Any) -> bool:
        """A short utterance ("Yes.", or "Hi," before a pause) ends by meaning only after
        `SHORT_PAUSE_S`: Whisper mishears a lone word cut at a quick pause ("Hi" → "Bye.")."""
        judge, spec = self._whisper.end_of_turn, utt.spec_task
        return (judge is not None and spec is not None and spec.done() and not spec.cancelled()
                and spec.exception() is None and utt.spec_version == utt.version
                and utt.speech_s < SHORT_SPEECH_S and utt.silence >= SHORT_PAUSE_S and judge(spec.result().text))

