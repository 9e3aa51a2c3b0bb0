"""Counters the transport keeps per peer, and the latency record /v2/stats/leader shows.

The transport counts what crossed the wire. Latency is the node's to measure (it sees an
APP leave and its APP_RESP come back, which a unidirectional stream cannot); it records
each round trip in a LatencyStats, whose as_dict() has etcd 3.4's field names.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["LatencyStats", "PeerStats"]


class PeerStats:
    """What went to and came from one peer since the transport started."""

    __slots__ = ("sent_messages", "sent_bytes", "received_messages", "received_bytes",
                 "send_failures", "connects", "dropped")

    def __init__(self) -> None:
        self.sent_messages = 0
        self.sent_bytes = 0
        self.received_messages = 0
        self.received_bytes = 0
        self.send_failures = 0  # failed connects and failed batches
        self.connects = 0  # outbound connections that got their Hello out
        self.dropped = 0  # messages lost: outbox overflow, failed batch, failed connect

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return "PeerStats(" + " ".join(f"{k}={v}" for k, v in self.as_dict().items()) + ")"


class LatencyStats:
    """Round trips to one follower in milliseconds, etcd's FollowerStats shape.

    The standard deviation comes from running sums, as etcd computes it
    (sqrt(E[x^2] - E[x]^2)); clamped at 0 against rounding.
    """

    __slots__ = ("current", "minimum", "maximum", "success", "fail", "_sum", "_sum_squares")

    def __init__(self) -> None:
        self.current = 0.0
        self.minimum = math.inf
        self.maximum = 0.0
        self.success = 0
        self.fail = 0
        self._sum = 0.0
        self._sum_squares = 0.0

    def record(self, ms: float) -> None:
        """One successful round trip of `ms` milliseconds."""
        self.current = ms
        self.minimum = min(self.minimum, ms)
        self.maximum = max(self.maximum, ms)
        self.success += 1
        self._sum += ms
        self._sum_squares += ms * ms

    def failed(self) -> None:
        self.fail += 1

    @property
    def average(self) -> float:
        return self._sum / self.success if self.success else 0.0

    @property
    def standard_deviation(self) -> float:
        if not self.success:
            return 0.0
        mean = self.average
        return math.sqrt(max(0.0, self._sum_squares / self.success - mean * mean))

    def as_dict(self) -> dict[str, Any]:
        """etcd 3.4's /v2/stats/leader entry for one follower."""
        return {
            "latency": {
                "current": self.current,
                "average": self.average,
                "standardDeviation": self.standard_deviation,
                "minimum": self.minimum if self.success else 0.0,
                "maximum": self.maximum,
            },
            "counts": {"fail": self.fail, "success": self.success},
        }
