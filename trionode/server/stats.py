"""/v2/stats: per-follower round-trip latency and success/failure counts (leader), and the
append request rates of /v2/stats/self.

Measured on heartbeats, which the leader sends to every follower each heartbeat
interval and which a follower answers at once: a clean probe of the round trip.
Latencies are in milliseconds, printed like Go's encoding/json prints float64.
"""

from __future__ import annotations

import collections
import math

from ..gocompat.jsontext import go_float

__all__ = ["FollowerStats", "RequestRate"]


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


class RequestRate:
    """Append requests per second and bytes per second over the last `capacity` requests,
    the way etcd's /v2/stats/self computes sendPkgRate and recvPkgRate: nothing (0) once
    the newest request is more than a second old. Times are passed in (seconds)."""

    __slots__ = ("_capacity", "_times", "_sizes", "_bytes")

    def __init__(self, capacity: int = 200) -> None:
        self._capacity = capacity
        self._times: collections.deque[float] = collections.deque()
        self._sizes: collections.deque[int] = collections.deque()
        self._bytes = 0

    def record(self, now: float, size: int) -> None:
        if len(self._times) == self._capacity:
            self._times.popleft()
            self._bytes -= self._sizes.popleft()
        self._times.append(now)
        self._sizes.append(size)
        self._bytes += size

    def rates(self, now: float) -> tuple[float, float]:
        """(requests per second, bytes per second)."""
        if not self._times or now - self._times[-1] > 1.0:
            self._times.clear()
            self._sizes.clear()
            self._bytes = 0
            return 0.0, 0.0
        span = self._times[-1] - self._times[0]
        if span <= 0:
            return 0.0, 0.0
        return len(self._times) / span, self._bytes / span
