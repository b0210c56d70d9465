"""End to end: bad input on the line (dead air, noise, junk WAVs, mumbling) never breaks a call.

Whole calls through real Silero VAD, Whisper, the planner and Piper, in real time (~20 s to
~2 min each). The junk WAVs are generated here with numpy (and Piper for the clipped speech),
never committed. To get them for a manual run:

    uv run python tests/e2e/test_bad_input_calls.py /tmp/bad_audio
    MB_SILENCE_REPROMPT_AFTER=3 uv run mediabloom simulate /tmp/bad_audio/bad_audio.yaml
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import wave
from pathlib import Path

import numpy as np

from worker.call.silence import GOODBYE, REPROMPT
from worker.settings import load_settings
from worker.simulate.runner import CallResult, SimulatedCall
from worker.simulate.scenario import load_scenario
from worker.trace.records import TurnTrace

ROOT = Path(__file__).resolve().parents[2]
GREETING = "Hi, this is Maya from Bloom Realty. Who am I speaking with?"
RATE = 16000
PHONE_LINE = "It's five one oh, four eight two, seven three nine one."


# ---------------------------------------------------------------- fixtures (generated, not committed)
def write_wav(path: Path, pcm: np.ndarray, rate: int = RATE) -> Path:
    """16-bit PCM mono WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
    return path


def white_noise(seconds: float, rms: float, seed: int = 7) -> np.ndarray:
    """Gaussian white noise at `rms` of full scale, as int16."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, rms, int(seconds * RATE))
    return (np.clip(x, -1.0, 1.0) * 32767).astype(np.int16)


def hard_clipped(text: str, gain: float = 8.0, ceiling: float = 0.3) -> tuple[np.ndarray, int]:
    """Piper speech amplified `gain` times and hard-clipped at `ceiling` (then scaled to 0.9 FS)."""
    from worker.engines.piper_tts import synthesize_pcm

    pcm, rate = synthesize_pcm(text)
    x = pcm.astype(np.float64) / 32768.0
    clipped = np.clip(x * gain, -ceiling, ceiling) / ceiling * 0.9
    return (clipped * 32767).astype(np.int16), rate


def make_bad_audio(out: Path) -> Path:
    """Write scenarios/bad_audio.yaml and its WAVs into `out`; return the scenario's path."""
    audio = out / "audio"
    write_wav(audio / "noise.wav", white_noise(1.5, rms=0.1))  # -20 dBFS
    write_wav(audio / "empty.wav", np.zeros(0, np.int16))
    write_wav(audio / "blip.wav", white_noise(0.04, rms=0.3, seed=11))
    pcm, rate = hard_clipped(PHONE_LINE)
    write_wav(audio / "clipped.wav", pcm, rate)
    scenario = out / "bad_audio.yaml"
    shutil.copy(ROOT / "scenarios" / "bad_audio.yaml", scenario)
    return scenario


# ---------------------------------------------------------------- helpers
def run_file(path: Path, out: Path, **overrides: object) -> CallResult:
    # passed by their MB_* names: Settings fields have env aliases, so load_settings() drops a
    # plain field name (silence_reprompt_after=3.0) without a word
    settings = load_settings(**{f"MB_{k.upper()}": v for k, v in overrides.items()})
    for key, value in overrides.items():
        assert getattr(settings, key) == value, f"setting {key} was not applied"
    return asyncio.run(SimulatedCall(load_scenario(path), settings, out).run())


def run(name: str, out: Path, **overrides: object) -> CallResult:
    return run_file(ROOT / "scenarios" / f"{name}.yaml", out, **overrides)


def traced(result: CallResult) -> list[TurnTrace]:
    """The turns as written to trace.jsonl (what an operator would read)."""
    turns = [TurnTrace.model_validate_json(line) for line in result.trace_path.read_text().splitlines()]
    assert [t.turn for t in turns] == list(range(len(turns)))
    return turns


