"""Persona calls at text level: every caller the robustness bench uses (`bench/robustness.py`
FACTS x behaviours) talks to the real state machine, planner and sandbox tools through the text
driver, and reaches its goal with exactly the right effects; a mishearing of the phone or of a
yes is repaired by the read-back. Milliseconds per call, so the bench's failures that are not
about hearing show up here first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.robustness import BEHAVIOURS, FACTS, SCENARIOS
from tests.planner.driver import TextCall
from tests.support.dates import SCENARIO_TODAY
from tools.sandbox.core import Sandbox
from worker.simulate.persona import Persona, PersonaAnswers, PersonaOutcome, judge
from worker.simulate.scenario import load_scenario

Hear = Callable[[int, str], str]


def _exact(_: int, line: str) -> str:
    return line


async def talk(tmp_path: Path, flow: str, facts_at: int, behaviours_at: int = 0,
               hear: Hear = _exact) -> tuple[PersonaOutcome, TextCall]:
    """One persona call in text; `hear(n, line)` is what the agent hears of the persona's n-th line."""
    scenario = load_scenario(SCENARIOS[flow])
    assert scenario.persona is not None
    persona: Persona = scenario.persona.model_copy(update={
        "facts": FACTS[flow][facts_at] or scenario.persona.facts, "behaviours": BEHAVIOURS[behaviours_at]})
    sandbox = Sandbox.open(tmp_path / f"{flow}-{facts_at}-{behaviours_at}.db", SCENARIO_TODAY)
    call = TextCall(flow, sandbox, SCENARIO_TODAY)
    answers = PersonaAnswers(persona, flow)
    agent = call.machine.flow.greeting
    for n in range(persona.max_turns):
        line = answers.answer(agent)
        if line is None or call.machine.s.ended:
            break
        agent = (await call.say(hear(n, line))).reply
    runs = [SimpleNamespace(name=r.name, ok=r.ok, arguments=r.args) for r in call.succeeded()]
    outcome = judge(persona, flow, runs)
    sandbox.close()
    return outcome.model_copy(update={"read_backs": answers.read_backs, "corrections": answers.corrections}), call


@pytest.mark.parametrize("flow", ["real_estate", "insurance"])
@pytest.mark.parametrize("facts_at", [0, 1, 2])
@pytest.mark.parametrize("behaviours_at", [0, 1, 2])
async def test_every_bench_caller_reaches_its_goal_with_the_right_effects(
        tmp_path: Path, flow: str, facts_at: int, behaviours_at: int) -> None:
    outcome, call = await talk(tmp_path, flow, facts_at, behaviours_at)
    assert outcome.completed and outcome.wrong_effects == [], [t.caller for t in call.turns]
    assert call.machine.s.state == "done" and outcome.corrections == 0


async def test_a_misheard_phone_is_fixed_by_the_read_back(tmp_path: Path) -> None:
    # Carlos's "... oh one nine two" heard as "... oh one nine nine" the first time
    def hear(n: int, line: str) -> str:
        return line.replace("nine two.", "nine nine.") if n == 1 else line

    outcome, call = await talk(tmp_path, "real_estate", 1, hear=hear)
    assert outcome.completed and outcome.wrong_effects == []
    assert outcome.corrections == 1 and call.machine.s.misheard == {"phone": 1}
    assert call.succeeded("book_tour")[0].args["phone"] == "4155550192"


async def test_a_misheard_yes_to_the_read_back_is_asked_again_not_taken_as_a_no(tmp_path: Path) -> None:
    # "Yes, that's right." heard as "Yes, not right." (the bench's en-gb+f3 voice, every time)
    def hear(_: int, line: str) -> str:
        return line.replace("Yes, that's right.", "Yes, not right.")

    outcome, call = await talk(tmp_path, "real_estate", 0, hear=hear)
    assert outcome.completed and outcome.wrong_effects == []
    assert call.machine.s.misheard == {}


