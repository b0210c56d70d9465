"""A part of the day named instead of a clock time ("in the morning, please"), and which clock
times fall in it (`worker.reading.times.part_of_day`, `in_part_of_day`)."""

from __future__ import annotations

import datetime as dt

import pytest

from worker.reading.times import in_part_of_day, part_of_day


@pytest.mark.parametrize(("said", "part"), [
    ("In the morning, please.", "morning"),
    ("the land will be in the morning please", "morning"),
    ("Something in the afternoon?", "afternoon"),
    ("Anything tonight?", "evening"),
    ("morning, no, sorry, afternoon", "afternoon"),
    ("Good morning, in the afternoon if you can.", "afternoon"),
    ("Good morning.", None),
    ("Good afternoon to you", None),
    ("11 AM works for me.", None),
    # a part ruled out is not the one asked for; a question with "n't" still asks for it
    ("Not in the morning, please.", None),
    ("I can't do the morning.", None),
    ("Not the morning, the afternoon.", "afternoon"),
    ("I don't want the evening, morning is better", "morning"),
    ("Isn't there anything in the morning?", "morning"),
    ("Don't you have anything in the afternoon?", "afternoon"),
])
def test_the_part_of_the_day_said(said: str, part: str | None) -> None:
    assert part_of_day(said) == part


def test_noon_is_neither_morning_nor_afternoon_and_five_starts_the_evening() -> None:
    assert [p for p in ("morning", "afternoon", "evening") if in_part_of_day(dt.time(12), p)] == []
    assert in_part_of_day(dt.time(11, 30), "morning") and not in_part_of_day(dt.time(11, 30), "afternoon")
    assert in_part_of_day(dt.time(12, 30), "afternoon") and in_part_of_day(dt.time(16, 59), "afternoon")
    assert in_part_of_day(dt.time(17), "evening") and not in_part_of_day(dt.time(17), "afternoon")
