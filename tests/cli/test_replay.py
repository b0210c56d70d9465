"""`mediabloom replay`: identical recordings exit 0, the first divergence is named with exit 1.

A divergence is what the machine decides *now* differing from what it decided when the call
was recorded, so the doctored journals here are signed with the real key (as a journal
recorded by an older flow would be): only the recorded decisions differ. A call that was
interrupted (its process died inside a tool) is not a divergence, and a call id the journal
never held is neither: each has its own status and exit code.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import CALL, Cli, ProcessDied, record
from tests.cli.recorded import RENEWAL
from tools.journal.open import default_journal_url, open_store
from tools.journal.records import JournalEntry
from tools.journal.signing import Signer, load_signing_key

DOCTORED = "call_doctored"


async def copy_call(data: Path, source: str, target: str,
                    change: Callable[[JournalEntry], dict[str, Any] | None]) -> int:
    """Re-record ``source`` as ``target`` through the store (so validly signed), letting
    ``change`` rewrite one entry's payload; returns the seq of the changed entry."""
    store = await open_store(default_journal_url(data), Signer(load_signing_key("dev", data, None)))
    changed = 0
    try:
        for e in await store.entries(source):
            payload = change(e) if not changed else None
            if payload is not None:
                changed = e.seq
            await store.append(target, e.kind, tool=e.tool, tool_call_id=e.tool_call_id,
                               idempotency_key=e.idempotency_key, step=e.step, attempt=e.attempt, turn=e.turn,
                               payload=payload if payload is not None else e.payload, args_hash=e.args_hash)
    finally:
        await store.close()
    assert changed, "nothing was doctored"
    return changed


def event_kind(e: JournalEntry) -> str:
    return str(((e.payload or {}).get("event") or {}).get("kind")) if e.kind == "event" else ""


def other_transition(e: JournalEntry) -> dict[str, Any] | None:
    """The charge's outcome recorded as leading somewhere else."""
    if event_kind(e) != "tool_finished" or not (e.payload or {}).get("transitions"):
        return None
    payload = json.loads(json.dumps(e.payload))
    if payload["transitions"][0]["from_state"] != "confirm":
        return None
    payload["transitions"][0]["to_state"] = "handoff"
    return payload


def charge_rejected(e: JournalEntry) -> dict[str, Any] | None:
    """The charge proposal recorded as refused by the machine."""
    payload = e.payload or {}
    if event_kind(e) != "tool_proposed" or payload["event"]["tool"] != "charge_card":
        return None
    return {**payload, "decision": {**payload["decision"], "accepted": False, "reason": "not allowed then"}}


def test_an_untouched_recording_replays_identically(recorded: Path, cli: Cli) -> None:
    code, out, _ = cli("replay", CALL)
    assert code == 0 and "identical" in out and "final state done" in out, out


@pytest.mark.parametrize("doctor, expect", [
    (other_transition, "transitions [confirm→wrap_up"),
    (charge_rejected, "charge_card was rejected when recorded but accepted now"),
], ids=["transition", "decision"])
def test_a_doctored_recording_exits_1_naming_the_first_divergence(
        recorded: Path, cli: Cli, doctor: Callable[[JournalEntry], dict[str, Any] | None], expect: str) -> None:
    seq = asyncio.run(copy_call(recorded, CALL, DOCTORED, doctor))
    code, out, _ = cli("replay", DOCTORED)
    assert code == 1 and "DIVERGED" in out and f"entry #{seq} " in out and expect in out, out
    code, out, _ = cli("replay", DOCTORED, "--json")
    report = json.loads(out)
    assert code == 1 and report["status"] == "diverged" and f"entry #{seq} " in report["divergence"]


def test_an_unknown_call_id_is_not_a_divergence(recorded: Path, cli: Cli) -> None:
    code, out, _ = cli("replay", "call_typo")
    assert code == 3 and "no such call" in out and "DIVERGED" not in out, out


def test_a_crash_inside_tokenize_is_an_interruption_not_a_divergence(
        env: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.sandbox.payments import PaymentsBackend

    def die(self: Any, card_number: str) -> Any:
        raise ProcessDied

    monkeypatch.setattr(PaymentsBackend, "tokenize", die)
    with pytest.raises(ProcessDied):
        asyncio.run(record(env, lines=RENEWAL[:4]))
    code, out, _ = cli("replay", CALL)
    assert code == 0 and "DIVERGED" not in out and "INTERRUPTED" in out and "charge_card" in out, out
    code, out, _ = cli("replay", CALL, "--json")
    assert json.loads(out)["status"] == "interrupted"