async def test_a_misheard_budget_is_corrected_when_the_home_is_not_read_out(tmp_path: Path) -> None:
    # Carlos's "900 thousand" heard as "500 thousand" the first time: College Avenue is not found
    def hear(n: int, line: str) -> str:
        return line.replace("900 thousand", "500 thousand") if n == 4 else line

    outcome, call = await talk(tmp_path, "real_estate", 1, hear=hear)
    assert outcome.completed and outcome.wrong_effects == []
    assert [t.args["max_price"] for t in call.succeeded("find_listings")] == [500000, 900000]


async def test_a_misheard_policy_number_is_asked_again_not_a_case(tmp_path: Path) -> None:
    # Maria's "4 8 2 1" heard as "4 8 1 2" the first time: no such policy, so it is read back
    def hear(n: int, line: str) -> str:
        return line.replace("4 8 2 1", "4 8 1 2") if n == 0 else line

    outcome, call = await talk(tmp_path, "insurance", 0, hear=hear)
    assert outcome.completed and outcome.wrong_effects == [], [t.reply for t in call.turns]
    assert [t.error for t in call.proposed() if t.name == "verify_identity"] == ["not_found", None]
    assert [t.name for t in call.succeeded() if t.name == "create_case"] == []


async def test_a_misheard_birth_date_is_asked_again(tmp_path: Path) -> None:
    # James's birth year heard one off the first time: "doesn't match", asked again, verified
    def hear(n: int, line: str) -> str:
        return line.replace("1990", "1991") if n == 1 else line

    outcome, call = await talk(tmp_path, "insurance", 1, hear=hear)
    assert outcome.completed and outcome.wrong_effects == [], [t.reply for t in call.turns]
    checks = [t.result["verified"] for t in call.succeeded("verify_identity")]
    assert checks == [False, True]


async def test_a_misheard_card_is_taken_group_by_group_and_a_wrong_group_corrected(tmp_path: Path) -> None:
    # James's card 4111 1111 1111 1111 heard with a one missing, then its second group heard as
    # "1 1 1 7": the agent takes the card group by group, says "1 1 1 7" back, James says no
    lines: list[str] = []

    def hear(n: int, line: str) -> str:
        lines.append(line)
        if line.startswith("four one one one, one one one one"):
            return "four one one one, one one one one, one one one, one one one one."
        if len(lines) >= 2 and lines[-2] == "four one one one." and line == "one one one one.":
            return "one one one seven."
        return line

    outcome, call = await talk(tmp_path, "insurance", 1, hear=hear)
    assert outcome.completed and outcome.wrong_effects == [], [t.reply for t in call.turns]
    assert outcome.corrections == 1 and "No, one one one one." in lines
    assert any("1 1 1 7. What are the third four digits?" in t.reply for t in call.turns)
    assert call.succeeded("charge_card")[0].result["card_last4"] == "1111"


async def test_a_time_heard_only_as_its_part_of_the_day_is_narrowed_and_booked(tmp_path: Path) -> None:
    # bench robustness (espeak-ng en-gb): Carlos's "11 AM works for me." heard as "The Atlanta Network
    # is for me.", "Eleven in the morning, please." as "In the morning, please.": it ended in a callback
    def hear(_: int, line: str) -> str:
        return {"11 AM works for me.": "The Atlanta Network is for me.",
                "Eleven in the morning, please.": "In the morning, please."}.get(line, line)

    outcome, call = await talk(tmp_path, "real_estate", 1, hear=hear)
    assert outcome.completed and outcome.wrong_effects == [], [t.caller for t in call.turns]
    said = [(t.caller, t.reply) for t in call.turns]
    at = next(i for i, (caller, _) in enumerate(said) if caller == "In the morning, please.")
    assert said[at][1] == "In the morning I have 10 AM and 11 AM. Which time works for you?"
    assert said[at + 1][0] == "11 AM, please."
    assert call.succeeded("book_tour")[0].args["slot_start"].endswith("T11:00:00")
