"""Checks a finished call against its scenario's expectations, on real state and traces.

Each failure is one sentence a person can act on ("expected 1 booking, found 2").
"""

from __future__ import annotations

from typing import Any

from worker.flow.machine import ConversationState
from worker.simulate.scenario import Expectations, Scenario, ToolExpectation
from worker.trace.records import ToolRun, TurnTrace


def _matches(run: ToolRun, want: ToolExpectation) -> bool:
    if run.name != want.name or run.ok != want.ok:
        return False
    for key, value in want.args.items():
        got = run.arguments.get(key)
        if str(got).strip().lower() != str(value).strip().lower():
            return False
    return True


def _check(where: str, exp: Expectations, turns: list[TurnTrace], state: str | None, ended: bool | None,
           effects: dict[str, int] | None) -> list[str]:
    failures: list[str] = []
    runs = [r for t in turns for r in t.tools]
    for want in exp.tools:
        hits = [r for r in runs if _matches(r, want)]
        if want.count is not None and len(hits) != want.count:
            failures.append(f"{where}: expected {want.count} successful {want.name} call(s) matching {want.args}, found {len(hits)}")
        elif want.count is None and not hits:
            seen = [f"{r.name}({r.arguments})" for r in runs if r.name == want.name] or ["none"]
            failures.append(f"{where}: expected a {'successful' if want.ok else 'failed'} {want.name} call with {want.args}; saw {'; '.join(seen)}")
    if exp.state is not None and state != exp.state:
        failures.append(f"{where}: expected state {exp.state!r}, reached {state!r}")
    if exp.ended is not None and ended is not None and ended != exp.ended:
        failures.append(f"{where}: expected the call {'to end' if exp.ended else 'to continue'}, ended={ended}")
    if effects is not None:
        for name, count in exp.effects.items():
            if effects.get(name) != count:
                failures.append(f"{where}: expected {count} {name}, found {effects.get(name)}")
    if exp.rejections is not None:
        got = sum(len(t.planner.rejections) for t in turns)
        if got != exp.rejections:
            failures.append(f"{where}: expected {exp.rejections} rejected tool call(s), found {got}")
    if exp.interrupted is not None:
        got = any(t.reply.interrupted for t in turns)
        if got != exp.interrupted:
            failures.append(f"{where}: expected an interrupted reply={exp.interrupted}, found {got}")
    return failures


def _turn_heard(utt: Any, spoken: list[TurnTrace], slack: float = 0.5) -> list[TurnTrace]:
    """The caller turn whose speech (VAD times) overlaps this played utterance, if any."""
    for t in spoken:
        c = t.caller
        if c is None or c.speech_started_at is None:
            continue
        end = c.speech_ended_at if c.speech_ended_at is not None else c.speech_started_at
        if c.speech_started_at <= utt.end + slack and end >= utt.start - slack:
            return [t]
    return []


RESUME_WITHIN_S = 2.5
"""A paused reply counts as resumed when it plays again this soon after the caller's line ended
(generous, for a loaded machine: the target, 1 s, is measured by `mediabloom bench bargein`)."""


STOP_LAG_S = 0.5
"""A stop of the agent's audio this long after a line ended can still be that line's doing (the
VAD and the recogniser lag the audio); a later one is not."""


def reply_went_on(utt: Any, agent_audio: list[Any], within: float = RESUME_WITHIN_S) -> str | None:
    """Why the agent's reply playing when `utt` began did not go on past it (None: it did).

    It went on if it never stopped during the line, or stopped (paused) and played again, on
    the same segment, within `within` s of the line's end, without being interrupted first.
    """
    playing = None
    for ev in agent_audio:
        if ev.at > utt.start:
            break
        playing = ev
    if playing is None or playing.kind != "started":
        return "the agent was not speaking when this line began"
    seg = playing.segment
    later = [ev for ev in agent_audio if ev.at > utt.start and ev.segment == seg]
    if not later:
        return None
    stop = later[0]
    if stop.kind != "stopped" or stop.reason == "finished" or stop.at > utt.end + STOP_LAG_S:
        return None  # it played through the line (a later stop is another line's doing)
    if stop.reason == "interrupted":
        return f"its reply was cut off at {stop.at:.2f} s"
    again = next((ev for ev in later[1:] if ev.kind == "started"), None)
    if again is None or again.at > utt.end + within:
        return f"its reply paused at {stop.at:.2f} s and did not resume within {within:.1f} s of the line"
    return None


