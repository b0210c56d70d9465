"""The multi-voice recognition set is sound before any voice speaks it: every line's words
(what the synthesiser says) and its reference transcript read to the expected value, and
the WER normalisation scores the two as identical. A recogniser's errors are then its own."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.hearing_score import read_value, wer_counts, words_for_wer
from tests.support.hearing_set import KINDS, hearing_lines

LINES = hearing_lines()


def test_the_set_covers_every_kind_with_over_a_hundred_lines() -> None:
    counts = Counter(line.kind for line in LINES)
    assert len(LINES) >= 100
    assert set(counts) == set(KINDS) and min(counts.values()) >= 10
    assert len({line.id for line in LINES}) == len(LINES)
    assert hearing_lines() == LINES  # drawn from a fixed seed


def test_phone_lines_say_oh_and_double() -> None:
    said = " ".join(line.say for line in LINES if line.kind.startswith("phone"))
    assert " oh " in said and "double " in said


@pytest.mark.parametrize("line", LINES, ids=lambda line: line.id)
def test_each_line_reads_to_its_value_from_its_words_and_its_reference(line) -> None:  # type: ignore[no-untyped-def]
    assert read_value(line, line.say) == line.value
    assert read_value(line, line.text) == line.value
    assert wer_counts(line.text, line.say) == (0, len(words_for_wer(line.text)))


def test_wer_counts_digit_errors() -> None:
    assert wer_counts("My number is 415 555 0192.", "My number is 415 555 192.") == (1, 13)
    assert wer_counts("My number is 415 555 0192.", "By number is four one five five five five oh one nine two") == (1, 13)
