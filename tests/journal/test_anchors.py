"""The anchor kept outside the database catches what the database alone cannot show.

Someone with write access to the journal database can delete a call's entries *and* its head
(the call would look like a typo in its id) or put back an older head they copied over a
truncation. The per-call anchor file, signed and kept elsewhere, names both; a forged anchor
is named too, and a call id nothing knows stays unknown.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from tests.journal.conftest import Backend
from tests.support.card_leaks import outside_digests
from tools.journal import JournalEntry, JournalStore, Signer
from tools.journal import verify_store
from tools.journal.anchors import AnchorDir
from tools.journal.store import HEADS_TABLE
from tools.journal.verify import ANCHOR_MISMATCH, CALL_DELETED_ANCHORED, TRUNCATED
from worker import audit

CALL = "call-anchored"
CARD_WORDS = "four five three nine 1488 0343 6467"


@pytest.fixture
def anchors(store: JournalStore, signer: Signer, tmp_path: Path) -> AnchorDir:
    store.anchors = AnchorDir(tmp_path / "elsewhere" / "anchors", signer)
    return store.anchors


@pytest.fixture
async def sealed(store: JournalStore, anchors: AnchorDir) -> list[JournalEntry]:
    """A call of six entries ending in its seal, plus an untouched neighbouring call."""
    entries = [await store.append(CALL, "event", payload={"event": "call_opened", "said": CARD_WORDS})]
    for step in ("authorize", "capture"):
        entries.append(await store.append(CALL, "step_started", tool="charge_card", idempotency_key="k", step=step))
        entries.append(await store.append(CALL, "step_succeeded", tool="charge_card", idempotency_key="k",
                                          step=step))
    entries.append(await store.seal(CALL, reason="call ended"))
    await store.append("call-other", "event", payload={"untouched": True})
    return entries


async def head_row(backend: Backend, call_id: str) -> tuple[object, ...]:
    p = backend.raw.param
    rows = await backend.raw.fetch(f"SELECT seq, last_signature, signature FROM {HEADS_TABLE} WHERE call_id = {p(1)}",
                                   call_id)
    return rows[0]


async def verify_text(store: JournalStore, call_id: str) -> tuple[int, str]:
    out = io.StringIO()
    code = await audit.verify(store, call_id, Console(file=out, width=400))
    return code, out.getvalue()


async def test_a_deleted_sealed_call_is_deleted_not_unknown(
    store: JournalStore, sealed: list[JournalEntry], backend: Backend
) -> None:
    p = backend.raw.param
    for entry in sealed:
        await backend.raw.delete(CALL, entry.seq)
    await backend.raw.execute(f"DELETE FROM {HEADS_TABLE} WHERE call_id = {p(1)}", CALL)
    assert await store.entries(CALL) == [] and await store.head(CALL) is None

    report = (await verify_store(store, CALL))[0]
    assert (report.ok, report.bad_seq, report.reason) == (False, 1, CALL_DELETED_ANCHORED)
    assert "entry 6 and was sealed" in (report.detail or "")
    everything = {r.call_id: r for r in await verify_store(store)}
    assert not everything[CALL].ok and everything["call-other"].ok  # a full check finds it too
    code, text = await verify_text(store, CALL)
    assert code == audit.EXIT_FAILED and "deleted (anchored outside the journal)" in text


async def test_a_typo_call_id_stays_unknown(store: JournalStore, sealed: list[JournalEntry]) -> None:
    typo = (await verify_store(store, "call-anchord"))[0]
    assert (typo.ok, typo.checked, typo.reason) == (True, 0, None)
    code, text = await verify_text(store, "call-anchord")
    assert code == audit.EXIT_UNKNOWN_CALL and "no such call" in text


async def test_an_older_head_put_back_over_a_truncation_is_caught_by_the_anchor(
    store: JournalStore, anchors: AnchorDir, backend: Backend
) -> None:
    await store.append(CALL, "event", payload={"event": "call_opened"})
    await store.append(CALL, "step_started", tool="charge_card", idempotency_key="k", step="authorize")
    old_head = await head_row(backend, CALL)  # copied by the attacker while the call ran
    await store.append(CALL, "step_succeeded", tool="charge_card", idempotency_key="k", step="authorize")
    await store.append(CALL, "call_succeeded", tool="charge_card", idempotency_key="k", payload={"charge": "ch_9"})
    await store.seal(CALL, reason="call ended")
    assert (await verify_store(store, CALL))[0].ok

    for seq in (3, 4, 5):
        await backend.raw.delete(CALL, seq)
    p = backend.raw.param
    await backend.raw.execute(f"UPDATE {HEADS_TABLE} SET seq = {p(1)}, last_signature = {p(2)}, signature = {p(3)} "
                              f"WHERE call_id = {p(4)}", *old_head, CALL)
    report = (await verify_store(store, CALL))[0]
    assert (report.ok, report.bad_seq, report.reason) == (False, 3, TRUNCATED), report
    assert "sealed at entry 5" in (report.detail or "")


@pytest.mark.parametrize("forgery", ["seq", "garbage", "other-call"])
async def test_a_forged_anchor_is_caught(
    store: JournalStore, sealed: list[JournalEntry], anchors: AnchorDir, forgery: str
) -> None:
    path = anchors.file(CALL)
    if forgery == "seq":
        data = json.loads(path.read_text())
        data["seq"] = 2  # moved back to fit a truncation, without the key to re-sign it
        path.write_text(json.dumps(data))
    elif forgery == "garbage":
        path.write_bytes(b"\xff not an anchor")
    else:
        path.write_bytes(anchors.file("call-other").read_bytes())  # another call's (valid) anchor
    report = (await verify_store(store, CALL))[0]
    assert (report.ok, report.reason) == (False, ANCHOR_MISMATCH), report
    assert (await verify_store(store, "call-other"))[0].ok


async def test_anchors_hold_no_caller_text_and_follow_the_seal(
    store: JournalStore, sealed: list[JournalEntry], anchors: AnchorDir
) -> None:
    data = json.loads(anchors.file(CALL).read_text())
    assert set(data) == {"call_id", "seq", "last_signature", "sealed", "at", "signature"}
    assert (data["seq"], data["last_signature"], data["sealed"]) == (6, sealed[-1].signature, True)
    plain = outside_digests(anchors.file(CALL).read_text())
    assert "four" not in plain and "6467" not in plain
    other = json.loads(anchors.file("call-other").read_text())
    assert (other["seq"], other["sealed"]) == (1, False)  # opened: the call exists
    await store.append(CALL, "call_succeeded", tool="charge_card", idempotency_key="k2")  # e.g. from resume
    assert (await verify_store(store, CALL))[0].ok


async def test_read_only_commands_never_create_the_anchor_dir(
    store: JournalStore, signer: Signer, tmp_path: Path
) -> None:
    missing = tmp_path / "no-anchors"
    store.anchors = AnchorDir(missing, signer, create=False)
    await store.append(CALL, "event", payload={"event": "call_opened"})
    await store.seal(CALL)
    assert (await verify_store(store))[0].ok
    assert not missing.exists()
