"""Journal overhead bench (run: `uv run python bench/journal_bench.py`).

One journaled tool call is what the executor writes around a two-step tool: claim the
idempotency key, ``call_started``, ``step_started``, ``step_succeeded``,
``call_succeeded``, finish the key (4 appends + claim + finish, each its own commit).
Printed per backend: the latency of that whole sequence and of a single append when one
task runs calls back to back (p50/p99), and journaled tool calls per second when many
conversations run at once. SQLite runs in WAL with synchronous=NORMAL (the store's
setting); PostgreSQL is a throwaway local server with its default durable commits
(`--pg-fast` turns fsync off). The machine's load average is printed too: on a shared
2-core box the figures move with it; "cpu/call" (this process's CPU time, all threads,
per journaled call) moves much less and bounds calls/s at 1000 / cpu-per-call per core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from loguru import logger

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg_server import start_postgres

from tools.journal import JournalStore, Signer, args_hash, open_store, verify_store

ARGS = {"policy_number": "POL-4821", "amount_cents": 128_400, "card": "•••• 4242"}
RESULT = {"charge_id": "ch_3Nf8", "amount_cents": 128_400, "status": "captured"}


@dataclass
class Figures:
    backend: str
    call_p50_ms: float
    call_p99_ms: float
    append_p50_ms: float
    append_p99_ms: float
    calls_per_s: float
    concurrent_call_p50_ms: float
    concurrent_call_p99_ms: float
    concurrency: int
    cpu_ms_per_call: float  # this process's CPU (all threads) per call in the concurrent run


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def tool_call(store: JournalStore, call_id: str, n: int, append_times: list[float] | None = None) -> None:
    """The journal writes of one effectful two-step tool call."""
    key = f"charge_card:{n}"
    owner = f"bench-{n}"
    a_hash = args_hash("charge_card", ARGS)
    claim = await store.claim(call_id, key, "charge_card", a_hash, owner, 3600)
    assert claim.status == "claimed", claim
    appends = (
        ("call_started", None, {"args": ARGS}),
        ("step_started", "authorize", None),
        ("step_succeeded", "authorize", {"authorization": "auth_77"}),
        ("call_succeeded", None, {"result": RESULT}),
    )
    for kind, step, payload in appends:
        started = time.perf_counter()
        await store.append(
            call_id,
            kind,
            tool="charge_card",
            tool_call_id=f"tc-{n}",
            idempotency_key=key,
            step=step,
            attempt=1 if step else None,
            turn=n,
            payload=payload,
            args_hash=a_hash,
        )
        if append_times is not None:
            append_times.append(time.perf_counter() - started)
    assert await store.finish(call_id, key, owner, "succeeded", RESULT)


async def measure(backend: str, url: str, calls: int, concurrency: int) -> Figures:
    store = await open_store(url, Signer(os.urandom(32)))
    try:
        for n in range(50):  # warm up connections, statement caches, the page cache
            await tool_call(store, "warmup", n)

        call_times: list[float] = []
        append_times: list[float] = []
        sequential = f"seq-{uuid.uuid4().hex[:8]}"
        for n in range(calls):
            started = time.perf_counter()
            await tool_call(store, sequential, n, append_times)
            call_times.append(time.perf_counter() - started)

        per_task = max(1, calls // concurrency)
        concurrent_times: list[float] = []

        async def conversation(task: int) -> None:
            call_id = f"conc-{task}-{uuid.uuid4().hex[:8]}"
            for n in range(per_task):
                started = time.perf_counter()
                await tool_call(store, call_id, n)
                concurrent_times.append(time.perf_counter() - started)

        started, cpu_started = time.perf_counter(), time.process_time()
        await asyncio.gather(*(conversation(task) for task in range(concurrency)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started

        reports = await verify_store(store)
        assert all(report.ok for report in reports), [r for r in reports if not r.ok][:3]
    finally:
        await store.close()
    return Figures(
        backend=backend,
        call_p50_ms=pct(call_times, 0.50),
        call_p99_ms=pct(call_times, 0.99),
        append_p50_ms=pct(append_times, 0.50),
        append_p99_ms=pct(append_times, 0.99),
        calls_per_s=per_task * concurrency / elapsed,
        concurrent_call_p50_ms=pct(concurrent_times, 0.50),
        concurrent_call_p99_ms=pct(concurrent_times, 0.99),
        concurrency=concurrency,
        cpu_ms_per_call=cpu * 1000 / (per_task * concurrency),
    )


async def run(args: argparse.Namespace) -> list[Figures]:
    figures = []
    if "sqlite" in args.backends:
        with tempfile.TemporaryDirectory(prefix="journal-bench-") as tmp:
            figures.append(await measure("sqlite", f"sqlite:///{tmp}/journal.db", args.calls, args.concurrency))
    if "postgres" in args.backends:
        server = await asyncio.to_thread(start_postgres, database="bench", durable=not args.pg_fast)
        try:
            name = "postgres (fsync off)" if args.pg_fast else "postgres"
            figures.append(await measure(name, server.url, args.calls, args.concurrency))
        finally:
            await asyncio.to_thread(server.stop)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="tool calls per measurement (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="conversations at once for the throughput run")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--pg-fast", action="store_true", help="PostgreSQL with fsync off (not durable)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    logger.remove()
    load_before = os.getloadavg()
    figures = asyncio.run(run(args))
    if args.json:
        print(json.dumps([asdict(f) for f in figures], indent=2))
        return
    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, "
        f"load average {load_before[0]:.2f} before / {os.getloadavg()[0]:.2f} after"
    )
    print("one tool call = claim + 4 appends + finish; each write its own commit; chains verified afterwards")
    header = f"{'backend':<22}{'call p50':>10}{'call p99':>10}{'append p50':>12}{'append p99':>12}"
    header += f"{'calls/s':>10}{'  @conc':>8}{'conc p50':>10}{'conc p99':>10}{'cpu/call':>10}"
    print(header)
    for f in figures:
        print(
            f"{f.backend:<22}{f.call_p50_ms:>8.2f}ms{f.call_p99_ms:>8.2f}ms{f.append_p50_ms:>10.3f}ms"
            f"{f.append_p99_ms:>10.3f}ms{f.calls_per_s:>10.0f}{f.concurrency:>8}{f.concurrent_call_p50_ms:>8.2f}ms"
            f"{f.concurrent_call_p99_ms:>8.2f}ms{f.cpu_ms_per_call:>8.2f}ms"
        )


if __name__ == "__main__":
    main()
