"""Decoding biased by the question asked: the slot prompt, the numeric vocabulary, and the
names of the models the settings accept."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from worker.engines.whisper_decode import Transcript, dictates_number, goes_on_after_number, said_once
from worker.engines.whisper_digits import DIGIT_SHAPES
from worker.engines.whisper_hints import EXPECTED_ANSWER, SLOT_PROMPTS, ExpectedAnswer, decode_hint, offered_prompt, slot_asked
from worker.engines.whisper_models import ModelUnavailable, resolve_whisper_model
from worker.engines.whisper_stt import WhisperSTT
from worker.simulate.voices import Voice, speak


def test_hints_exist_for_digit_questions_only_where_asked() -> None:
    assert decode_hint("phone") == SLOT_PROMPTS["phone"]
    assert decode_hint("card_number") and decode_hint("policy_number")
    assert decode_hint(None) is None and decode_hint("goodbye") is None


def test_numeric_vocabulary_keeps_digit_words_and_carrier_words_only(whisper: WhisperSTT) -> None:
    t = whisper.transcriber
    suppressed = set(t.numeric_suppress())
    tok = t._tokenizer
    for kept in (" five", " oh", " double", " number", ","):
        assert not set(tok.encode(kept)) & suppressed, kept
    for dropped in (" fine", " Alzheimer", " free", " 415", "5"):
        assert tok.encode(dropped)[0] in suppressed, dropped


def test_numeric_decoding_spells_the_number_out(whisper: WhisperSTT) -> None:
    audio = speak(Voice(engine="flite", name="slt"), "My number is four one five, five five five, oh one nine two.")
    heard = whisper.transcriber.transcribe(audio, numeric=True, prompt=decode_hint("phone")).text
    words = [w.strip(",.-?").lower() for w in heard.split()]
    digit_words = {"zero", "oh", "o", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
    assert sum(w in digit_words for w in words) >= 8, heard
    assert not any(ch.isdigit() for ch in heard), heard
    assert all(w in digit_words or w in {"my", "number", "is", "double", ""} for w in words), heard


def test_an_answer_that_is_not_a_number_keeps_the_free_decode(whisper: WhisperSTT) -> None:
    audio = speak(Voice(engine="flite", name="slt"), "Could I just speak with a person instead?")
    heard = whisper.transcriber.transcribe(audio, numeric=True, prompt=decode_hint("phone")).text
    assert "person" in heard.lower(), heard


def test_words_after_the_number_keep_the_free_decode(whisper: WhisperSTT) -> None:
    """Said right after the number, before the agent answered: the numeric vocabulary cannot
    write "date of birth is March" and ended the transcript at "... and my"; the whole answer is
    heard."""
    audio = speak(Voice(engine="piper", name="joe"), "My policy number is 4 8 2 1, and my date of birth is March 12th, 1984.")
    heard = whisper.transcriber.transcribe(audio, numeric=True, prompt=decode_hint("policy_number")).text
    assert "march" in heard.lower() and "1984" in heard, heard


def test_a_date_said_when_a_number_was_asked_keeps_the_free_decode(whisper: WhisperSTT) -> None:
    """The numeric vocabulary cannot spell "March 12th, 1984" out: its decode ("The") is dropped."""
    audio = speak(Voice(engine="espeak-ng", name="en-us"), "March 12th, 1984.")
    heard = whisper.transcriber.transcribe(audio, numeric=True, prompt=decode_hint("policy_number")).text
    assert "1984" in heard, heard


def test_an_answer_after_a_little_silence_is_written_once(whisper: WhisperSTT) -> None:
    """A caller going on right after a pause: the new utterance starts with ~0.1 s of quiet, and
    with the policy prompt Whisper tiny wrote "My policy number is 4821." twice."""
    speech = speak(Voice(engine="piper", name="joe"), "My policy number is 4 8 2 1.")
    audio = np.concatenate([np.zeros(1600, np.float32), speech, np.zeros(3200, np.float32)])
    heard = whisper.transcriber.transcribe(audio, numeric=True, prompt=decode_hint("policy_number")).text
    assert heard.lower().count("policy") == 1, heard


def test_said_once() -> None:
    assert said_once("My policy number is 4821. My policy number is 4821.") == "My policy number is 4821."
    assert said_once("It's the one on Grand, it's the one on Grand") == "It's the one on Grand"
    for kept in ("five five five, five five five", "Yes, yes.", "Two PM works for me.", "no no no no no no"):
        assert said_once(kept) == kept


def test_goes_on_after_number() -> None:
    assert goes_on_after_number("My policy number is 4821 and my date of birth is March 12, 1984.")
    assert goes_on_after_number("four one five, and I'm looking in Oakland, California")
    assert goes_on_after_number("My policy number is for eight two one and my date of birth is March 12, 1984.")
    for dictated in ("Sure, my policy number is 4821.", "It's 510-482-7391, thanks.", "Okay. My card is 4539 1488.",
                     "four five three nine, one four eight eight", "Can I talk to a person?"):
        assert not goes_on_after_number(dictated), dictated


def test_dictates_number() -> None:
    assert dictates_number("four one five, 555") and dictates_number("415") and dictates_number("double five oh")
    assert not dictates_number("Can I talk to a person?") and not dictates_number("yes, one moment")


def test_prompt_tokens_put_the_hint_before_the_start_of_transcript(whisper: WhisperSTT) -> None:
    t = whisper.transcriber
    plain = t.prompt_tokens(None)
    hinted = t.prompt_tokens(SLOT_PROMPTS["phone"])
    assert hinted[-len(plain):] == plain and len(hinted) > len(plain) + 5


def test_model_names_resolve_or_say_what_is_missing(tmp_path: Path) -> None:
    assert (Path(resolve_whisper_model("tiny.en")) / "model.bin").is_file()
    assert resolve_whisper_model(None) == resolve_whisper_model("tiny.en")
    with pytest.raises(ModelUnavailable, match="CTranslate2 model directory"):
        resolve_whisper_model(str(tmp_path))


def test_slot_asked_reads_the_agents_question() -> None:
    assert slot_asked("What's the best phone number to reach you?") == "phone"
    assert slot_asked("Could you read me the card number?") == "card_number"
    assert slot_asked("Which card would you like to pay with? Please read me the number.") == "card_number"
    assert slot_asked("And your policy number?") == "policy_number"
    assert slot_asked("I have your phone number.") is None  # not a question
    assert slot_asked("Anything else I can help with?") is None


def test_the_agents_offer_of_times_is_the_prompt_for_a_time() -> None:
    offer = "Let me check the calendar. On Friday, November 27 I have 10 AM, 11 AM, 12:30 PM and 2 PM. " \
            "Which time works for you?"
    assert offered_prompt(offer, "time") == offer.split("calendar. ")[1]
    assert offered_prompt("The next free time is 3 PM. Would that work?", "time") == \
        "The next free time is 3 PM. Would that work?"
    assert offered_prompt("Which time would you like, for example 10 AM?", "time") is None  # an example, no offer
    assert offered_prompt("Which time works for you?", "time") is None  # the fixed example stands
    assert offered_prompt(offer, "date") is None and offered_prompt("I have 4 1 5 5. Is that right?", "phone") is None


def test_an_offer_stands_while_its_question_is_asked_again_in_other_words() -> None:
    expected = ExpectedAnswer()
    offer = "On Friday I have 10 AM, 11 AM and 2 PM. Which time works for you?"
    expected.asked("time", offer)
    expected.asked("time", "Sorry, I didn't quite get that. Which time would you like, for example 10 AM?")
    assert expected.slot == "time" and expected.prompt == offer.split(". ")[0] + ". Which time works for you?"
    expected.asked("name", "Could I get your name, first and last?")
    assert expected.prompt is None  # another question: the offer is gone
    expected.asked("time", "Which time works for you?")
    assert expected.prompt is None  # asked without an offer (and none before it)


async def test_a_stream_decodes_with_the_answer_its_call_expects(whisper: WhisperSTT) -> None:
    """The call's holder reaches the stream through EXPECTED_ANSWER; each decode reads its slot."""
    hinted = WhisperSTT(vad=whisper._vad, hints=True)
    seen: list[dict[str, object]] = []

    def fake_transcribe(audio: object, **kwargs: object) -> Transcript:
        seen.append(kwargs)
        return Transcript("415 555 0192")

    hinted.transcriber.transcribe = fake_transcribe  # type: ignore[method-assign]
    expected = ExpectedAnswer()
    token = EXPECTED_ANSWER.set(expected)
    try:
        stream = hinted.stream()
    finally:
        EXPECTED_ANSWER.reset(token)
    try:
        assert stream._expecting() is None
        expected.slot = "phone"
        assert stream._expecting() == "phone"
        await hinted.transcribe(np.zeros(1600, np.float32), expecting=stream._expecting())
        await hinted.transcribe(np.zeros(1600, np.float32), expecting="name")
        expected.slot, expected.prompt = "time", "10 AM or 2 PM."
        await hinted.transcribe(np.zeros(1600, np.float32), expecting=stream._expecting(), offered=stream._offered())
    finally:
        await stream.aclose()
    assert seen[2]["prompt"] == "10 AM or 2 PM."  # the offered times, not the fixed example
    assert seen[0]["numeric"] is True and seen[0]["prompt"] == SLOT_PROMPTS["phone"]
    assert seen[1]["numeric"] is False and seen[1]["prompt"] == SLOT_PROMPTS["name"]
    assert seen[0]["digits"] == DIGIT_SHAPES["phone"] and seen[1]["digits"] is None  # the phone's length


