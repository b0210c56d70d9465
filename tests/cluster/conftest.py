"""A LiveKit cluster on 127.0.0.1: one Redis, two livekit-server nodes sharing it, one
PostgreSQL journal (bench/pg_server.py), and workers started per test against either node.

All workers share the data directory (sandbox) and the journal with its key, as the workers
of one deployment would share their backends; each registers with the node it is given.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.livekit.helpers import LiveKitServer
from tests.livekit.test_room_call import Worker, _start_worker
from tests.sip.stack import REPO, start_livekit, start_redis

sys.path.insert(0, str(REPO / "bench"))
from pg_server import PostgresUnavailable, start_postgres  # noqa: E402


SWEEP_S = 3.0
"""How often every worker sweeps the journal for calls a dead worker left."""
LEASE_S = 9.0
"""How long a tool call's claim stays owned without a renewal (renewed every 3 s while it runs)."""


@dataclass
class Cluster:
    nodes: list[LiveKitServer]
    journal_url: str
    journal_key: str
    data_dir: Path
    workdir: Path

    def worker(self, node: int, name: str, host: str | None = None, **extra: str) -> Worker:
        """A worker registered with node `node` (0 or 1), sharing the journal and the data dir.

        `host`: run it as another machine would, under that host name (its own UTS namespace):
        the journal's owner ids then name that host, so no other worker can see whether its
        processes live, and only its leases speak for its claims."""
        env = {"PYTHONUNBUFFERED": "1", "MB_JOURNAL_URL": self.journal_url, "MB_JOURNAL_KEY": self.journal_key,
               "MB_WORKER_MAX_CALLS": "1", "MB_RESUME_SWEEP_SECONDS": str(SWEEP_S),
               "MB_JOURNAL_LEASE_SECONDS": str(LEASE_S), "MB_WORKER_DRAIN_TIMEOUT": "180", **extra}
        prefix = ("unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$@"', "sh") if host else ()
        return _start_worker(self.nodes[node], self.data_dir, self.workdir / f"{name}.log", prefix=prefix, **env)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    work = tmp_path_factory.mktemp("cluster")
    started = []
    pg = None
    try:
        redis, address = start_redis(work)
        started.append(redis)
        nodes = []
        for name in ("node1", "node2"):
            proc, server = start_livekit(work, address, name)
            started.append(proc)
            nodes.append(server)
        try:
            pg = start_postgres(database="cluster")
        except PostgresUnavailable as exc:
            pytest.fail(f"the cluster journal needs PostgreSQL: {exc}", pytrace=False)
        yield Cluster(nodes, pg.url, secrets.token_hex(32), work / "data", work)
    finally:
        if pg is not None:
            pg.stop()
        for proc in reversed(started):
            proc.stop()
