"""Who holds a claim, and whether that process is still alive.

Why owners carry their host and process: an in-progress claim is a lock with a lease
(``tools.journal.lease``). A lease alone makes ``resume`` after a crash wait until it runs
out; a worker restarted on the same machine can do better, because it can *see* that the
process named in the claim is gone. So an owner id is ``host:pid:start:random``: on the same
host, a pid that no longer runs (or now runs a different program, started at another time)
is a dead owner whose claim may be taken over at once. An owner on another host, or an id
in any other form, is never declared dead here: only its lease running out frees it.
"""

from __future__ import annotations

import os
import secrets
import socket
from functools import cache
from typing import Final, Literal

_SEP: Final[str] = ":"


@cache
def _host() -> str:
    return socket.gethostname().replace(_SEP, "_") or "localhost"


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None if it is not running.

    A zombie (exited, not yet reaped) counts as not running.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode("ascii", "replace")
    except FileNotFoundError:
        return None
    except OSError:
        return ""  # exists but unreadable: alive, start unknown
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may contain spaces
    if not fields or fields[0] in ("Z", "X"):
        return None
    return fields[19] if len(fields) > 19 else ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_owner() -> str:
    """An owner id for this process: ``host:pid:start:random`` (random tells executors apart)."""
    pid = os.getpid()
    start = _start_time(pid) or "0"
    return _SEP.join((_host(), str(pid), start, secrets.token_hex(6)))


def owner_state(owner: str | None) -> Literal["alive", "dead", "unknown"]:
    """Whether ``owner``'s process runs: known only for processes of this host."""
    if not owner:
        return "unknown"
    parts = owner.split(_SEP)
    if len(parts) != 4 or parts[0] != _host() or not parts[1].isdigit():
        return "unknown"
    pid = int(parts[1])
    if os.path.isdir("/proc"):
        start = _start_time(pid)
        if start is None:
            return "dead"
        reused = bool(start) and parts[2] != "0" and start != parts[2]
        return "dead" if reused else "alive"
    return "alive" if _alive(pid) else "dead"


def owner_is_dead(owner: str | None) -> bool:
    """True only when ``owner`` is a process of this host that no longer runs."""
    return owner_state(owner) == "dead"
