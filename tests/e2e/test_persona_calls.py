"""Persona calls in real time: callers in voices the product never heard answer the agent from
their facts, confirm or correct its read-backs, and the effects are judged against those facts.

Two short calls (a flite renewal, an espeak-ng tour) bound the CI cost; the runs across five
voices live in `uv run mediabloom bench robustness`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from worker.settings import load_settings
from worker.simulate.runner import CallResult, SimulatedCall
from worker.simulate.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def run(name: str, tmp_path: Path) -> CallResult:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    return asyncio.run(SimulatedCall(scenario, load_settings(data_dir=tmp_path / "data"), tmp_path).run())


def test_a_flite_voice_renews_and_is_charged_exactly_the_premium(tmp_path: Path) -> None:
    result = run("persona_renewal", tmp_path)
    assert result.failures == [], result.failures
    assert result.persona is not None and result.persona.completed and result.persona.wrong_effects == []
    assert result.effects["charges"] == 1
    assert result.persona.read_backs >= 1  # the amount and card read back before the charge
    assert result.final_state["state"] == "done"


def test_an_espeak_voice_books_with_the_right_phone_and_name(tmp_path: Path) -> None:
    result = run("persona_tour", tmp_path)
    assert result.failures == [], result.failures
    assert result.persona is not None and result.persona.completed and result.persona.wrong_effects == []
    booked = [r for t in result.turns for r in t.tools if r.name == "book_tour" and r.ok]
    assert len(booked) == 1
    assert booked[0].arguments["phone"] == "5104827391" and booked[0].arguments["name"] == "Sarah Miller"
    assert result.persona.read_backs >= 2  # the number, then the day, time and name
    # the self-correction ("Berkeley, actually, Oakland") searched Oakland only
    searches = [r.arguments["area"] for t in result.turns for r in t.tools if r.name == "find_listings"]
    assert searches and set(searches) == {"Oakland"}
