"""Without PostgreSQL's binaries the PostgreSQL tests must fail loudly, saying how to fix it."""

from __future__ import annotations

import pg_server as pg  # on sys.path via conftest (bench/)
import pytest


def test_missing_binaries_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "find_pg_bin", lambda: None)
    with pytest.raises(pg.PostgresUnavailable, match="apt-get install -y postgresql"):
        pg.start_postgres()


def test_server_binds_loopback_only(pg_server: pg.PgServer) -> None:
    assert pg_server.url.startswith("postgresql://postgres@127.0.0.1:")
    conf = (pg_server.data_dir / "postmaster.opts").read_text()
    assert "listen_addresses=127.0.0.1" in conf
