"""End to end: the caller barges in while the agent reads out the listings.

One real-time call (~80 s) through Silero VAD, Whisper, the planner and Piper. The agent's
audio must stop soon after the caller starts talking (checked on the recording itself, right
channel), the trace must show the cut-off reply, and the planner must act on what the caller
said over it: check Grand Avenue for tomorrow, then book exactly once.
"""

from __future__ import annotations

import asyncio
import re
import wave
from pathlib import Path

import numpy as np

from worker.settings import load_settings
from worker.simulate.runner import CallResult, SimulatedCall
from worker.simulate.scenario import load_scenario
from worker.trace.records import TurnTrace
from worker.transport.levels import AUDIBLE_RMS, BLOCK_S, rms_blocks

ROOT = Path(__file__).resolve().parents[2]


def run(name: str, out: Path, **overrides: object) -> CallResult:
    settings = load_settings(**overrides)
    return asyncio.run(SimulatedCall(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), settings, out).run())


def agent_rms_blocks(path: Path) -> np.ndarray:
    """RMS per level block (10 ms) of the agent (right) channel of call.wav, as a fraction of full scale."""
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 2 and w.getsampwidth() == 2
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2)
    return rms_blocks(data[:, 1], rate)


def window(rms: np.ndarray, t0: float, t1: float) -> np.ndarray:
    return rms[int(t0 / BLOCK_S): int(t1 / BLOCK_S)]


def words(text: str) -> list[str]:
    return re.findall(r"[\w$',:.]+", text)


def is_truncation(spoken: str, planned: str) -> bool:
    """`spoken` is `planned` cut short: same words, the last one possibly cut mid-word."""
    s, p = words(spoken), words(planned)
    if not s or len(s) > len(p):
        return False
    return s[:-1] == p[: len(s) - 1] and p[len(s) - 1].startswith(s[-1].rstrip(",.:"))


def test_barge_in_stops_the_listing_readout_and_the_call_pivots(tmp_path: Path) -> None:
    result = run("barge_in", tmp_path)
    assert result.failures == []
    turns = [TurnTrace.model_validate_json(line) for line in result.trace_path.read_text().splitlines()]
    # utterances follow the speaking lines: name, phone, yes (read-back), area/budget, the barge-in, ...
    barge = result.utterances[4]

    # the reply that was barged into: the listing read-out, cut off
    (cut,) = [t for t in turns if t.reply.interrupted]
    assert [r.name for r in cut.tools] == ["save_caller_details", "find_listings"]
    reply = cut.reply
    assert "I found 3" in reply.planned_text and reply.planned_text.endswith("would you like to see?")
    assert "I found 3" in reply.spoken_text  # the barge-in landed in the read-out, not the filler
    assert len(reply.spoken_text) < len(reply.planned_text)
    assert is_truncation(reply.spoken_text, reply.planned_text), (reply.spoken_text, reply.planned_text)
    assert "would you like to see" not in reply.spoken_text

    # on the recording: the agent was reading out when the caller cut in (under CPU load the TTS
    # can run dry for a moment, so "just before" is the last 3 s), and went quiet soon after and
    # stayed quiet while the caller spoke
    rms = agent_rms_blocks(result.wav_path)
    assert window(rms, barge.start - 3.0, barge.start).max() > 0.02
    after = window(rms, barge.start, barge.end)
    loud = np.flatnonzero(after > AUDIBLE_RMS)
    stopped_after = (loud[-1] + 1) * BLOCK_S if len(loud) else 0.0
    assert stopped_after < 1.5, f"agent audio went on {stopped_after:.2f} s into the barge-in"
    assert barge.end - barge.start > stopped_after + 0.5

    # the planner pivots on the words said over it: Grand Avenue (L-101), tomorrow
    nxt = turns[cut.turn + 1]
    assert nxt.caller is not None and "Grand" in nxt.caller.final_transcript
    assert nxt.caller.speech_started_at is not None and nxt.caller.speech_started_at < barge.end
    assert [(r.name, r.ok, r.arguments.get("listing_id"), r.arguments.get("date")) for r in nxt.tools] == [
        ("check_availability", True, "L-101", "2026-11-27")]
    assert nxt.state.after.state == "schedule"

    # ... and the booking still happens exactly once, without a second search
    runs = [r for t in turns for r in t.tools]
    assert [r.name for r in runs if r.name == "find_listings"] == ["find_listings"]
    booked = [r for r in runs if r.name == "book_tour" and r.ok]
    assert len(booked) == 1 and booked[0].arguments["listing_id"] == "L-101"
    assert booked[0].arguments["slot_start"].startswith("2026-11-27T14:00")
    assert result.effects["bookings"] == 1
    assert result.final_state["state"] == "done" and result.final_state["end_reason"] == "completed"


