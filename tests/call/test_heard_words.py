"""The STT's word confidences reach the state machine with the committed turn.

livekit-agents 1.8.9 keeps `stt.SpeechData.words` out of the committed `ChatMessage` (text and
one mean `transcript_confidence` only), so the call takes them from the finals its STT node saw
(`worker.call.heard_words`) and hands them to the machine's `CallerTurn.word_confidence`.
"""

from __future__ import annotations

from livekit.agents import llm, stt
from livekit.agents.types import TimedString

from tests.call.test_caller_confidence import _call
from worker.call.conversation import Conversation
from worker.call.heard_words import HeardWords
from worker.call.records import CallEventRecord
from worker.flow.machine import CallerTurn


def _final(text: str, confidences: list[float] | None) -> stt.SpeechEvent:
    words = None if confidences is None else [TimedString(w, confidence=c) for w, c in zip(text.split(), confidences)]
    return stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                           alternatives=[stt.SpeechData(language="en", text=text, words=words)])


def test_a_turns_finals_give_one_confidence_per_word_of_its_text() -> None:
    heard = HeardWords()
    heard.add(_final("Hi, my name is,", [0.7, 0.9, 1.0, 0.9]))
    heard.add(stt.SpeechEvent(type=stt.SpeechEventType.INTERIM_TRANSCRIPT,
                              alternatives=[stt.SpeechData(language="en", text="Dana")]))
    heard.add(_final("Dana Lee.", [0.5, 0.95]))
    heard.add(_final("And my number", [0.9, 0.9, 0.9]))  # the next turn's, early
    assert heard.take("Hi, my name is, Dana Lee.") == [0.7, 0.9, 1.0, 0.9, 0.5, 0.95]
    assert heard.take("And my number") == [0.9, 0.9, 0.9]
    assert heard.take("And my number") is None


def test_a_turn_whose_finals_lack_word_confidences_has_none() -> None:
    heard = HeardWords()
    heard.add(_final("Hi, my name is,", None))
    heard.add(_final("Dana Lee.", [0.5, 0.95]))
    assert heard.take("Hi, my name is, Dana Lee.") is None
    heard.add(_final("Dana Lee.", [0.5]))  # words that do not line up with the text
    assert heard.take("Dana Lee.") is None
    assert HeardWords().take("typed text") is None


async def test_the_word_confidences_reach_the_machine_and_the_journal() -> None:
    call = _call()
    text = "Hi, my name is, um, Dana Lee."
    confidences = [0.7, 0.95, 0.99, 0.99, 0.15, 0.62, 0.95]
    call.heard.add(_final(text, confidences))
    msg = llm.ChatMessage(role="user", content=[text])
    msg.transcript_confidence = 0.62
    await Conversation.caller_turn(call, msg)
    assert call.machine.s.last_caller_words["dana"] == [0.62, 0.95]
    [record] = [CallEventRecord.model_validate(p) for p in call.journal.records]
    assert isinstance(record.event, CallerTurn) and record.event.word_confidence == confidences
    # a keyed turn's digits never take a spoken turn's words
    call.heard.add(_final("4 1 5", [0.9, 0.9, 0.9]))
    await Conversation.caller_turn(call, llm.ChatMessage(role="user", content=["4 1 5"]), keyed=True)
    assert call.machine.s.last_caller_words == {}
