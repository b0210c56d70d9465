"""Text checks on a decode (`worker.engines.whisper_text`): a number with a repeated digit is
not a repetition loop.

Why: "three zero three, five five five, five five zero nine" holds five fives in a row; the
loop guard took it for Whisper repeating itself, threw the right decode away and retried on a
30 s window, which heard "303-555509." (multi-voice bench, flite voices).
"""

from __future__ import annotations

import pytest

from worker.engines.whisper_text import is_looping


@pytest.mark.parametrize("text", [
    "three zero three five five five five five five zero nine",  # 303 555 5509, run together
    "3 0 3 5 5 5 5 5 5 0 9",
    "nine two five, five five five, five five five five.",
    "four four four four, four four four four, one two three four",
])
def test_a_number_with_a_repeated_digit_is_not_a_loop(text: str) -> None:
    assert not is_looping(text)


@pytest.mark.parametrize("text", [
    "five " * 14,  # longer than any number's run of one digit: a runaway loop
    "5 5 5 5 5 5 5 5 5 5 5 5",
    "one two, one two, one two, one two",
    "Bye. Bye. Bye. Bye.",
])
def test_loops_are_still_loops(text: str) -> None:
    assert is_looping(text)
