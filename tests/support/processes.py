"""Processes for claim tests: the owner id of a process that has exited.

Why a real process: a claim's owner is declared dead only when its process is gone
(``tools.journal.owners``), and faking that check would test nothing.
"""

from __future__ import annotations

import socket
import subprocess
import sys


def dead_local_owner() -> str:
    """The owner id a process of this host had: the process has exited (and was reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True)
    return f"{socket.gethostname().replace(':', '_')}:{int(child.stdout)}:0:gone"
