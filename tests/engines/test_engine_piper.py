"""Piper TTS: determinism, clause splitting, first clause out first."""

from __future__ import annotations

import time

import numpy as np

from worker.engines.piper_tts import PiperTTS, split_clauses, synthesize_pcm


def test_split_clauses() -> None:
    assert split_clauses("Sure.") == ["Sure."]
    assert split_clauses("Yes, Saturday works.") == ["Yes, Saturday works."]
    assert split_clauses("No. I do not want that.") == ["No.", "I do not want that."]
    assert split_clauses(
        "Great, I have you down for Saturday at ten, and I will text you a confirmation.",
        first_clause_words=0,
    ) == ["Great, I have you down for Saturday at ten,", "and I will text you a confirmation."]
    assert split_clauses("It is $1,234.50 this year; it was $1,100 last year.") == [
        "It is $1,234.50 this year;",
        "it was $1,100 last year.",
    ]
    assert split_clauses("Dr. Smith sees you at 3 p.m. tomorrow.") == [
        "Dr. Smith sees you at 3 p.m. tomorrow."
    ]
    assert split_clauses("  ...  ") == []


def test_a_long_first_clause_is_cut_at_its_first_pause() -> None:
    assert split_clauses(
        "Great, I have you down for Saturday at ten, and I will text you a confirmation."
    ) == ["Great,", "I have you down for Saturday at ten,", "and I will text you a confirmation."]
    assert split_clauses("Shall I book Friday, November 27 at 2 PM for Dana Lee?") == [
        "Shall I book Friday,", "November 27 at 2 PM for Dana Lee?"]
    # short enough already, or nothing worth saying after the pause, or no pause at all
    assert split_clauses("Thanks, Maria, you're verified.") == ["Thanks, Maria, you're verified."]
    assert split_clauses("I'd like to come by on the ninth, um,") == ["I'd like to come by on the ninth, um,"]
    assert split_clauses("Your renewal premium is $1,284.00 for the next year.") == [
        "Your renewal premium is $1,284.00 for the next year."]
    # only the first clause: later ones keep the usual rule
    assert split_clauses("Sure. On Friday, I have ten and two, or Monday at nine.") == [
        "Sure.", "On Friday, I have ten and two,", "or Monday at nine."]


def test_synthesize_pcm_is_deterministic(piper: PiperTTS) -> None:
    text = "Thanks for calling. How can I help you today?"
    first, rate = synthesize_pcm(text)
    second, _ = synthesize_pcm(text)
    assert rate == piper.sample_rate == 22050
    assert first.dtype == np.int16 and first.size > rate  # more than a second of speech
    assert first.tobytes() == second.tobytes()
    assert np.abs(first).max() > 3000  # audible, not silence


async def test_chunked_stream_pushes_first_clause_first(
    piper: PiperTTS, monkeypatch: object
) -> None:
    text = "Let me check the calendar for you, one moment please. I have Saturday at ten."
    clauses = piper.clauses(text)
    assert len(clauses) == 3
    rendered: list[tuple[str, float]] = []
    original = piper.render_clause

    def spy(clause: str) -> np.ndarray:
        pcm = original(clause)
        rendered.append((clause, time.perf_counter()))
        return pcm

    monkeypatch.setattr(piper, "render_clause", spy)  # type: ignore[attr-defined]
    first_frame_at = None
    frames = []
    async with piper.synthesize(text) as stream:
        async for ev in stream:
            if first_frame_at is None:
                first_frame_at = time.perf_counter()
            frames.append(ev.frame)
    assert first_frame_at is not None
    # the first audio left before the last clause had even been rendered
    assert first_frame_at < rendered[-1][1]
    pcm = b"".join(bytes(f.data) for f in frames)
    expected = b"".join(original(c).tobytes() for c in clauses)
    # the emitter may close the segment with a 10 ms silent marker frame
    assert pcm.startswith(expected)
    assert len(pcm) - len(expected) <= 2 * piper.sample_rate // 100
    assert not any(pcm[len(expected) :])
    assert all(f.sample_rate == 22050 and f.num_channels == 1 for f in frames)


async def test_stream_and_punctuation_only(piper: PiperTTS) -> None:
    stream = piper.stream()
    stream.push_text("Hello there. ")
    stream.push_text("How can I help you today?")
    stream.end_input()
    duration = 0.0
    async for ev in stream:
        duration += ev.frame.duration
    await stream.aclose()
    assert duration > 1.0
    async with piper.synthesize("...") as only_dots:
        frame = await only_dots.collect()
    assert frame.duration < 0.1
