"""What a peer reports per caller line, and the comparison `bench turns --peers` prints.

Both peers (bare livekit-agents in this process, Pipecat in its own virtual environment, whose
result arrives as JSON) report the same `LineResult` per caller line, timed on the same level
blocks as the runtime (`worker.transport.levels`): the line's last audible sample, and the first
audible agent sample after it. The latency at the ear is their difference. A line counts as cut
off when the peer committed a caller turn before the line's last audible sample (it answered
a pause inside the line).
"""

from __future__ import annotations

import math

from pydantic import BaseModel

from worker.bench_runner import pct

__all__ = ["LineResult", "PeerRun", "ratio_lines", "summary_line"]


class LineResult(BaseModel):
    """One caller line through a peer (times in seconds on that peer's call clock)."""

    line: int
    audible_end: float
    """The line's last audible sample."""
    heard: float | None = None
    """The first audible agent sample after it (None: no reply within the wait)."""
    early_commits: int = 0
    """Caller turns the peer committed before the line ended (> 0: the line was cut off)."""

    @property
    def ear(self) -> float | None:
        return None if self.heard is None else self.heard - self.audible_end


class PeerRun(BaseModel):
    """A peer's results for a whole bench run; `error` says why there are none."""

    name: str
    lines: list[LineResult] = []
    error: str | None = None
    note: str = ""

    @property
    def ear(self) -> list[float]:
        return [v for v in (r.ear for r in self.lines) if v is not None]

    @property
    def cut(self) -> int:
        return sum(r.early_commits > 0 for r in self.lines)

    @property
    def unanswered(self) -> int:
        return sum(r.heard is None for r in self.lines)


def summary_line(name: str, ear: list[float], cut: int, lines: int) -> str:
    """`name  n  p50  p95  cut-offs` in ms, one line of the summary table."""
    return (f"  {name:14} n {len(ear):3}  p50 {pct(ear, .5) * 1000:5.0f}  p95 {pct(ear, .95) * 1000:5.0f}  "
            f"cut-offs {cut}/{lines} ({100 * cut / max(1, lines):4.1f}%)")


def _ratio(a: list[float], b: list[float], q: float) -> float:
    pa, pb = pct(a, q), pct(b, q)
    return pa / pb if pb and not math.isnan(pa) and not math.isnan(pb) else float("nan")


def ratio_lines(runtime: dict[str, list[float]], peers: list[PeerRun]) -> list[str]:
    """`runtime mode / peer` ratios of p50 and p95 at the ear (< 1: the runtime answers sooner)."""
    out: list[str] = []
    for peer in peers:
        if not peer.ear:
            out.append(f"  runtime / {peer.name}: no figures ({peer.error or 'no answered lines'})")
            continue
        for mode, ear in runtime.items():
            out.append(f"  runtime {mode:8} / {peer.name:14} p50 {_ratio(ear, peer.ear, .5):.2f}  "
                       f"p95 {_ratio(ear, peer.ear, .95):.2f}")
    return out
