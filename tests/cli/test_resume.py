"""`mediabloom resume`: finishes what a crash interrupted, exactly once, and nothing else.

Exit 0 when every unfinished call was completed (or is still running elsewhere, or had not
started), 1 when one failed, 2 when a call's backend is missing (then nothing is created
and nothing is recorded for it). Covered here: a dead owner's charge is finished from the
first incomplete step; from another working directory the recorded sandbox is found; a
missing sandbox is refused; a call still running in a live worker is never taken over.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import CALL, Cli, ProcessDied, crash_mid_charge, record
from tests.support.processes import dead_local_owner
from tests.cli.recorded import TODAY
from tools.journal.store import ENTRIES_TABLE, IDEMPOTENCY_TABLE
from tools.sandbox.core import Sandbox
from tools.sandbox.payments import PaymentsBackend
from worker.journaling import open_journal
from worker.resume import resume_calls
from worker.settings import load_settings


def journal_kinds(data: Path, call_id: str = CALL) -> Counter[str]:
    with sqlite3.connect(data / "journal.db") as conn:
        return Counter(row[0] for row in conn.execute(f"SELECT kind FROM {ENTRIES_TABLE} WHERE call_id = ?",
                                                      (call_id,)))


def payments(path: Path) -> dict[str, int]:
    with Sandbox.open(path, TODAY) as sb:
        return {"authorizations": sb.payments.count_authorizations(), "charges": sb.payments.count_charges(),
                "receipts": sb.payments.count_receipts()}


def test_with_nothing_unfinished_resume_says_so_and_exits_0(recorded: Path, cli: Cli) -> None:
    code, out, _ = cli("resume")
    assert code == 0 and out.strip() == "nothing to resume"


def test_a_charge_whose_process_died_is_finished_once_from_its_first_incomplete_step(env: Path, cli: Cli) -> None:
    sandbox = crash_mid_charge(env, at="before_step:receipt")
    assert payments(sandbox) == {"authorizations": 1, "charges": 1, "receipts": 0}

    code, out, _ = cli("resume")

    assert code == 0 and out.strip() == "charge_card: completed", out
    assert payments(sandbox) == {"authorizations": 1, "charges": 1, "receipts": 1}
    kinds = journal_kinds(env)
    assert kinds["call_succeeded"] == 3 and kinds["step_started"] == 5  # verify, quote, charge; one receipt step
    code, out, _ = cli("resume")
    assert code == 0 and out.strip() == "nothing to resume"
    assert cli("audit", "verify", CALL)[0] == 0


def test_resume_from_another_working_directory_finds_the_recorded_sandbox(
        env: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The call ran with its sandbox at a path relative to where it ran (as simulate does)."""
    ran_in = tmp_path / "ran_here"
    ran_in.mkdir()
    monkeypatch.chdir(ran_in)
    crash_mid_charge(env, at="before_step:receipt", sandbox_path=Path("runs") / CALL / "sandbox.db")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    code, out, _ = cli("resume")

    assert code == 0 and out.strip() == "charge_card: completed", out
    assert payments(ran_in / "runs" / CALL / "sandbox.db") == {"authorizations": 1, "charges": 1, "receipts": 1}
    assert list(elsewhere.iterdir()) == []  # no empty sandbox was made here
    assert journal_kinds(env)["call_failed"] == 0


def test_a_missing_backend_is_refused_without_creating_or_recording_anything(
        env: Path, cli: Cli, tmp_path: Path) -> None:
    sandbox = crash_mid_charge(env, at="before_step:capture")
    kept = tmp_path / "kept.db"
    shutil.move(sandbox, kept)
    for suffix in ("-wal", "-shm"):
        Path(f"{sandbox}{suffix}").unlink(missing_ok=True)
    before = journal_kinds(env)

    code, out, _ = cli("resume")

    assert code == 2 and "charge_card: failed: backend_missing" in out and str(sandbox) in out, out
    assert "nothing was resumed or created" in out
    assert not sandbox.exists() and journal_kinds(env) == before
    shutil.move(kept, sandbox)  # the backend is back: the call is finished, once
    code, out, _ = cli("resume")
    assert code == 0 and out.strip() == "charge_card: completed", out
    assert payments(sandbox) == {"authorizations": 1, "charges": 1, "receipts": 1}


