"""A logged traceback never shows variable values (issue 11, item 3).

Loguru's default `diagnose=True` prints every local of every frame next to the traceback; on
the token server that printed the signature a request should have carried. The process's
logging (worker/logs.py) must print where an error happened, never what the variables held,
whether the exception comes through loguru or through a library's standard `logging` call.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import logging
    from loguru import logger
    from worker.logs import setup_logging

    setup_logging("INFO", json={json})

    def check(expected_signature):
        presented = "not-it"
        raise ValueError("mismatch of " + str(len(presented)))

    try:
        check("EXPECTED-" + "5f3a9c")
    except ValueError:
        logger.exception("through loguru")
        logging.getLogger("aiohttp.server").exception("through logging")
    """
)


def _run(json: bool, tmp_path: Path) -> str:
    probe = tmp_path / "probe.py"  # a real file: loguru shows values only where it can read the source
    probe.write_text(SCRIPT.format(json=json))
    proc = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, timeout=60, check=False,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    return re.sub(r"\x1b\[[0-9;]*m", "", proc.stderr)  # the text sink is coloured


def test_text_logs_show_where_but_not_values(tmp_path: Path) -> None:
    err = _run(json=False, tmp_path=tmp_path)
    assert "through loguru" in err and "through logging" in err
    assert "ValueError" in err and "in check" in err  # what and where
    assert "EXPECTED-5f3a9c" not in err and "not-it" not in err


def test_json_logs_show_where_but_not_values(tmp_path: Path) -> None:
    err = _run(json=True, tmp_path=tmp_path)
    assert "through loguru" in err and "ValueError" in err
    assert "EXPECTED-5f3a9c" not in err and "not-it" not in err
