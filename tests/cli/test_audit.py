"""`mediabloom audit show|verify`: exit codes the README promises, output a script can read.

0 when every signature and link holds, 1 naming the first bad entry, 3 for a call id the
journal never held, 2 (one line) when the key or the journal is missing, and a read-only
command never writes a key or a journal.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from rich.console import Console

from tests.cli.conftest import CALL, Cli
from tests.support.card_leaks import outside_digests
from tools.journal.signing import KEY_FILE_NAME
from tools.journal.store import ENTRIES_TABLE, HEADS_TABLE


def _card_digits_shown(text: str, groups: tuple[str, ...] = ("4539", "6467")) -> bool:
    """Whether any of the renewal card's digit ``groups`` appears outside a hex digest."""
    plain = outside_digests(text)
    return any(group in plain for group in groups)


def test_verify_of_an_untouched_journal_exits_0(recorded: Path, cli: Cli) -> None:
    code, out, _ = cli("audit", "verify", CALL)
    assert code == 0 and out.startswith(f"ok   {CALL}:")
    code, out, _ = cli("audit", "verify")
    assert code == 0 and CALL in out


def test_verify_names_the_first_edited_entry_and_exits_1(recorded: Path, cli: Cli) -> None:
    with sqlite3.connect(recorded / "journal.db") as conn:
        seq = conn.execute(f"SELECT MIN(seq) FROM {ENTRIES_TABLE} WHERE call_id = ? AND step = 'authorize' AND kind = 'step_succeeded'",
                           (CALL,)).fetchone()[0]
        conn.execute(f"UPDATE {ENTRIES_TABLE} SET payload = replace(payload, 'AUTH-', 'AUTH-9') "
                     "WHERE call_id = ? AND seq = ?", (CALL, seq))
    code, out, _ = cli("audit", "verify", CALL)
    assert code == 1 and f"FAIL {CALL}: entry {seq}: signature mismatch" in out
    code, report, _ = cli("audit", "verify", CALL, "--json")
    assert code == 1 and json.loads(report)["calls"][0]["bad_seq"] == seq


def test_an_unknown_call_id_is_named_with_its_own_exit_code(recorded: Path, cli: Cli) -> None:
    for command in (("audit", "verify", "call_typo"), ("audit", "show", "call_typo")):
        code, out, _ = cli(*command)
        assert code == 3 and "no such call" in out and "call_typo" in out, (command, out)


def test_a_call_deleted_with_its_head_is_deleted_not_unknown(recorded: Path, cli: Cli) -> None:
    anchor = recorded / "journal_anchors" / f"{CALL}.anchor.json"
    stored = json.loads(anchor.read_text())  # the default place, outside the database
    assert stored["sealed"] and not _card_digits_shown(anchor.read_text())
    with sqlite3.connect(recorded / "journal.db") as conn:
        conn.execute(f"DELETE FROM {ENTRIES_TABLE} WHERE call_id = ?", (CALL,))
        conn.execute(f"DELETE FROM {HEADS_TABLE} WHERE call_id = ?", (CALL,))
    for command in (("audit", "verify", CALL), ("audit", "show", CALL), ("audit", "verify")):
        code, out, _ = cli(*command)
        assert code == 1 and f"FAIL {CALL}: entry 1: deleted (anchored outside the journal)" in out, (command, out)
    code, out, _ = cli("audit", "verify", "call_typo")
    assert code == 3 and "no such call" in out


def test_read_only_commands_never_create_the_anchor_dir(recorded: Path, cli: Cli) -> None:
    anchors = recorded / "journal_anchors"
    for item in anchors.iterdir():
        item.unlink()
    anchors.rmdir()  # a journal from before anchors: it verifies as before, nothing is written
    for command in (("audit", "verify"), ("audit", "show", CALL), ("replay", CALL), ("resume",)):
        code, out, _ = cli(*command)
        assert code == 0 and not anchors.exists(), (command, out)


def test_verify_without_the_key_file_says_key_not_found_and_writes_no_key(recorded: Path, cli: Cli) -> None:
    (recorded / KEY_FILE_NAME).unlink()
    for command in (("audit", "verify"), ("audit", "show", CALL), ("replay", CALL), ("resume",)):
        code, out, err = cli(*command)
        assert code == 2 and "key was not found" in err and "forged" not in out, (command, out, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert not (recorded / KEY_FILE_NAME).exists(), command


def test_read_only_commands_on_a_missing_journal_create_nothing(env: Path, cli: Cli) -> None:
    env.mkdir()
    (env / KEY_FILE_NAME).write_text("ab" * 32 + "\n")
    (env / KEY_FILE_NAME).chmod(0o600)
    code, _, err = cli("audit", "verify")
    assert code == 2 and "no journal" in err
    assert sorted(p.name for p in env.iterdir()) == [KEY_FILE_NAME]


def test_show_as_json_keeps_tool_names_whole(recorded: Path, cli: Cli) -> None:
    code, out, _ = cli("audit", "show", CALL, "--json")
    shown = json.loads(out)
    assert code == 0 and shown["chain"]["ok"] is True
    tools = [row["tool"] for row in shown["tool_calls"]]
    assert tools == ["verify_identity", "get_renewal_quote", "charge_card"]
    charge = shown["tool_calls"][-1]
    assert charge["outcome"] == "succeeded" and charge["signature"] == "ok"
    assert charge["steps"] == ["authorize", "capture", "receipt"]
    assert not _card_digits_shown(out, ("4539",))  # only the last four are shown, not even the arguments hold more


async def test_show_in_a_narrow_pipe_never_splits_a_tool_name(recorded: Path) -> None:
    from tools.journal.open import default_journal_url, open_store
    from tools.journal.signing import Signer, load_signing_key
    from worker import audit

    store = await open_store(default_journal_url(recorded), Signer(load_signing_key("dev", recorded, None)))
    try:
        console = Console(width=60, color_system=None, record=True, force_terminal=False)
        assert await audit.show(store, CALL, console=console) == 0
    finally:
        await store.close()
    text = console.export_text()
    for name in ("verify_identity", "get_renewal_quote", "charge_card"):
        assert name in text, text
