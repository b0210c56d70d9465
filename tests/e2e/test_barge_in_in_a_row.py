"""End to end: interruptions in a row, in three caller voices (`scenarios/bargein_in_a_row.yaml`).

One real-time call (~65 s) through Silero VAD, Whisper, the planner and Piper. The caller goes
on right after her turn ended ("Hi, I'd like to renew my policy. [0.6 s] My policy number is
4 8 2 1."): the reply started for the first sentence is cut before it is heard whole, and the
number is heard once and acted on. Then she cuts into the quote with "Sorry, how much is it?"
(the premium she did not hear is said again) and cuts that reply with her card number. Nothing
is charged. The other barge-in scenarios (redirect, argument, coughs, the unheard receipt and
booking) run in `uv run mediabloom bench bargein`.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_barge_in import caller_onsets_and_agent_quiet, is_truncation, run


def test_interruptions_in_a_row_are_each_acted_on(tmp_path: Path) -> None:
    result = run("bargein_in_a_row", tmp_path, silence_reprompt_after=4.0)

    assert result.failures == []
    answered = [t for t in result.turns if t.caller is not None]
    heard = " ".join(t.caller.final_transcript for t in answered).lower()
    assert heard.count("policy number") == 1, heard  # said once, written once
    first = answered[0]
    if "renew" in first.caller.final_transcript.lower():  # the turn ended at her pause
        reply = first.reply
        assert reply.interrupted and reply.spoken_text != reply.planned_text, reply
        assert is_truncation(reply.spoken_text, reply.planned_text) or not reply.spoken_text, reply

    # the two barge-ins over the quote: each reply cut where the caller heard it stop
    quote = next(t for t in answered if "1984" in t.caller.final_transcript)
    assert quote.reply.interrupted and "$1,284.00" not in quote.reply.spoken_text  # cut before the premium
    how_much = next(t for t in answered if "how much" in t.caller.final_transcript.lower())
    assert "$1,284.00" in how_much.reply.spoken_text and how_much.reply.interrupted  # said again, then cut
    assert is_truncation(how_much.reply.spoken_text, how_much.reply.planned_text)
    onset, quiet = caller_onsets_and_agent_quiet(result, 2)  # (the card line is silenced in the recording)
    assert quiet - onset < 0.6, f"the agent went quiet {quiet - onset:.2f} s after the caller's onset"
    assert result.effects["charges"] == 0
