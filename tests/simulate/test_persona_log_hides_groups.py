"""The persona's log line hides a group of its card whenever it says one: after the group question,
and after the offer of another way for a group ("Could you say it one digit at a time, slowly?"),
where the line before it asks for no group (four digits pass the log's card mask)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import numpy as np

from bench.robustness import FACTS, SCENARIOS
from tests.support.card_leaks import digit_streams
from worker.planner import card_groups
from worker.planner.replies import OTHER_WAY
from worker.simulate.persona import Persona
from worker.simulate.persona_call import PersonaCaller
from worker.simulate.scenario import load_scenario


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, fmt: str, *args: Any) -> None:
        self.lines.append(fmt.format(*args))


class _Mic:
    async def say(self, pcm: Any, rate: int) -> SimpleNamespace:
        return SimpleNamespace(end=0.0)


async def test_the_persona_log_hides_a_group_said_after_the_offer_of_another_way() -> None:
    scenario = load_scenario(SCENARIOS["insurance"])
    assert scenario.persona is not None
    persona: Persona = scenario.persona.model_copy(update={"facts": FACTS["insurance"][1]})  # card 4111 1111 ...
    log = _Log()
    caller = PersonaCaller(persona, "insurance", _Mic(), None, lambda: 0.0, log=log)  # type: ignore[arg-type]
    conv = SimpleNamespace(machine=SimpleNamespace(s=SimpleNamespace(ended=False)), ended=asyncio.Event())
    said: list[str] = []
    for agent in (card_groups.group_question(["4111"]), OTHER_WAY):
        caller.heard.append(agent)
        line = caller.answers.answer(agent)
        assert line is not None
        said.append(line)
        await caller._play(np.zeros(160, np.int16), 16_000, line, conv)  # type: ignore[arg-type]
    assert said[-1] == "One. One. One. One."  # the second group again, one digit at a time
    assert len(log.lines) == 2 and all("persona says" in line for line in log.lines)
    assert "".join(s for line in log.lines for s in digit_streams(line)) == ""
