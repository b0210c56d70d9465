"""Whisper's word probabilities: each written word with the decoder's probability of it.

They ride on livekit's standard `stt.SpeechData.words` (`TimedString.confidence`) and let the
state machine judge a name by its own words (`tests/flow/test_name_span_confidence.py`). The
real-audio check is the scenario line that started it: "Hi, my name is, um, Dana Lee."
(espeak-ng, `scenarios/long_sentences.yaml`), whose turn confidence the "Hi," and the commas
pull down to around the flow's 0.75 while the name alone stays over `low_word_confidence`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from livekit.agents import stt

from tests.engines.helpers import WordTokenizer
from tests.support.dates import SCENARIO_TODAY
from worker.call.heard_words import HeardWords
from worker.engines.whisper_stt import WhisperSTT
from worker.engines.whisper_words import token_logprobs, words_of
from worker.flow.library import load_flow
from worker.flow.machine import AgentSpoke, ConversationMachine, ToolFinished, ToolProposed
from worker.reading.turn import read_caller_turn, read_turn
from worker.simulate.caller_lines import voice_line


def test_a_words_probability_is_the_product_of_its_tokens_without_its_punctuation() -> None:
    tok = WordTokenizer()
    tokens = [tok.encode(t)[0] for t in (" Hi", ",", " Dana", " Wh", "itfield", ".")]
    logprobs = [math.log(p) for p in (0.8, 0.5, 0.6, 0.9, 0.5, 0.4)]
    words = words_of(tok, tokens, logprobs)
    assert [w.text for w in words] == ["Hi,", "Dana", "Whitfield."]
    assert [round(w.probability, 3) for w in words] == [0.8, 0.6, 0.45]
    assert words_of(tok, tokens, logprobs[:3]) == ()  # scores missing: unknown, not guessed


def test_token_logprobs_are_the_log_softmax_of_the_step_at_the_chosen_token() -> None:
    rows = [np.array([0.0, math.log(3.0), -np.inf], dtype=np.float32)]
    assert token_logprobs(rows, [1]) == pytest.approx([math.log(0.75)], abs=1e-6)


@pytest.mark.parametrize("lead_s", [0.0, 0.1, 0.2])
async def test_dana_lee_after_an_um_is_heard_well_word_by_word_and_not_read_back(
    shipped_stt: WhisperSTT, lead_s: float
) -> None:
    pcm, rate = voice_line("Hi, my name is, um, [pause 0.6] Dana Lee.", "espeak-ng:en-us")
    audio = np.concatenate([np.zeros(int(lead_s * rate), np.float32), pcm.astype(np.float32) / 32768.0,
                            np.zeros(rate // 2, np.float32)])
    result = await shipped_stt.transcribe(audio, expecting="name")
    data = shipped_stt.speech_data(result, 0.0, audio.size / rate)
    assert data.words is not None and [str(w) for w in data.words] == data.text.split(), data.text
    assert all(0.0 < float(w.confidence) <= 1.0 for w in data.words)  # type: ignore[arg-type]
    # engine → session's final → the call's committed turn → the machine
    heard = HeardWords()
    heard.add(stt.SpeechEvent(type=stt.SpeechEventType.FINAL_TRANSCRIPT, alternatives=[data]))
    machine = ConversationMachine(load_flow("real_estate"))
    machine.apply(AgentSpoke(text=machine.flow.greeting))
    turn = read_caller_turn(data.text, SCENARIO_TODAY)
    machine.apply(turn.model_copy(update={"confidence": data.confidence, "word_confidence": heard.take(data.text)}))
    name = read_turn(data.text, SCENARIO_TODAY).slots("name").name
    assert name == "Dana Lee", data.text
    machine.propose(ToolProposed(call_id="s", tool="save_caller_details", args={"name": name}))
    machine.apply(ToolFinished(call_id="s", ok=True, result={}))
    confidence, threshold = machine.value_confidence(name)
    assert confidence is not None and confidence >= threshold + 0.05, (data.text, confidence)
    assert machine.directive()["read_back"] is None and machine.s.confirmed_values["name"] == name