def caller_onsets_and_agent_quiet(result: CallResult, line: int) -> tuple[float, float]:
    """Call times of the caller's first audible block of utterance `line` and of the agent's
    first 200 ms of silence after it, read off the recording."""
    with wave.open(str(result.wav_path)) as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).reshape(-1, 2)
    caller, agent = rms_blocks(data[:, 0], rate) > AUDIBLE_RMS, rms_blocks(data[:, 1], rate) > AUDIBLE_RMS
    utt = result.utterances[line]
    onset = int(utt.start / BLOCK_S) + int(np.flatnonzero(caller[int(utt.start / BLOCK_S):])[0])
    run = int(0.2 / BLOCK_S)
    quiet = next(i for i in range(onset, len(agent)) if not agent[i:i + run].any())
    return onset * BLOCK_S, quiet * BLOCK_S


def test_a_backchannel_pauses_the_greeting_which_resumes_and_is_no_turn(tmp_path: Path) -> None:
    """'Okay' (flite), a cough and 'yeah, right' (espeak-ng) over the greeting: none is a turn,
    the greeting pauses fast and goes on where it stopped, then the caller's answer is a turn."""
    result = run("bargein_backchannel", tmp_path)

    assert result.failures == []  # each sound: no turn, the reply resumed within 1.5 s
    turns = [t for t in result.turns if t.caller is not None]
    assert "policy number" in turns[0].caller.final_transcript  # the first turn is the answer
    greeting = [e for e in result.agent_audio if e.segment == 1]
    assert [e.reason for e in greeting].count("paused") >= 1
    assert greeting[-1].reason == "finished"  # never cut: the whole greeting was heard
    assert not any(t.reply.interrupted for t in result.turns)
    onset, quiet = caller_onsets_and_agent_quiet(result, 0)
    assert quiet - onset < 0.6, f"the agent went quiet {quiet - onset:.2f} s after the caller's onset"
    # the paused greeting resumed at the position it stopped: nothing skipped, nothing repeated
    for stop, again in zip(greeting, greeting[1:]):
        if stop.reason == "paused":
            assert again.reason == "resumed" and again.position == stop.position


def test_the_agents_own_echo_never_interrupts_it(tmp_path: Path) -> None:
    """A speakerphone sends the agent's voice back 25 dB down, 150 ms late: the agent never stops
    for its own voice nor takes it for the caller's name; the caller talking over it still cuts in."""
    result = run("bargein_echo", tmp_path)

    assert result.failures == []
    lines = result.utterances
    for ev in result.agent_audio:
        if ev.kind == "stopped" and ev.reason in ("paused", "interrupted"):
            assert any(u.start - 0.2 <= ev.at <= u.end + 1.0 for u in lines), f"self-interruption at {ev.at:.2f} s"
    first = next(t for t in result.turns if t.caller is not None)
    assert "Dana" in first.caller.final_transcript and "Maya" not in first.caller.final_transcript
    assert result.turns[0].reply.interrupted and "Bloom Realty" not in first.caller.final_transcript
    onset, quiet = caller_onsets_and_agent_quiet(result, 0)
    assert quiet - onset < 0.6, f"the agent went quiet {quiet - onset:.2f} s after the caller's onset"