@pytest.mark.parametrize("owner", ["this-process", "worker-on-another-host"])
async def test_a_call_still_running_in_a_live_worker_is_not_taken_over(
        env: Path, monkeypatch: pytest.MonkeyPatch, owner: str) -> None:
    """The capture hangs in a live call; ``resume`` (the CLI's, or a second worker's at start) runs
    meanwhile and must leave it alone: the live owner is alive (same host), or its lease is kept
    renewed (another host, where liveness is unknown). The live call then finishes it, once."""
    release = asyncio.Event()
    slow_capture = PaymentsBackend.capture
    loop = asyncio.get_running_loop()

    def hanging_capture(self: Any, authorization_id: str, idempotency_key: str) -> str:
        asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=30)
        return str(slow_capture(self, authorization_id, idempotency_key))

    monkeypatch.setattr("tools.sandbox.payments.PaymentsBackend.capture", hanging_capture)
    options: dict[str, Any] = {"lease_s": 0.3}
    if owner != "this-process":
        options["owner"] = owner
    live = asyncio.create_task(record(env, **options))
    while journal_kinds_safe(env).get("step_started", 0) < 4:  # verify, quote, authorize, capture
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # three leases long: only renewals keep the claim owned

    journal = await open_journal(load_settings(), create=False)
    try:
        taken = await resume_calls(journal, load_settings())
    finally:
        await journal.store.close()
    release.set()
    await live

    assert [(o.name, o.error_code) for o in taken] == [("charge_card", "running_elsewhere")]
    kinds = journal_kinds(env)
    assert kinds["call_succeeded"] == 3 and kinds["call_failed"] == 0  # one per tool, the charge's by its owner
    assert payments(env / "sandbox.db") == {"authorizations": 1, "charges": 1, "receipts": 1}


def journal_kinds_safe(data: Path) -> Counter[str]:
    try:
        return journal_kinds(data)
    except sqlite3.OperationalError:  # not created yet
        return Counter()


def test_a_crash_inside_tokenize_is_visible_to_resume_and_closed_once(
        env: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing of the charge ran but the card's tokenization: resume says so (no effect to finish),
    journals it once, and replay then names the tool call that stopped."""
    def die(self: Any, card_number: str) -> Any:
        raise ProcessDied("inside tokenize")

    with monkeypatch.context() as patch, pytest.raises(ProcessDied):
        patch.setattr(PaymentsBackend, "tokenize", die)
        asyncio.run(record(env, owner=dead_local_owner()))

    code, out, _ = cli("resume")
    assert code == 0 and out.startswith("charge_card: interrupted — charge_card was interrupted before it started"), (out, _)
    assert journal_kinds(env)["call_interrupted"] == 1
    assert payments(env / "sandbox.db") == {"authorizations": 0, "charges": 0, "receipts": 0}
    assert cli("resume")[:2] == (0, "nothing to resume\n")
    code, out, _ = cli("replay", CALL)
    assert code == 0 and "INTERRUPTED" in out and "charge_card" in out and "closed by resume" in out, out


def succeeded_charges(data: Path) -> list[str]:
    with sqlite3.connect(data / "journal.db") as conn:
        return [row[0] for row in conn.execute(
            f"SELECT payload FROM {ENTRIES_TABLE} WHERE call_id = ? AND kind = 'call_succeeded' AND tool = ?",
            (CALL, "charge_card"))]


def test_resume_rebuilds_a_finished_charge_from_signed_entries(env: Path, cli: Cli) -> None:
    """Killed after the outcome was stored but before its journal line: resume writes that line
    from the signed step outputs, not from the (editable) idempotency table."""
    sandbox = crash_mid_charge(env, at="after_finish_claim")
    code, out, _ = cli("resume")
    assert code == 0 and out.strip() == "charge_card: completed", out
    with Sandbox.open(sandbox, TODAY) as sb:
        charge_id = sb.payments.list_charges()[0].charge_id
    [payload] = succeeded_charges(env)
    assert charge_id in payload and '"amount_cents":128400' in payload
    assert cli("audit", "verify", CALL)[0] == 0


def test_an_edited_idempotency_record_is_never_signed_into_the_journal(env: Path, cli: Cli) -> None:
    crash_mid_charge(env, at="after_finish_claim")
    with sqlite3.connect(env / "journal.db") as conn:
        edited = conn.execute(f"UPDATE {IDEMPOTENCY_TABLE} SET result = ? WHERE tool = 'charge_card'",
                              ('{"amount_cents":1,"charge_id":"CH-6666"}',)).rowcount
    assert edited == 1

    code, out, _ = cli("resume")

    assert code == 1 and "charge_card: failed: journal_tampered" in out, out
    assert succeeded_charges(env) == []  # nothing was signed: not the forgery, not anything else
    assert cli("audit", "verify", CALL)[0] == 0


def test_an_edited_journal_is_not_resumed(env: Path, cli: Cli) -> None:
    """A step's output edited in the journal (say, another authorization to capture) fails
    verification: resume refuses the call instead of acting on it."""
    crash_mid_charge(env, at="before_step:capture")
    with sqlite3.connect(env / "journal.db") as conn:
        conn.execute(f"UPDATE {ENTRIES_TABLE} SET payload = replace(payload, 'AUTH-', 'AUTH-9') "
                     "WHERE call_id = ? AND step = 'authorize' AND kind = 'step_succeeded'", (CALL,))
    code, out, _ = cli("resume")
    assert code == 1 and "charge_card: failed: journal_tampered" in out and "signature mismatch" in out, out
    assert payments(env / "sandbox.db") == {"authorizations": 1, "charges": 0, "receipts": 0}
