"""A payment backend that keeps timing out: the agent tells the caller it is still working,
the charge is retried (every attempt journaled and counted in the trace) and made once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from worker.call.tool_gate import STILL_WORKING
from worker.settings import load_settings
from worker.simulate.runner import SimulatedCall
from worker.simulate.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def test_slow_retries_keep_the_caller_informed_and_charge_once(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", sandbox_faults="payments.capture:timeout*2@2.5")
    scenario = load_scenario(ROOT / "scenarios" / "insurance_renewal.yaml")
    result = asyncio.run(SimulatedCall(scenario, settings, tmp_path).run())
    assert result.failures == []
    assert result.effects["charges"] == 1
    charge = next(r for t in result.turns for r in t.tools if r.name == "charge_card")
    assert charge.ok and charge.attempts >= 5  # authorize, 3 × capture, receipt
    spoken = " ".join(t.reply.spoken_text for t in result.turns)
    assert STILL_WORKING.split(".")[0] in spoken
