"""Several OS processes writing one journal keep every chain valid and every key single-owner."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

from tests.journal.conftest import KEY, Backend
from tools.journal import Signer, open_store, verify_chain

WORKER = Path(__file__).with_name("append_worker.py")
ROOT = Path(__file__).resolve().parents[2]


async def test_processes_append_to_one_call_concurrently(backend: Backend, tmp_path: Path) -> None:
    per_worker, claims, workers = 150, 40, 3
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                backend.url,
                KEY.hex(),
                f"w{i}",
                "shared",
                str(per_worker),
                str(claims),
                str(go),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read() if proc.stderr else ""
        go.touch()
        outputs = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    summaries = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]

    signer = Signer(KEY)
    async with await open_store(backend.url, signer) as store:
        entries = await store.entries("shared")
    assert [e.seq for e in entries] == list(range(1, workers * per_worker + 1))
    assert verify_chain(entries, signer).ok
    writers = [e.payload["worker"] for e in entries if e.payload]
    assert {w: writers.count(w) for w in set(writers)} == {f"w{i}": per_worker for i in range(workers)}
    switches = sum(a != b for a, b in pairwise(writers))
    print(f"{backend.name}: writer switched {switches} times")
    assert switches >= workers, "the workers never wrote concurrently"
    won = sorted(i for summary in summaries for i in summary["claimed"])
    assert won == list(range(claims)), "every key must be claimed by exactly one process"