def _line_turn_checks(where: str, exp: Expectations, utt: Any, related: list[TurnTrace],
                      agent_audio: list[Any] | None) -> list[str]:
    failures: list[str] = []
    if exp.turn is not None and utt is not None:
        # the turn this line made ends with it (a turn that only began with it, e.g. VAD times
        # kept from a backchannel the session let pass, belongs to a later line)
        related = [t for t in related if t.caller is None or t.caller.speech_ended_at is None
                   or utt.start <= t.caller.speech_ended_at <= utt.end + 1.0]
    if exp.turn is not None and bool(related) != exp.turn:
        heard = f": {related[0].caller.final_transcript!r}" if related and related[0].caller else ""
        failures.append(f"{where}: expected {'a' if exp.turn else 'no'} caller turn for this line, "
                        f"found {len(related)}{heard}")
    if exp.resumed is not None and utt is not None and agent_audio is not None:
        why = reply_went_on(utt, agent_audio)
        if exp.resumed and why is not None:
            failures.append(f"{where}: expected the agent's reply to resume, but {why}")
        elif not exp.resumed and why is None:
            failures.append(f"{where}: expected the agent's reply to stop for this line, but it went on")
    return failures


def _says(where: str, words: list[str], turn: TurnTrace) -> list[str]:
    """The reply to a line carries each of `words`, in what the caller heard of it."""
    heard = turn.reply.spoken_text
    return [f"{where}: expected the agent's reply to say {w!r}; the caller heard {heard!r}"
            for w in words if w.lower() not in heard.lower()]


def turns_of_line(utt: Any, spoken: list[TurnTrace], slack: float = 0.3) -> list[TurnTrace]:
    """Every caller turn whose speech began while this line was played: more than one means the
    line was cut off at a pause (a premature end of turn)."""
    return [t for t in spoken if t.caller is not None and t.caller.speech_started_at is not None
            and utt.start - slack <= t.caller.speech_started_at <= utt.end + slack]


def check_expectations(scenario: Scenario, turns: list[TurnTrace], final: ConversationState,
                       effects: dict[str, int], utterances: list[Any] | None = None,
                       agent_audio: list[Any] | None = None) -> list[str]:
    """`utterances`: when each speaking line was played (call time, in line order). With them a
    line is matched to the turn heard at that time, so a line that made no turn (noise the VAD
    ignored, an empty WAV) does not shift every later line onto the wrong turn. `agent_audio`:
    when the caller heard the agent start and stop (`AgentSpeech.timeline`), for `resumed:`."""
    failures = _check("call", scenario.expect, turns, final.state, final.ended, effects)
    spoken = [t for t in turns if t.caller is not None]
    speaking_lines = [ln for ln in scenario.caller if ln.silence is None]
    for idx, line in enumerate(speaking_lines):
        if line.expect is None:
            continue
        where = f"line {line.line}"
        # the turn this line started, and the one that followed the barge-in it answered
        if utterances is None:
            related = spoken[idx:idx + 1]
        else:
            related = _turn_heard(utterances[idx], spoken) if idx < len(utterances) else []
            if not related and idx < len(utterances) and idx < len(spoken) and spoken[idx].caller \
                    and spoken[idx].caller.speech_started_at is None:
                related = spoken[idx:idx + 1]  # that turn has no VAD times: fall back to order
        before = [turns[turns.index(related[0]) - 1]] if related and turns.index(related[0]) > 0 else []
        utt = utterances[idx] if utterances is not None and idx < len(utterances) else None
        failures += _line_turn_checks(where, line.expect, utt, related, agent_audio)
        if line.expect.turn is False or (not related and line.expect.resumed is not None):
            continue
        if not related:
            failures.append(f"{where}: no caller turn was recognised for this line")
            continue
        state = related[0].state.after.state
        failures += _check(where, line.expect.model_copy(update={"interrupted": None, "turn": None, "resumed": None,
                                                                  "turns": None, "says": []}), related, state, None, None)
        failures += _says(where, line.expect.says, related[0])
        if line.expect.turns is not None and utt is not None:
            got = len(turns_of_line(utt, spoken))
            if got != line.expect.turns:
                failures.append(f"{where}: expected this line to be {line.expect.turns} caller turn(s), "
                                f"it became {got}")
        if line.expect.interrupted is not None:
            failures += _check(where, Expectations(interrupted=line.expect.interrupted), before, None, None, None)
    return failures
