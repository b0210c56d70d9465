"""Instant engines: an STT and a TTS that answer at once, for load tests (`MB_STT=instant`, `MB_TTS=instant`).

Why they exist: a worker's CPU per call is the engines' cost plus the runtime's own (session
plumbing, VAD, state machine, reading, planner, tools, journal, trace). With engines that cost
nothing, what is left is the runtime alone, and `mediabloom bench concurrency --engines instant`
compares it with a bare livekit-agents `AgentSession` on the same engines. The tests' fake
engines are these too (`tests/support/fake_engines.py`), so a session test and a load test run
the same code. They are real livekit-agents engines written against the base classes (not
mocks), so the session's own streams, resampling and playout run unchanged.

- `InstantSTT` answers each utterance at once. What it "heard": when the code that plays the
  caller's audio says what the caller is saying (`caller_words()`, per call: a context
  variable, since one process shares its engines between its calls), the words said since
  its last answer; otherwise its fixed `text` (a load test on a real room, where nobody tells
  it the words). A second piece of one line (the VAD split it) gets "" (nothing new), as a
  recogniser would give no new words.
- `InstantTTS` "speaks" any text as a 440 Hz tone, at once: `seconds` long, or as long as the
  text would take to say (`SECONDS_PER_CHAR`, about 150 words a minute), so a call lasts
  about as long as with a real voice. Its rate is deliberately not the 24 kHz output's, so
  the session resamples as it does for Piper (22.05 kHz).
"""

from __future__ import annotations

from contextvars import ContextVar

import numpy as np
from livekit.agents import APIConnectOptions, stt, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr

__all__ = ["CallerWords", "InstantSTT", "InstantTTS", "SECONDS_PER_CHAR", "TTS_RATE", "caller_words"]

TTS_RATE = 22050
"""The tone's sample rate: Piper's, not the simulated output's 24 kHz, so the session resamples."""

SECONDS_PER_CHAR = 0.065
"""About 15 characters a second (~150 words a minute): how long a reply takes when spoken."""


class CallerWords:
    """What one call's caller is saying, told by whoever plays the caller's audio.

    `say(text)` when a line is about to be played; `take()` (by the STT, at the end of an
    utterance) returns every line told since the last `take()`, joined, or "" when none.
    """

    def __init__(self) -> None:
        self._pending: list[str] = []

    def say(self, text: str) -> None:
        if text.strip():
            self._pending.append(text.strip())

    def take(self) -> str:
        text, self._pending = " ".join(self._pending), []
        return text


_CALLER_WORDS: ContextVar[CallerWords | None] = ContextVar("mediabloom_caller_words", default=None)


def caller_words() -> CallerWords:
    """This call's `CallerWords`, created on first use in the current context.

    Call it in the task that runs the call, before the session starts: the session's tasks
    copy the context then, so the shared `InstantSTT` finds this call's words and no other's.
    """
    words = _CALLER_WORDS.get()
    if words is None:
        words = CallerWords()
        _CALLER_WORDS.set(words)
    return words


class InstantSTT(stt.STT):
    """Batch STT that answers at once (see the module docstring for what it answers)."""

    def __init__(self, text: str = "") -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self.text = text
        self.calls = 0

    @property
    def model(self) -> str:
        return "instant"

    def heard(self) -> str:
        """The words of the utterance that just ended."""
        words = _CALLER_WORDS.get()
        return self.text if words is None else words.take()

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        self.calls += 1
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language="en", text=self.heard(), confidence=1.0)],  # told the words: sure of them
        )


class InstantTTS(tts.TTS):
    """'Speaks' any text as a tone at once: `seconds` long, or by the text's length when None."""

    def __init__(self, seconds: float | None = None) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=TTS_RATE,
            num_channels=1,
        )
        self.seconds = seconds
        self.texts: list[str] = []

    @property
    def model(self) -> str:
        return "instant"

    def duration(self, text: str) -> float:
        """Seconds of tone for `text`."""
        return self.seconds if self.seconds is not None else max(0.3, len(text.strip()) * SECONDS_PER_CHAR)

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        self.texts.append(text)
        return _ToneStream(tts=self, input_text=text, conn_options=conn_options)


def tone(seconds: float, rate: int = TTS_RATE) -> np.ndarray:
    """A 440 Hz tone at half of full scale, int16."""
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 0.5 * 32767).astype(np.int16)


class _ToneStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        assert isinstance(self._tts, InstantTTS)
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=TTS_RATE,
            num_channels=1,
            mime_type="audio/pcm",
        )
        output_emitter.push(tone(self._tts.duration(self.input_text)).tobytes())
        output_emitter.flush()