async def test_without_hints_the_decoder_is_not_biased(whisper: WhisperSTT) -> None:
    seen: list[dict[str, object]] = []
    plain = WhisperSTT(vad=whisper._vad, hints=False)
    plain.transcriber.transcribe = lambda audio, **kw: seen.append(kw) or Transcript("")  # type: ignore[method-assign]
    await plain.transcribe(np.zeros(1600, np.float32), expecting="phone")
    assert seen == [{"retry_loops": True, "prompt": None, "numeric": False, "digits": None, "stale": None}]


def test_base_is_joined_from_its_two_package_parts_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = Path(resolve_whisper_model("base"))
    assert first.parent == tmp_path / "mediabloom"
    assert (first / "model.bin").stat().st_size == 145_217_532
    assert {p.name for p in first.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    stamp = (first / "model.bin").stat().st_mtime_ns
    assert Path(resolve_whisper_model("base")) == first
    assert (first / "model.bin").stat().st_mtime_ns == stamp  # not joined again
    assert [p.name for p in (tmp_path / "mediabloom").iterdir()] == [first.name]  # no half-joined leftovers


_DIGIT_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_NOT_NAMES = {"My", "The", "I", "It", "On", "At", "P", "O", "L", "AM", "PM", "June", "October", "Tuesday"}


def _digit_runs(text: str) -> set[str]:
    """Runs of digits, spelled ("four one five, five ...") or written ("1984", "POL-4821")."""
    runs, run = set(), ""
    for token in re.findall(r"[A-Za-z]+|\d+|[^\sA-Za-z\d]", text):
        digits = _DIGIT_WORDS.get(token.lower()) or (token if token.isdigit() else None)
        if digits is not None:
            run += digits
        elif token.isalpha() or token in ".:/":
            if run:
                runs.add(run)
            run = ""
    return runs | ({run} if run else set())


def test_the_examples_hold_no_value_a_test_caller_says() -> None:
    """A prompt holding the shipped callers' facts (their name, policy, birth date) makes exactly
    those callers sound well heard: the figures would measure the examples, not the decoder."""
    from tests.support.hearing_set import hearing_lines

    root = Path(__file__).resolve().parents[2]
    corpus = "\n".join(p.read_text() for p in sorted((root / "scenarios").glob("*.yaml")))
    corpus += (root / "tools" / "sandbox" / "seed.py").read_text()
    corpus += "\n".join(f"{line.say}\n{line.value}" for line in hearing_lines())
    words = {w.lower() for w in re.findall(r"[A-Za-z]+", corpus)}
    fact_runs = {r for r in _digit_runs(corpus) if len(r) >= 4}
    for slot, prompt in SLOT_PROMPTS.items():
        names = {w for w in re.findall(r"\b[A-Z][a-z]*\b", prompt) if w not in _NOT_NAMES}
        if slot == "spelling_words":  # the spelling alphabet's key words are public; the word spelled is not
            names = {"".join(re.findall(r"\b([A-Z]) as in", prompt))}
        assert not {n for n in names if n.lower() in words}, (slot, prompt)
        if slot.startswith("card"):
            continue  # the card example is the networks' public test number, not a caller's card
        for run in (r for r in _digit_runs(prompt) if len(r) >= 4):
            assert not [f for f in fact_runs if run in f or f in run], (slot, prompt, run)


def test_a_spelling_question_with_a_word_per_letter_gets_a_key_word_prompt() -> None:
    # "M as in Mike, E as in Echo, ...": with no prompt tiny.en wrote "I'm in my opinion, I'm in November"
    asked = "I'm sorry, I may have your name wrong. Could you spell it for me with a word for each letter, like D as in Delta?"
    assert slot_asked(asked) == "spelling_words"  # not "name": the answer is letters, not "My name is ..."
    assert decode_hint("spelling_words") == SLOT_PROMPTS["spelling_words"]
    assert " as in " in SLOT_PROMPTS["spelling_words"]
    assert slot_asked("Sorry, I still don't have it. Could you spell it once more, letter by letter?") is None
