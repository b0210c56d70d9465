"""`audit show` and `audit verify`: what the journal says was done, and whether to trust it.

`show` lists every tool call of a call (when, turn, redacted arguments, attempts, result,
signature status); `verify` checks every signature, the chain and the call's head (so deleted
last entries and deleted calls are caught), names the first bad entry, and says whether the
call was sealed at its end. Both have `--json` for scripts: one JSON document, names never wrapped.

Exit codes (README): 0 all good, 1 something failed verification, 3 no such call.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Final

from rich.console import Console
from rich.table import Table

from tools.journal.store import JournalStore
from tools.journal.verify import VerifyReport, verify_store

EXIT_OK: Final[int] = 0
EXIT_FAILED: Final[int] = 1
EXIT_UNKNOWN_CALL: Final[int] = 3


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


def _unknown(console: Console, call_id: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"call_id": call_id, "error": "unknown_call", "message": f"no such call: {call_id}"}))
    else:
        console.print(f"no such call in the journal: {call_id} (check the call id)", markup=False)
    return EXIT_UNKNOWN_CALL


async def show(store: JournalStore, call_id: str, console: Console | None = None, *, as_json: bool = False) -> int:
    console = console or Console()
    entries = await store.entries(call_id)
    if not entries:
        reports = await verify_store(store, call_id)
        if reports and not reports[0].ok:  # the journal knows the call, its entries are gone
            return _print_verify(console, reports, as_json)
        return _unknown(console, call_id, as_json)
    bad = {e.seq for e in entries if not store.signer.verify(e)}
    chain = (await verify_store(store, call_id))[0]
    rows = tool_calls(entries)
    for row in rows:
        row["signature"] = "bad" if bad & set(row["seqs"]) else "ok"
        row["when"] = datetime.fromtimestamp(row["at"], tz=UTC).isoformat(timespec="milliseconds")
    code = EXIT_OK if chain.ok and not bad else EXIT_FAILED
    if as_json:
        print(json.dumps({"call_id": call_id, "entries": len(entries), "chain": chain.model_dump(mode="json"),
                          "tool_calls": rows}, default=str))
        return code
    table = Table(title=f"tool calls of {call_id}", show_lines=True)
    for col in ("when (UTC)", "turn", "tool", "arguments", "attempts", "steps", "outcome", "result", "signature"):
        # Names an operator greps for are never split across lines; free text may fold.
        fold = col in ("arguments", "result", "steps")
        table.add_column(col, overflow="fold" if fold else "ellipsis", no_wrap=not fold,
                         min_width=len("update_opportunity") if col == "tool" else None)
    for row in rows:
        table.add_row(row["when"][11:23], str(row["turn"]), row["tool"], _kv(row["arguments"]), str(row["attempts"]),
                      " → ".join(row["steps"]), row["outcome"], _kv(row["result"]), row["signature"])
    console.print(table)
    console.print(f"chain: {_verdict(chain)} ({len(entries)} entries)", markup=False)
    return code


async def verify(store: JournalStore, call_id: str | None, console: Console | None = None, *,
                 as_json: bool = False) -> int:
    console = console or Console()
    reports: list[VerifyReport] = await verify_store(store, call_id)
    if call_id is not None and all(r.ok and not r.checked for r in reports):
        return _unknown(console, call_id, as_json)
    return _print_verify(console, reports, as_json)


def _print_verify(console: Console, reports: list[VerifyReport], as_json: bool) -> int:
    failed = [r for r in reports if not r.ok]
    if as_json:
        print(json.dumps({"ok": not failed, "calls": [r.model_dump(mode="json") for r in reports]}))
        return EXIT_FAILED if failed else EXIT_OK
    for r in reports:
        if r.ok:
            console.print(f"ok   {r.call_id}: {_verdict(r)}", markup=False)
    for r in failed:
        console.print(f"FAIL {r.call_id}: {_verdict(r)}", markup=False)
    return EXIT_FAILED if failed else EXIT_OK


def _verdict(r: VerifyReport) -> str:
    if r.ok:
        end = "sealed at the end of the call" if r.sealed else "open: no end-of-call seal (live, or its process died)"
        return f"{r.checked} entries, signatures, chain and head valid; {end}"
    where = f"entry {r.bad_seq}: " if r.bad_seq is not None else ""
    return f"{where}{r.reason} — {r.detail}"


def _kv(value: Any) -> str:
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    return ", ".join(f"{k}={v}" for k, v in value.items() if k != "listings")
