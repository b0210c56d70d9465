"""End of turn by meaning inside Whisper's stream: the parts `WhisperRecognizeStream` mixes in.

The stream (`worker.engines.whisper_stt`) transcribes the whole utterance at each 0.2 s pause
(its speculative final). With `WhisperSTT.turn_pause` set (the call's reading rule), the
speculative transcript says how much silence ends the turn: none (a finished turn ends there,
before the VAD's long end-of-speech silence), some (words that read finished but were left
unclosed: the turn ends once the caller has been silent that long), or None (the VAD's long
silence). Two refinements live here:

* a short utterance (under `SHORT_SPEECH_S` of speech: "Yes.", or "Hi," before a pause) ends
  by meaning only after `SHORT_PAUSE_S`, because Whisper mishears a lone word cut at a quick
  pause ("Hi" → "Bye.");
* after an early end the VAD is still inside its speech segment (its silence is the long one),
  so speech that comes back opens a new utterance itself, with the audio that re-opened it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import vad as agents_vad
from loguru import logger

from worker.engines.whisper_decode import SAMPLE_RATE

__all__ = ["COMPLETE_PAUSE_S", "SHORT_PAUSE_S", "SHORT_SPEECH_S", "EndByMeaning", "pause_when_finished"]

SHORT_SPEECH_S = 0.7
"""Utterances shorter than this (up to the pause) are "short" for the end-of-turn rule."""
SHORT_PAUSE_S = 0.45
"""The pause after which a short, finished-sounding utterance ends the turn."""
COMPLETE_PAUSE_S = 0.40
"""The least pause (heard by level or the VAD, `quiet_tail`) after which a finished-sounding utterance
ends the turn (`MB_STT_COMPLETE_PAUSE`). The transcript that judges it starts at 0.2 s of pause; before
the pause was heard by level it ended the turn as soon as it was ready, ~0.55-0.65 s into the pause
(the VAD's ~135 ms lag, then the decode), and a floor keeps comma pauses ("Oakland, and my budget",
"Sure, my policy") whole now that the transcript is ready sooner. Measured with `mediabloom bench
turns --modes rule --runs 1` (21 caller lines, 3 scenarios, hesitations with 0.4-0.7 s pauses), same
machine, back to back: 0.45 s → p50 522 / p95 631 ms at the ear, 0 cut-offs; 0.40 s → 467 / 568 and
471 / 580 in two runs, 0 cut-offs; 0.35 s → 425 / 687 with 1 cut-off in 21 (load 0.8-1.6)."""


def pause_when_finished(finished: Callable[[str], bool]) -> Callable[[str, str | None], float | None]:
    """A yes/no end-of-turn rule as a `turn_pause`: end at once when finished, else wait the VAD."""
    return lambda text, _expecting: 0.0 if finished(text) else None


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

    def _expecting(self) -> str | None:  # provided by the stream
        raise NotImplementedError

    def _judge(self, text: str, *, over_agent: bool = False) -> float | None:
        """The silence after `text` that ends the turn (None: the VAD's long silence); a
        backchannel said over the agent ends like a finished turn (`WhisperSTT.backchannel`)."""
        backchannel = self._whisper.backchannel
        if over_agent and backchannel is not None and backchannel(text):
            return 0.0
        judge = self._whisper.turn_pause
        return None if judge is None else judge(text, self._expecting())

    def _pause_ended(self, utt: Any) -> bool:
        """The caller has been silent long enough after the current speculative transcript:
        its `turn_pause`, and at least `SHORT_PAUSE_S` after a short utterance ("Yes.", or
        "Hi," before a pause: Whisper mishears a lone word cut at a quick pause, "Hi" → "Bye.").
        A finished long utterance ends when its transcript arrives, or here once the pause heard
        reaches `COMPLETE_PAUSE_S` if the transcript came sooner."""
        spec, pause = utt.spec_task, utt.spec_pause
        if pause is None or spec is None or not spec.done() or utt.spec_version != utt.version:
            return False
        if pause == 0 and utt.speech_s >= SHORT_SPEECH_S:  # ready before its floor (`COMPLETE_PAUSE_S`)
            return bool(utt.heard >= self._whisper.complete_pause and not spec.cancelled() and spec.exception() is None
                        and not spec.result().reshaped)
        if utt.speech_s < SHORT_SPEECH_S:
            pause = max(pause, SHORT_PAUSE_S)
        return bool(pause > 0 and utt.silence >= pause and not spec.cancelled() and spec.exception() is None)

