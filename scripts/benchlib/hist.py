"""A latency histogram with log-spaced buckets: cheap to add to, mergeable, bounded.

Buckets grow by 1 % from 1 µs, so a percentile read from it is within 1 % of the true
sample; everything above ~2.6 hours lands in the last bucket. Workers ship the counts
(a list of ints) to the coordinator, which merges them.
"""

from __future__ import annotations

import math

__all__ = ["Histogram"]

GROWTH = 1.01
SCALE = 1 / math.log(GROWTH)
FLOOR = 1e-6                    # seconds: everything below is the first bucket
BUCKETS = 2200                  # FLOOR * GROWTH**2200 ~ 3e3 s


class Histogram:
    __slots__ = ("counts", "total", "sum")

    def __init__(self, counts: list[int] | None = None) -> None:
        self.counts = counts if counts is not None else [0] * BUCKETS
        self.total = sum(self.counts)
        self.sum = 0.0

    def add(self, seconds: float) -> None:
        if seconds <= FLOOR:
            index = 0
        else:
            index = min(int(math.log(seconds / FLOOR) * SCALE) + 1, BUCKETS - 1)
        self.counts[index] += 1
        self.total += 1
        self.sum += seconds

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts)]
        self.total += other.total
        self.sum += other.sum

    def percentile(self, p: float) -> float | None:
        """The upper edge of the bucket holding the p-th percentile (seconds)."""
        if not self.total:
            return None
        rank = math.ceil(self.total * p / 100)
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= max(rank, 1):
                return FLOOR * GROWTH ** index
        return FLOOR * GROWTH ** (BUCKETS - 1)

    def mean(self) -> float | None:
        return self.sum / self.total if self.total else None

    def to_wire(self) -> tuple[dict[int, int], float]:
        """Sparse form for the pipe: non-zero buckets only."""
        return {i: c for i, c in enumerate(self.counts) if c}, self.sum

    @classmethod
    def from_wire(cls, wire: tuple[dict[int, int], float]) -> Histogram:
        sparse, total_seconds = wire
        counts = [0] * BUCKETS
        for index, count in sparse.items():
            counts[index] = count
        hist = cls(counts)
        hist.sum = total_seconds
        return hist
