"""`audit show` and `audit verify`: what the journal says was done, and whether to trust it.

`show` lists every tool call of a call (when, turn, redacted arguments, attempts, result,
signature status); `verify` checks every signature and the chain and names the first bad entry.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rich.console import Console
from rich.table import Table

from tools.journal.store import JournalStore
from tools.journal.verify import VerifyReport, verify_chain, verify_store


def tool_calls(entries: list[Any]) -> list[dict[str, Any]]:
    """Group a call's entries into one row per tool call (by model call id)."""
    rows: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e.kind == "event" or not e.tool:
            continue
        rid = e.tool_call_id or e.idempotency_key or f"seq{e.seq}"
        row = rows.setdefault(rid, {"tool": e.tool, "tool_call_id": e.tool_call_id, "turn": e.turn, "at": e.at,
                                    "arguments": None, "attempts": 0, "steps": [], "outcome": "unfinished",
                                    "result": None, "seqs": []})
        row["seqs"].append(e.seq)
        p = e.payload or {}
        if e.kind == "call_started":
            row["arguments"] = p.get("args")
        elif e.kind == "step_started":
            row["attempts"] += 1
        elif e.kind == "step_succeeded" and e.step:
            row["steps"].append(e.step)
        elif e.kind == "call_succeeded":
            row["outcome"], row["result"] = "succeeded", p.get("result")
        elif e.kind == "call_failed":
            row["outcome"], row["result"] = "failed", {"error": p.get("error"), "message": p.get("message")}
        elif e.kind == "call_replayed":
            row["outcome"] = "served from stored result"
    return list(rows.values())


async def show(store: JournalStore, call_id: str, console: Console | None = None) -> int:
    console = console or Console()
    entries = await store.entries(call_id)
    if not entries:
        console.print(f"no journal entries for call {call_id}")
        return 1
    bad = {e.seq for e in entries if not store.signer.verify(e)}
    chain = verify_chain(entries, store.signer)
    table = Table(title=f"tool calls of {call_id}", show_lines=True)
    for col in ("when (UTC)", "turn", "tool", "arguments", "attempts", "steps", "outcome", "result", "signature"):
        table.add_column(col, overflow="fold")
    for row in tool_calls(entries):
        sig = "bad" if bad & set(row["seqs"]) else "ok"
        when = datetime.fromtimestamp(row["at"], tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3]
        table.add_row(when, str(row["turn"]), row["tool"], _kv(row["arguments"]), str(row["attempts"]),
                      " → ".join(row["steps"]), row["outcome"], _kv(row["result"]), sig)
    console.print(table)
    console.print(f"chain: {'ok' if chain.ok else 'BROKEN at entry ' + str(chain.bad_seq) + ': ' + str(chain.reason)}"
                  f" ({len(entries)} entries)")
    return 0 if chain.ok and not bad else 1


async def verify(store: JournalStore, call_id: str | None, console: Console | None = None) -> int:
    console = console or Console()
    reports: list[VerifyReport] = await verify_store(store, call_id)
    if call_id is not None and not any(r.checked or not r.ok for r in reports):
        console.print(f"no journal entries for call {call_id}")
        return 1
    failed = [r for r in reports if not r.ok]
    for r in reports:
        if r.ok:
            console.print(f"ok   {r.call_id}: {r.checked} entries, signatures and chain valid")
    for r in failed:
        console.print(f"FAIL {r.call_id}: entry {r.bad_seq}: {r.reason} — {r.detail}")
    return 1 if failed else 0


def _kv(value: Any) -> str:
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    return ", ".join(f"{k}={v}" for k, v in value.items() if k != "listings")
