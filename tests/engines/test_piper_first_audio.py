"""The first audio of a long reply comes from a short first clause, before the rest is rendered.

The card confirmation ("To confirm, I'll charge $1,284.00 to the card ending in 6467. Shall I
go ahead?") opened with one 12-word clause: the caller heard nothing for the ~0.9-1.5 s Piper
took to render all of it. It goes through the session's path here: livekit-agents'
`StreamAdapter` with the sentence tokenizer the session's default `tts_node` builds, around
`PiperTTS`.
"""

from __future__ import annotations

import time

import numpy as np
from livekit.agents import tokenize, tts

from worker.engines.piper_tts import PiperTTS
from worker.flow.library import load_flow
from worker.planner import replies


def card_confirmation() -> str:
    template = load_flow("insurance").states["confirm"].confirm
    assert template is not None
    return replies.fill(template, {"quote_amount_text": "$1,284.00"}, {"card_number": "4539148803436467"})


async def test_card_confirmation_speaks_a_short_clause_before_the_rest_is_rendered(
    piper: PiperTTS, monkeypatch: object
) -> None:
    text = card_confirmation()
    assert text.startswith("To confirm, I'll charge $1,284.00 to the card ending in 6467.")
    rendered: list[tuple[str, float, int]] = []
    original = piper.render_clause

    def spy(clause: str) -> np.ndarray:
        pcm = original(clause)
        rendered.append((clause, time.perf_counter(), pcm.size))
        return pcm

    monkeypatch.setattr(piper, "render_clause", spy)  # type: ignore[attr-defined]
    # what `Agent.default.tts_node` wraps a non-streaming TTS in
    adapter = tts.StreamAdapter(tts=piper, sentence_tokenizer=tokenize.blingfire.SentenceTokenizer(retain_format=True))
    first_frame_at: float | None = None
    rendered_before_first_frame = 0
    async with adapter.stream() as stream:
        stream.push_text(text)  # the planner sends the whole reply at once
        stream.end_input()
        async for ev in stream:
            if first_frame_at is None:
                first_frame_at = time.perf_counter()
                rendered_before_first_frame = len(rendered)
    await adapter.aclose()
    assert first_frame_at is not None
    clauses = [c for c, _, _ in rendered]
    assert clauses[0] == "To confirm,"
    assert "".join(clauses).replace(" ", "") == text.replace(" ", "")  # every word said, in order
    # the caller hears audio after one short clause, not after the whole read-back
    assert rendered_before_first_frame == 1
    assert rendered[0][2] / piper.sample_rate < 1.5
    assert first_frame_at < rendered[1][1]
