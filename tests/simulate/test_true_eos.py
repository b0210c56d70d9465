"""A turn's end at the caller's ear comes from the caller line it belongs to, whatever the line's
length, its pauses or its quiet tail (no window around the VAD's end of speech)."""

from __future__ import annotations

from pathlib import Path

from worker.settings import load_settings
from worker.simulate.runner import SimulatedCall, line_of
from worker.simulate.scenario import load_scenario
from worker.trace.records import CallerPart
from worker.transport import CallerUtterance

ROOT = Path(__file__).resolve().parents[2]


def _call(tmp_path: Path, lines: list[CallerUtterance]) -> SimulatedCall:
    call = SimulatedCall(load_scenario(ROOT / "scenarios" / "long_sentences.yaml"),
                         load_settings(data_dir=tmp_path / "data"), tmp_path)
    call.utterances = lines
    return call


def _turn(start: float, end: float) -> CallerPart:
    return CallerPart(final_transcript="...", speech_started_at=start, speech_ended_at=end)


# a long hesitant line: words with pauses, then a long quiet tail in its buffer
HESITANT = CallerUtterance(start=10.0, end=21.0, duration=11.0, audible_start=10.1, audible_end=19.2,
                           audible=((10.1, 11.0), (11.8, 14.6), (15.4, 19.2)))
SHORT = CallerUtterance(start=30.0, end=31.5, duration=1.5, audible_start=30.1, audible_end=31.2,
                        audible=((30.1, 31.2),))


def test_a_long_hesitant_line_is_timed_at_its_last_audible_sample(tmp_path: Path) -> None:
    call = _call(tmp_path, [HESITANT, SHORT])
    # the VAD's end 0.15 s after the last word, 1.65 s before the buffer ends: a window around
    # the VAD's end (−3 s … +0.6 s of the buffer's end) missed it
    assert call._true_eos(_turn(10.15, 19.35)) == 19.2
    assert call._true_eos(_turn(30.2, 31.35)) == 31.2


def test_a_turn_cut_at_a_pause_inside_its_line_ends_where_its_words_did(tmp_path: Path) -> None:
    call = _call(tmp_path, [HESITANT, SHORT])
    assert call._true_eos(_turn(10.15, 14.8)) == 14.6  # cut off at the 0.8 s pause
    assert call._true_eos(_turn(15.45, 19.4)) == 19.2  # ... and the line's rest


def test_a_turn_that_began_in_no_line_is_not_timed_at_the_ear(tmp_path: Path) -> None:
    call = _call(tmp_path, [HESITANT, SHORT])
    assert call._true_eos(_turn(25.0, 26.0)) is None
    assert call._true_eos(CallerPart(final_transcript="typed", speech_ended_at=26.0)) is None
    assert line_of(21.25, [HESITANT, SHORT]) is HESITANT and line_of(21.4, [HESITANT, SHORT]) is None