def heard_during(turns: list[TurnTrace], start: float, end: float, slack: float = 0.5) -> list[TurnTrace]:
    """Caller turns whose VAD speech overlaps the call-time span [start, end]."""
    out = []
    for t in turns:
        c = t.caller
        if c is None or c.speech_started_at is None:
            continue
        c_end = c.speech_ended_at if c.speech_ended_at is not None else c.speech_started_at
        if c.speech_started_at <= end + slack and c_end >= start - slack:
            out.append(t)
    return out


def all_spoken(turns: list[TurnTrace]) -> str:
    return " ".join(t.reply.spoken_text for t in turns)


# ---------------------------------------------------------------- line ↔ turn matching (no audio, instant)
def test_a_line_that_made_no_turn_does_not_shift_later_expectations(tmp_path: Path) -> None:
    from worker.flow.library import load_flow
    from worker.flow.machine import ConversationMachine
    from worker.simulate.expectations import check_expectations
    from worker.trace.collector import summarize
    from worker.trace.records import CallerPart, PlannerPart, StatePart, ToolRun
    from worker.transport import CallerUtterance

    path = tmp_path / "junk.yaml"
    path.write_text(
        "name: junk\nflow: real_estate\ncaller:\n"
        "  - {say: noise that the VAD ignores}\n"
        "  - say: Hi, my name is Dana Whitfield.\n"
        "    expect: {tools: [{name: save_caller_details, args: {name: Dana Whitfield}}]}\n")
    final = ConversationMachine(load_flow("real_estate")).snapshot()
    state = StatePart(before=summarize(final), after=summarize(final))
    run = ToolRun(call_id="c1", name="save_caller_details", arguments={"name": "Dana Whitfield"}, ok=True,
                  started_at=9.0, duration_ms=1.0)
    turns = [
        TurnTrace(call_id="x", turn=0, started_at=0.0, planner=PlannerPart(engine="offline", model="m"), state=state),
        TurnTrace(call_id="x", turn=1, started_at=9.0, planner=PlannerPart(engine="offline", model="m"), state=state,
                  caller=CallerPart(final_transcript="Hi, my name is Dana Whitfield.", speech_started_at=6.1,
                                    speech_ended_at=8.2), tools=[run]),
    ]
    heard = [CallerUtterance(start=2.0, end=3.5, duration=1.5), CallerUtterance(start=6.0, end=8.1, duration=2.1)]
    scenario = load_scenario(path)
    assert check_expectations(scenario, turns, final, {}, heard) == []
    # matched by order instead, the name line is checked against nothing (the noise "took" turn 1)
    assert check_expectations(scenario, turns, final, {}) == ["line 5: no caller turn was recognised for this line"]


# ---------------------------------------------------------------- silence
def test_silent_caller_is_reprompted_once_then_the_agent_hangs_up(tmp_path: Path) -> None:
    result = run("silence_hangup", tmp_path, silence_reprompt_after=3.0, silence_max_reprompts=1)
    assert result.failures == []
    assert result.final_state["ended"] is True
    assert result.final_state["end_reason"] == "silence"
    turns = traced(result)
    assert len(turns) == 1 and turns[0].caller is None  # nobody ever spoke: only the greeting turn
    reply = turns[0].reply
    assert reply.spoken_text == f"{GREETING} {REPROMPT} {GOODBYE}"
    assert reply.spoken_text.count(REPROMPT) == 1
    assert reply.segments == 3 and not reply.interrupted  # the goodbye was played out in full
    assert [r for t in turns for r in t.tools] == []
    assert sum(result.effects.values()) == 0
    # 3 s timer: greeting (~3.5 s), 3 s, reprompt (~1.5 s), 3 s, goodbye (~5 s), hang up
    began, hung_up = turns[0].reply.first_audio_at, turns[0].ended_at
    assert began is not None and hung_up is not None and hung_up - began < 21.0


