"""Barge-in: pause first, decide after, and keep backchannels from becoming turns.

livekit-agents does the mechanics (`turn_handling.interruption` in `session_options`): when the
caller's voice has lasted `interrupt_min_duration` while the agent talks, the agent's audio is
*paused* (the output holds its playhead); a final transcript then interrupts the reply (it is
truncated at the playout position, in the chat context and the trace), while no transcript by
`false_interruption_timeout` after the caller's end of speech resumes it where it stopped.
That timeout has to outlast the recogniser (a real interruption whose words come late would
otherwise resume the reply, then cut it), so it is only the fallback: the recogniser's own
verdict, an empty or backchannel final, resumes the reply at once (`on_backchannel`).

With the pause made fast (a short minimum duration), the decision is what matters, and the
framework decides on "any final transcript". A caller who says "mm-hmm", "yeah" or "right"
while the agent talks, or coughs and gets transcribed as "(coughs)" or "you", means "go on".
:class:`BargeInFilter` sits on the STT's event stream (the agent's `stt_node`) and drops such
finals when the caller started speaking over a reply: with no transcript the framework resumes
the reply, and the backchannel never becomes a turn. Anything else the caller says over the
agent (a correction, a new request, "yes, yes, book it") goes through and interrupts.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator, Callable

from livekit.agents import stt
from loguru import logger

__all__ = ["BACKCHANNELS", "BargeInFilter", "is_backchannel", "means_go_on"]

BACKCHANNELS: frozenset[str] = frozenset({
    "mmhmm", "mhm", "mhmm", "mm", "mmm", "hmm", "hm", "uhhuh", "uh huh", "aha", "ah", "oh", "uh", "um",
    "yeah", "yep", "yup", "right", "okay", "ok", "alright", "all right", "sure", "i see", "got it",
    "cool", "great", "nice", "thanks", "thank you", "you",
})
"""Words that, said while the agent is speaking, mean "I'm listening, go on" (normalised: lower
case, letters and single spaces). "you" alone is Whisper's usual reading of a breath or noise."""

_HUM = re.compile(r"[mhn]*m[mhn]*")
"""A hum as Whisper spells it: "Mmmm", "NMM", "M.H.M." ("m h m"), letters m, h and n only.
Measured (`Whisper tiny.en`, "Mm-hmm." and "Mhm." in espeak-ng en-us and en-us+f3, flite slt and
awb, Piper): 5 of 10 read "MMHMM", "MHM" or "Mm mm"; the others "Mm-mm", "Mmmm", "NMM.", "M.H.M.".
No English word is spelled with these letters alone."""
_NO_HUM = re.compile(r"\bm+[-‐]m+\b", re.IGNORECASE)
""""Mm-mm" (two hums, no h) means "no", like "Uh-uh": it goes through, although Whisper also writes
an espeak-ng "Mm-hmm" so (one voice in five)."""
_THINKING = frozenset({"um", "uh", "oh", "ah", "hm", "hmm", "you"})
"""Backchannel words that may as well open a turn ("Um, actually Thursday"): not an acknowledgement."""

_NON_SPEECH = re.compile(r"^\s*([\[(*♪].*[\])*♪]\s*)+$")
"""Whisper's way of writing a sound it heard: "(coughs)", "[BLANK_AUDIO]", "*cough*", "♪"."""


def _normalise(text: str) -> str:
    text = re.sub(r"[-‐]", "", text.lower())
    return " ".join(re.findall(r"[a-z']+", text)).replace("'", "")


def is_backchannel(text: str) -> bool:
    """True for an empty transcript, a written sound, or backchannel words or hums only ("yeah, yeah",
    "Mm-mm")."""
    if not text.strip() or _NON_SPEECH.match(text):
        return True
    if _NO_HUM.search(text):
        return False
    words = _normalise(text)
    if not words:
        return True
    if words in BACKCHANNELS or _HUM.fullmatch(words.replace(" ", "")):  # "m h m": a hum spelled out
        return True
    parts = words.split()
    # "yeah yeah", "okay right", "mm hmm": each word (or a two-word backchannel) on its own
    i = 0
    while i < len(parts):
        if i + 1 < len(parts) and f"{parts[i]} {parts[i + 1]}" in BACKCHANNELS | {"mm hmm", "uh huh"}:
            i += 2
        elif parts[i] in BACKCHANNELS or _HUM.fullmatch(parts[i]):
            i += 1
        else:
            return False
    return True


def means_go_on(text: str) -> bool:
    """Said over the agent, `text` says "go on" and nothing more: no words at all (an empty
    transcript, a written sound: a breath, a cough), or acknowledgements ("Mm-hmm.", "Yeah, yeah.",
    "Okay."). Fillers and "you" ("Um," and "You know, ..." may open a turn) and words left open
    with a comma or a dash do not. Such an utterance ends at the short pause
    (`WhisperSTT.backchannel`), so the paused reply resumes sooner; if the caller goes on, the
    stream opens a new utterance."""
    stripped = text.strip()
    if not stripped or _NON_SPEECH.match(stripped):
        return True
    if stripped.endswith((",", "-", "—", "...", "…")) or not is_backchannel(stripped):
        return False
    words = _normalise(stripped).split()
    return bool(words) and not any(w in _THINKING for w in words)


class BargeInFilter:
    """Drops backchannel finals said over the agent from an STT event stream.

    `agent_talking()` says whether a reply is in progress (playing or paused); it is read when
    the caller's speech starts, so a backchannel that outlasts the reply is still dropped.
    `dropped` lists what was let pass, for tests and the trace; `on_backchannel` is called for each
    (the session resumes the paused reply then, instead of at its fallback timeout).
    """

    def __init__(self, agent_talking: Callable[[], bool], on_backchannel: Callable[[], None] | None = None) -> None:
        self._agent_talking = agent_talking
        self._on_backchannel = on_backchannel
        self._over_agent = False
        self.dropped: list[str] = []

    def keep(self, ev: stt.SpeechEvent) -> bool:
        """Whether `ev` goes on to the session."""
        if ev.type == stt.SpeechEventType.START_OF_SPEECH:
            self._over_agent = self._agent_talking()
            return True
        if ev.type not in (stt.SpeechEventType.FINAL_TRANSCRIPT, stt.SpeechEventType.INTERIM_TRANSCRIPT):
            return True
        over = self._over_agent or self._agent_talking()
        text = ev.alternatives[0].text if ev.alternatives else ""
        if not over or not is_backchannel(text):
            if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
                self._over_agent = False
            return True
        if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
            self._over_agent = False
            self.dropped.append(text)
            logger.info("caller backchannel over the agent, not a turn: {!r}", text)
            if self._on_backchannel is not None:
                self._on_backchannel()
        return False

    async def filter(self, events: AsyncIterable[stt.SpeechEvent | str]) -> AsyncIterator[stt.SpeechEvent | str]:
        async for ev in events:
            if isinstance(ev, str) or self.keep(ev):
                yield ev
