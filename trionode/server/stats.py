"""/v2/stats: what the Ready loop observes of Raft traffic (RaftStats), fed by the replica
through its StatsSink: append counts and rates for /v2/stats/self, per-follower
round-trip latency and success/failure counts for /v2/stats/leader, when the leader last
changed, and when each peer was last heard from (the leader's removeDelay look).

Round trips are measured on heartbeats, which the leader sends to every follower each
heartbeat interval and which a follower answers at once: a clean probe of the round trip.
Latencies are in milliseconds, printed like Go's encoding/json prints float64. Pure: the
caller passes the times in.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Iterable

from ..gocompat.jsontext import go_float
from ..raft import LOCAL_TYPES, Message, MsgType, Role, SoftState

__all__ = ["FollowerStats", "RaftStats", "RequestRate"]


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


class RaftStats:
    """The replica's StatsSink: counts what crosses the Ready loop. Monotonic times
    (`now`, seconds) for rates and round trips; wall-clock ns for when the leader changed."""

    __slots__ = ("recv_append_count", "send_append_count", "leader_since_ns", "followers",
                 "send_rate", "recv_rate", "last_heard", "_heartbeat_sent")

    def __init__(self, wall_ns: int) -> None:
        self.recv_append_count = 0
        self.send_append_count = 0
        self.leader_since_ns = wall_ns
        self.followers: dict[int, FollowerStats] = {}
        self.send_rate = RequestRate()
        self.recv_rate = RequestRate()
        #: when each peer was last heard from (monotonic seconds)
        self.last_heard: dict[int, float] = {}
        self._heartbeat_sent: dict[int, float] = {}

    def received(self, message: Message, now: float) -> None:
        kind = message.type
        if kind not in LOCAL_TYPES:  # UNREACHABLE and SNAP_STATUS say nothing from the peer
            self.last_heard[message.frm] = now
        if kind is MsgType.APP:
            self.recv_append_count += 1
            self.recv_rate.record(now, _size(message))
        elif kind is MsgType.HEARTBEAT_RESP:
            sent = self._heartbeat_sent.pop(message.frm, None)
            if sent is not None:
                self._follower(message.frm).succeeded((now - sent) * 1000)

    def sent(self, messages: Iterable[Message], now: float) -> None:
        for message in messages:
            if message.type is MsgType.APP:
                self.send_append_count += 1
                self.send_rate.record(now, _size(message))
            elif message.type is MsgType.HEARTBEAT:
                self._heartbeat_sent.setdefault(message.to, now)

    def unreachable(self, peer: int) -> None:
        self._follower(peer).failed()

    def soft_state_changed(self, soft_state: SoftState, wall_ns: int) -> None:
        if soft_state.role is not Role.LEADER:
            self.followers.clear()
            self._heartbeat_sent.clear()
        self.leader_since_ns = wall_ns

    def append_rates(self, now: float) -> tuple[float, float, float, float]:
        """(recvPkgRate, recvBandwidthRate, sendPkgRate, sendBandwidthRate); 0 = none."""
        return (*self.recv_rate.rates(now), *self.send_rate.rates(now))

    def follower_stats(self, peers: Iterable[int]) -> dict[int, FollowerStats]:
        """Every peer's round trips, an empty record for one never measured."""
        return {peer: self.followers.get(peer) or FollowerStats() for peer in peers}

    def _follower(self, peer: int) -> FollowerStats:
        stats = self.followers.get(peer)
        if stats is None:
            stats = self.followers[peer] = FollowerStats()
        return stats


def _size(message: Message) -> int:
    """Bytes an append request carries, for the bandwidth rates (entry payloads + headers)."""
    return 48 + sum(24 + len(entry.data) for entry in message.entries)
