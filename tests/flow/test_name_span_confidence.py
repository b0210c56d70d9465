"""A name is read back on the confidence of its own words, not of the whole turn.

The real-estate flow reads a name back `when: low_confidence`. The turn's confidence mixes the
"Hi", the "um" and the commas around the name with the name itself, so a clear name after a
hesitation was read back and a mangled name inside a clear sentence was not. With word
confidences (Whisper's word probabilities, `CallerTurn.word_confidence`) the mean of the
name's own words decides, against the flow's `low_word_confidence`; without them (another STT,
a name said in an earlier turn) the turn's confidence against `low_confidence`, as before;
typed text has neither and is never read back.
"""

from __future__ import annotations

from tests.flow.test_machine import run_tool
from worker.flow.library import load_flow
from worker.flow.machine import AgentSpoke, CallerTurn, ConversationMachine
from worker.flow.repair import heard_words


def _named(text: str, name: str, confidence: float | None, words: list[float] | None) -> ConversationMachine:
    m = ConversationMachine(load_flow("real_estate"))
    m.apply(AgentSpoke(text=m.flow.greeting))
    m.apply(CallerTurn(text=text, confidence=confidence, word_confidence=words))
    run_tool(m, "save_caller_details", {"name": name})
    return m


def _read_back(m: ConversationMachine) -> bool:
    rb = m.directive()["read_back"]
    return rb is not None and rb["slot"] == "name"


def test_a_clear_name_after_a_hesitation_is_not_read_back() -> None:
    # the turn is under the flow's 0.75 because of "Hi," and "um,", the name's words are not
    text = "Hi, my name is, um, Dana Lee."
    m = _named(text, "Dana Lee", 0.62, [0.70, 0.95, 0.99, 0.99, 0.15, 0.62, 0.95])
    assert m.s.last_caller_confidence is not None and m.s.last_caller_confidence < m.flow.low_confidence
    assert not _read_back(m)
    assert m.s.confirmed_values["name"] == "Dana Lee"


def test_a_name_heard_badly_in_a_clear_sentence_is_read_back() -> None:
    text = "Hi there, my name is Carlos Maine Des, and I'm calling about a house."
    words = [0.98, 0.97, 0.99, 0.99, 0.99, 0.60, 0.35, 0.30, 0.97, 0.99, 0.99, 0.99, 0.98, 0.99]
    m = _named(text, "Carlos Maine Des", 0.90, words)
    assert m.s.last_caller_confidence is not None and m.s.last_caller_confidence >= m.flow.low_confidence
    assert _read_back(m)
    assert "name" not in m.s.confirmed_values
    assert m.directive()["read_back"]["question"] == "I have your name as Carlos Maine Des. Is that right?"


def test_the_mean_of_the_names_words_decides() -> None:
    # one unsure word of a clear name (a first name's first token carries the prior over all
    # names) does not decide alone: 0.40 and 0.95 average over the flow's 0.55
    assert not _read_back(_named("It's Dana Lee.", "Dana Lee", 0.80, [0.99, 0.40, 0.95]))
    assert _read_back(_named("It's Dana Lee.", "Dana Lee", 0.80, [0.99, 0.40, 0.60]))


def test_without_word_confidences_the_turns_confidence_decides_as_before() -> None:
    text = "Hi, my name is, um, Dana Lee."
    assert _read_back(_named(text, "Dana Lee", 0.62, None))
    assert not _read_back(_named(text, "Dana Lee", 0.90, None))
    # word confidences that do not line up with the text are none
    assert _read_back(_named(text, "Dana Lee", 0.62, [0.99, 0.99]))
    # typed text: neither, nothing is read back
    assert not _read_back(_named(text, "Dana Lee", None, None))


def test_a_name_said_in_an_earlier_turn_falls_back_to_the_turns_confidence() -> None:
    m = ConversationMachine(load_flow("real_estate"))
    m.apply(CallerTurn(text="I'm looking in Oakland.", confidence=0.6, word_confidence=[0.9, 0.9, 0.9, 0.5]))
    run_tool(m, "save_caller_details", {"name": "Dana Lee", "area": "Oakland"})
    assert _read_back(m)


def test_a_name_cut_short_by_the_reading_is_as_unsure_as_the_rest_of_its_clause() -> None:
    # "Kevin Nguyen" heard as "Kevin and GUIN": the name read is "Kevin", heard well on its own
    text = "This is Kevin and GUIN. Thanks."
    assert _read_back(_named(text, "Kevin", 0.67, [0.99, 0.99, 0.98, 0.30, 0.05, 0.99]))
    # a clause that goes on clearly after the name keeps it clear
    assert not _read_back(_named("This is Kevin and I'm calling.", "Kevin", 0.7, [0.99, 0.99, 0.6, 0.9, 0.95, 0.9]))


def test_the_machine_keeps_the_turns_words_without_numbers_and_never_dumps_them() -> None:
    heard = heard_words("My card is 4242 4242, Dana-Lee O'Neil.", [0.9, 0.8, 0.7, 0.1, 0.2, 0.6, 0.5])
    assert heard == {"my": [0.9, 0.8, 0.7, 0.1, 0.2], "card": [0.8, 0.7, 0.1, 0.2], "is": [0.7, 0.1, 0.2],
                     "dana-lee": [0.6, 0.5], "o'neil": [0.5]}
    assert heard_words("two words", [0.5]) == {}
    m = _named("It's Dana Lee.", "Dana Lee", 0.8, [0.99, 0.9, 0.95])
    assert m.s.last_caller_words == {"it's": [0.99, 0.9, 0.95], "dana": [0.9, 0.95], "lee": [0.95]}
    assert "last_caller_words" not in m.s.model_dump()