def test_caller_silent_once_then_answers_and_the_call_goes_on(tmp_path: Path) -> None:
    result = run("silence_then_reply", tmp_path, silence_reprompt_after=3.0, silence_max_reprompts=1)
    assert result.failures == []
    turns = traced(result)
    assert turns[0].reply.spoken_text == f"{GREETING} {REPROMPT}"
    assert all_spoken(turns).count(REPROMPT) == 1
    assert GOODBYE not in all_spoken(turns)
    first = turns[1]
    assert first.caller is not None and "Dana" in first.caller.final_transcript
    assert [(r.name, r.arguments.get("name")) for r in first.tools] == [("save_caller_details", "Dana Whitfield")]
    assert first.reply.spoken_text.startswith("Thanks, Dana.")
    phone = [r for t in turns for r in t.tools if r.arguments.get("phone")]
    assert len(phone) == 1 and phone[0].arguments["phone"] == "5104827391"
    assert result.final_state["state"] == "done"
    assert result.final_state["end_reason"] == "completed"


# ---------------------------------------------------------------- noise and junk audio
def test_noise_junk_wavs_and_mumbling_do_not_derail_a_booking(tmp_path: Path) -> None:
    scenario = make_bad_audio(tmp_path / "scenario")
    result = run_file(scenario, tmp_path / "runs", silence_reprompt_after=3.0, silence_max_reprompts=1)
    assert result.failures == []
    turns = traced(result)
    spoken = [t for t in turns if t.caller is not None]
    # utterances follow the speaking lines: noise, name, empty, mumble, blip, clipped, ...
    noise, _name, empty, mumble, blip, clipped = result.utterances[:6]
    assert noise.duration > 1.4 and empty.duration == 0.0 and blip.duration < 0.1

    # white noise: either the VAD ignores it (no turn), or the turn it makes asks again and does nothing
    for t in heard_during(spoken, noise.start, noise.end):
        assert t.reply.spoken_text.startswith("Sorry"), t.reply.spoken_text
        assert t.tools == [] and t.planner.proposed == []
    # an empty WAV and a 40 ms blip are no speech at all
    assert heard_during(spoken, empty.start, empty.end) == []
    assert heard_during(spoken, blip.start, blip.end) == []
    # every line that made no turn left the caller silent, so the agent checked in (once each)
    silent_lines = 2 + (0 if heard_during(spoken, noise.start, noise.end) else 1)
    assert all_spoken(turns).count(REPROMPT) == silent_lines
    assert GOODBYE not in all_spoken(turns)

    # the mumble is a real turn with nothing usable in it: a clarifying question, no tools
    # (one turn, or two if the VAD splits it at a pause: each one asks again)
    mumbled = heard_during(spoken, mumble.start, mumble.end)
    assert mumbled, "the mumble made no caller turn"
    for t in mumbled:
        assert t.caller is not None and t.caller.final_transcript
        assert t.reply.spoken_text.startswith("Sorry"), t.reply.spoken_text
        assert "phone number" in t.reply.spoken_text
        assert t.tools == [] and t.planner.rejections == []
        assert t.state.after.state == "qualify"

    # hard-clipped speech is still heard: the phone number is saved from it
    clip_turns = heard_during(spoken, clipped.start, clipped.end)
    assert [r.arguments.get("phone") for t in clip_turns for r in t.tools] == ["5104827391"]

    # ... and the call carries on to exactly one booking and a normal goodbye
    booked = [r for t in turns for r in t.tools if r.name == "book_tour" and r.ok]
    assert len(booked) == 1 and booked[0].arguments["listing_id"] == "L-101"
    assert result.effects["bookings"] == 1
    assert result.final_state["state"] == "done" and result.final_state["end_reason"] == "completed"
    # no turn ran a tool the caller did not ask for: only details, search, availability, booking, CRM
    names = {r.name for t in turns for r in t.tools}
    assert names <= {"save_caller_details", "find_listings", "check_availability", "book_tour",
                     "update_opportunity"}


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/bad_audio")
    print(make_bad_audio(target))
