"""Owner ids name a process; only a process of this host can be declared dead."""

from __future__ import annotations

import os

from tests.support.processes import dead_local_owner
from tools.journal.owners import new_owner, owner_is_dead, owner_state


def test_this_process_is_alive_and_its_executors_are_told_apart() -> None:
    first, second = new_owner(), new_owner()
    assert first != second and first.split(":")[:3] == second.split(":")[:3]
    assert owner_state(first) == "alive" and not owner_is_dead(first)


def test_an_exited_process_of_this_host_is_dead() -> None:
    assert owner_state(dead_local_owner()) == "dead"


def test_a_reused_pid_is_not_the_owner_that_claimed() -> None:
    host, pid, start, tag = new_owner().split(":")
    assert int(pid) == os.getpid()
    assert owner_state(":".join((host, pid, str(int(start) + 1), tag))) == "dead"


def test_other_hosts_and_foreign_ids_are_never_declared_dead() -> None:
    _, pid, start, tag = new_owner().split(":")
    for owner in (f"another-host:{pid}:{start}:{tag}", "another-host:999999:1:x", "proc-0123", "", None):
        assert owner_state(owner) == "unknown" and not owner_is_dead(owner)
