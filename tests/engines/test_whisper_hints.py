"""Decoding biased by the question asked: the slot prompt, the numeric vocabulary, and the
names of the models the settings accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.engines.whisper_hints import SLOT_PROMPTS, decode_hint
from worker.engines.whisper_models import ModelUnavailable, resolve_whisper_model
from worker.engines.whisper_stt import WhisperSTT
from worker.simulate.voices import Voice, speak


def test_hints_exist_for_digit_questions_only_where_asked() -> None:
    assert decode_hint("phone") == SLOT_PROMPTS["phone"]
    assert decode_hint("card_number") and decode_hint("policy_number")
    assert decode_hint(None) is None and decode_hint("goodbye") is None


def test_numeric_vocabulary_keeps_digits_and_carrier_words_and_drops_homophones(whisper: WhisperSTT) -> None:
    t = whisper.transcriber
    suppressed = set(t.numeric_suppress())
    tok = t._tokenizer
    for kept in (" 415", "5", " five", " oh", " double", " number", ","):
        assert not set(tok.encode(kept)) & suppressed, kept
    for dropped in (" fine", " Alzheimer", " free"):
        assert tok.encode(dropped)[0] in suppressed, dropped


def test_numeric_decoding_writes_only_digits_and_carrier_words(whisper: WhisperSTT) -> None:
    audio = speak(Voice(engine="flite", name="slt"), "My number is four one five, five five five, oh one nine two.")
    heard = whisper.transcriber.transcribe(audio, numeric=True, prompt=decode_hint("phone")).text
    words = [w.strip(",.-").lower() for w in heard.split()]
    assert sum(ch.isdigit() for ch in heard) >= 8, heard
    assert all(w.replace("-", "").isdigit() or w in {"my", "number", "is", "oh", ""} for w in words), heard


def test_prompt_tokens_put_the_hint_before_the_start_of_transcript(whisper: WhisperSTT) -> None:
    t = whisper.transcriber
    plain = t.prompt_tokens(None)
    hinted = t.prompt_tokens("My number is 415-555-0192.")
    assert hinted[-len(plain):] == plain and len(hinted) > len(plain) + 5


def test_model_names_resolve_or_say_what_is_missing(tmp_path: Path) -> None:
    assert (Path(resolve_whisper_model("tiny.en")) / "model.bin").is_file()
    assert resolve_whisper_model(None) == resolve_whisper_model("tiny.en")
    with pytest.raises(ModelUnavailable, match="CTranslate2 model directory"):
        resolve_whisper_model(str(tmp_path))
