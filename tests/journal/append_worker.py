"""A separate OS process that appends to and claims in a shared journal (see test_processes.py).

Protocol: prints ``ready`` once the store is open, waits until the ``go`` file exists (so
all workers start together), appends ``n`` entries to the shared call one by one while
claiming keys ``k0..k{claims-1}``, then prints a JSON summary.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from tools.journal import Signer, open_store


async def main(url: str, key_hex: str, name: str, call_id: str, n: int, claims: int, go: Path) -> None:
    store = await open_store(url, Signer(bytes.fromhex(key_hex)))
    print("ready", flush=True)
    deadline = time.monotonic() + 30
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("never told to go")
        await asyncio.sleep(0.002)
    won = []
    for i in range(n):
        await store.append(call_id, "event", payload={"worker": name, "i": i})
        if i < claims:
            claim = await store.claim(call_id, f"k{i}", "tool", "h" * 64, name, 60)
            if claim.status == "claimed":
                won.append(i)
    await store.close()
    print(json.dumps({"worker": name, "claimed": won}), flush=True)


if __name__ == "__main__":
    url, key_hex, name, call_id, n, claims, go = sys.argv[1:8]
    asyncio.run(main(url, key_hex, name, call_id, int(n), int(claims), Path(go)))
