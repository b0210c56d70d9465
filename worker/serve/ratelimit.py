"""Token buckets by key: how fast one credential mints tokens, how often one address may fail.

The backend keeps two limiters (issue 11): one keyed by the credential a request proved (the
API key, the signing secret, however the header was spelled) and one keyed by the address of
requests that failed. Each bucket holds up to `burst` tokens and refills at `rate_per_second`;
a request spends one.
In-memory and per process — enough for one token backend; several replicas behind a load
balancer would each allow the full rate (a shared store would be the next step).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """`take(key)` spends one token of that key's bucket; returns None, or seconds to wait."""

    def __init__(
        self,
        burst: int,
        rate_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 10_000,
    ) -> None:
        self.burst = burst
        self.rate = rate_per_second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._max_buckets = max_buckets

    def _refilled(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_buckets:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        return bucket

    def take(self, key: str) -> int | None:
        """Spend one token; when the bucket is empty return the whole seconds until one is back."""
        bucket = self._refilled(key, self._clock())
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return self._wait(bucket)

    def _wait(self, bucket: _Bucket) -> int:
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled completely: they behave exactly like new ones."""
        for key in [k for k, b in self._buckets.items() if b.tokens + (now - b.updated) * self.rate >= self.burst]:
            del self._buckets[key]
