"""The MediaBloom runtime: transports, the call, the state machine, the planner, traces, CLI.

Import names. The layout keeps two top-level folders, ``worker/`` and ``tools/``, and the
distribution ``mediabloom`` installs them as the import packages ``worker`` and ``tools``.
Both names are generic, so two things can go wrong, and neither may go wrong silently:

- another distribution in the same environment installs its own ``tools`` (or ``worker``):
  the files collide on disk;
- a directory named ``tools`` next to where Python starts (``python -c``, ``python -m``)
  comes first on ``sys.path`` and hides ours.

We keep the names (moving the code under one ``mediabloom`` package would rename every import
in the project and its tests for a clash that a dedicated virtual environment — how ``uv run``
and every deployment here runs the runtime — already rules out), and we make the clash loud:
importing ``worker`` checks that ``tools`` is MediaBloom's (its ``DISTRIBUTION`` marker) and
otherwise raises :class:`ImportError` naming the file that shadows it. The console script
``mediabloom`` does not put the working directory on ``sys.path``, so a local ``tools/`` folder
never hides ours there. ``tests/packaging/test_import_names.py`` checks all three in a clean
virtual environment built from the wheel.
"""

import tools as _tools

if getattr(_tools, "DISTRIBUTION", None) != "mediabloom":
    raise ImportError(
        f"the package `tools` imported from {getattr(_tools, '__file__', None) or _tools.__path__} "
        "is not MediaBloom's: another package named `tools` shadows it (a `tools/` folder in the "
        "working directory, or another distribution installed in this environment). Run "
        "`mediabloom` from its own virtual environment (`uv run mediabloom ...`).")

del _tools
