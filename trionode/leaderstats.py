"""/v2/stats/leader: per-follower round-trip latency and success/failure counts.

Measured on heartbeats, which the leader sends to every follower each heartbeat
interval and which a follower answers at once: a clean probe of the round trip.
Latencies are in milliseconds, printed like Go's encoding/json prints float64.
"""

from __future__ import annotations

import math

__all__ = ["FollowerStats", "go_float"]


def go_float(value: float) -> str:
    """A float as Go's encoding/json writes it (integral values without '.0')."""
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


class FollowerStats:
    __slots__ = ("current", "count", "total", "squares", "minimum", "maximum", "fail")

    def __init__(self) -> None:
        self.current = self.total = self.squares = self.maximum = 0.0
        self.minimum = math.inf
        self.count = self.fail = 0

    def succeeded(self, latency_ms: float) -> None:
        self.current = latency_ms
        self.count += 1
        self.total += latency_ms
        self.squares += latency_ms * latency_ms
        self.minimum = min(self.minimum, latency_ms)
        self.maximum = max(self.maximum, latency_ms)

    def failed(self) -> None:
        self.fail += 1

    def to_json(self) -> str:
        average = self.total / self.count if self.count else 0.0
        variance = self.squares / self.count - average * average if self.count else 0.0
        minimum = self.minimum if self.count else 0.0
        latency = (f'"current":{go_float(self.current)},"average":{go_float(average)},'
                   f'"standardDeviation":{go_float(math.sqrt(max(variance, 0.0)))},'
                   f'"minimum":{go_float(minimum)},"maximum":{go_float(self.maximum)}')
        return f'{{"latency":{{{latency}}},"counts":{{"fail":{self.fail},"success":{self.count}}}}}'
