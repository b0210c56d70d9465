"""`turn:` and `resumed:` expectations of a caller line said over the agent."""

from __future__ import annotations

from worker.simulate.expectations import reply_went_on
from worker.transport.agent_speech import AgentAudioEvent
from worker.transport.caller_input import CallerUtterance


def ev(kind: str, reason: str, at: float, segment: int = 1) -> AgentAudioEvent:
    return AgentAudioEvent(kind=kind, reason=reason, segment=segment, at=at, monotonic=at,  # type: ignore[arg-type]
                           position=0.0)


UTT = CallerUtterance(start=2.0, end=2.5, duration=0.5)


def test_a_paused_reply_that_plays_again_soon_went_on() -> None:
    timeline = [ev("started", "segment_start", 0.5), ev("stopped", "paused", 2.15), ev("started", "resumed", 3.2),
                ev("stopped", "finished", 6.0)]
    assert reply_went_on(UTT, timeline) is None


def test_a_reply_that_never_paused_went_on() -> None:
    assert reply_went_on(UTT, [ev("started", "segment_start", 0.5), ev("stopped", "finished", 6.0)]) is None


def test_a_cut_reply_did_not_go_on() -> None:
    why = reply_went_on(UTT, [ev("started", "segment_start", 0.5), ev("stopped", "paused", 2.15),
                              ev("stopped", "interrupted", 3.0)])
    assert why is not None and "did not resume" in why
    why = reply_went_on(UTT, [ev("started", "segment_start", 0.5), ev("stopped", "interrupted", 2.2)])
    assert why is not None and "cut off" in why


def test_a_resume_too_late_or_by_another_reply_does_not_count() -> None:
    late = [ev("started", "segment_start", 0.5), ev("stopped", "paused", 2.15), ev("started", "resumed", 5.5)]
    assert "did not resume" in (reply_went_on(UTT, late) or "")
    other = [ev("started", "segment_start", 0.5), ev("stopped", "paused", 2.15),
             ev("started", "segment_start", 3.0, segment=2)]
    assert "did not resume" in (reply_went_on(UTT, other) or "")


def test_a_line_said_while_the_agent_was_silent_is_not_over_a_reply() -> None:
    assert "not speaking" in (reply_went_on(UTT, [ev("started", "segment_start", 0.5),
                                                   ev("stopped", "finished", 1.5)]) or "")


def test_a_stop_long_after_the_line_is_not_its_doing() -> None:
    timeline = [ev("started", "segment_start", 0.5), ev("stopped", "paused", 4.0), ev("started", "resumed", 6.0)]
    assert reply_went_on(UTT, timeline) is None
