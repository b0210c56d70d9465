"""A throwaway PostgreSQL server for the journal tests and bench.

Why its own server instead of a shared one: tests must not depend on, or touch, any
database that happens to run on the machine. A fresh cluster in a temporary directory,
bound to 127.0.0.1 on a free port with trust auth, gone when stopped. PostgreSQL refuses
to run as root, so as root the server runs as the ``postgres`` user (``runuser``).

Used by ``tests/journal/conftest.py`` and ``bench/journal_bench.py`` (both put this
directory on ``sys.path``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

PG_BIN_GLOB: Final[str] = "/usr/lib/postgresql/*/bin"
INSTALL_HINT: Final[str] = "install them with `apt-get install -y postgresql` (.ci/run does this)"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server binaries are missing or the server would not start."""


def find_pg_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<v>/bin`` with initdb and pg_ctl, else the one on PATH."""
    candidates = sorted(
        (Path(path) for path in glob.glob(PG_BIN_GLOB)),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
        reverse=True,
    )
    for bin_dir in candidates:
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            return bin_dir
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgServer:
    """A running throwaway server; ``url`` points at its database."""

    bin_dir: Path
    base_dir: Path
    port: int
    database: str
    run_as: list[str] = field(default_factory=list)
    stopped: bool = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete its files."""
        if self.stopped:
            return
        self.stopped = True
        try:
            _run([*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
        )


def start_postgres(*, database: str = "journal", durable: bool = False) -> PgServer:
    """Create a cluster in a temporary directory, start it on 127.0.0.1 and create ``database``.

    ``durable=False`` turns off fsync (fine for tests, whose data is thrown away);
    ``durable=True`` keeps PostgreSQL's defaults so a bench measures real commits.
    """
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise PostgresUnavailable(f"PostgreSQL server binaries (initdb, pg_ctl) are not installed: {INSTALL_HINT}.")
    base_dir = Path(tempfile.mkdtemp(prefix="mb-pg-"))
    run_as: list[str] = []
    try:
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root needs a 'postgres' user to run the server: {INSTALL_HINT}."
                ) from None
            os.chown(base_dir, user.pw_uid, user.pw_gid)
            run_as = ["runuser", "-u", "postgres", "--"]
        data_dir = base_dir / "data"
        _run(
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        options = f"-c listen_addresses=127.0.0.1 -k {base_dir} -c max_connections=200"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        last_error: PostgresUnavailable | None = None
        for _ in range(3):  # the free port may be taken before the server binds it
            port = _free_port()
            try:
                _run(
                    [
                        *run_as,
                        str(bin_dir / "pg_ctl"),
                        "-D",
                        str(data_dir),
                        "-l",
                        str(base_dir / "server.log"),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        f"{options} -p {port}",
                        "start",
                    ]
                )
            except PostgresUnavailable as exc:
                last_error = exc
                continue
            server = PgServer(bin_dir, base_dir, port, database, run_as)
            try:
                _run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database])
            except BaseException:
                server.stop()
                raise
            return server
        log = (
            (base_dir / "server.log").read_text(errors="replace")[-2000:] if (base_dir / "server.log").exists() else ""
        )
        raise PostgresUnavailable(f"PostgreSQL did not start: {last_error}\n{log}")
    except BaseException:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise
