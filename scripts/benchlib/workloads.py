"""Closed-loop workloads: each connection sends its next request when the last reply lands.

Every workload records the latency (send to whole reply) of the requests that were sent
inside the measured window and answered before it closed; the rest (warm-up, the tail
cut off at the end) only loads the server. `result()` is what a worker process ships to
the coordinator: a histogram in wire form and named counters.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter

from . import wire
from .hist import Histogram

__all__ = ["KEYS", "VALUE_SIZE", "Cas", "KeyRequests", "Load", "Recorder", "value_of", "WRITE_SHARE"]

#: the key workloads (every driver runs them) and the share of their requests that write
WRITE_SHARE = {"write": 1.0, "read": 0.0, "read-quorum": 0.0, "mixed": 0.1}
KEYS = 10_000
VALUE_SIZE = 256
PREFIX = "/v2/keys/bench"


def value_of(tag: str) -> bytes:
    """A VALUE_SIZE-byte value starting with `tag` (URL-safe characters only)."""
    return (tag + ":").encode().ljust(VALUE_SIZE, b"v")


def key_path(n: int) -> str:
    return f"{PREFIX}/k{n}"


class Recorder:
    """Latencies and status counts inside the window [start, stop] (monotonic seconds)."""

    def __init__(self) -> None:
        self.hist = Histogram()
        self.counts: Counter[str] = Counter()
        self.t_from = self.t_to = math.inf
        self.done = 0                       # every reply, for the progress display

    def window(self, start: float, stop: float) -> None:
        self.t_from, self.t_to = start, stop

    def record(self, sent: float, now: float, status: int) -> None:
        self.done += 1
        if self.t_from <= sent and now <= self.t_to:
            self.hist.add(now - sent)
            self.counts[str(status)] += 1

    def on_error(self, slot: int, error: str) -> None:
        self.counts["error: " + error] += 1

    def poll(self, now: float) -> list[tuple[int, bytes]]:
        return []

    def complete(self) -> bool:
        return False

    def result(self) -> dict:
        return {"hist": self.hist.to_wire(), "counts": dict(self.counts)}


class KeyRequests(Recorder):
    """Reads and/or writes over KEYS keys, each slot walking a shuffled order of them.

    write_share: 0.0 reads only, 1.0 writes only, 0.1 the 90/10 mix (a seeded coin per
    request). Requests are built once here, so a request costs one list index.
    """

    def __init__(self, host: str, *, write_share: float, quorum: bool = False,
                 seed: int = 1) -> None:
        super().__init__()
        rng = random.Random(seed)
        query = "?quorum=true" if quorum else ""
        order = list(range(KEYS))
        rng.shuffle(order)
        self.reads = [wire.get(host, key_path(n) + query) for n in order]
        self.writes = [wire.put(host, key_path(n), value_of(f"w{n}")) for n in order]
        self.write_share = write_share
        self.rng = rng
        self.cursor: dict[int, int] = {}

    def start(self, slot: int) -> bytes:
        self.cursor[slot] = slot * 7919
        return self._next(slot)

    def _next(self, slot: int) -> bytes:
        n = self.cursor[slot] = self.cursor[slot] + 1
        share = self.write_share
        if share >= 1.0 or (share > 0.0 and self.rng.random() < share):
            return self.writes[n % KEYS]
        return self.reads[n % KEYS]

    def on_reply(self, slot: int, reply: wire.Reply, sent: float, now: float) -> bytes:
        self.record(sent, now, reply.status)
        return self._next(slot)


class Cas(Recorder):
    """Compare-and-swap contention on one key: GET it, then PUT with prevIndex and prevValue.

    The histogram holds the CAS requests only; counts "cas_ok" (200) and "cas_failed"
    (412, etcd error 101: another connection won) tell how contended the key was.
    """

    KEY = PREFIX + "/cas"

    def __init__(self, host: str) -> None:
        super().__init__()
        self.host = host
        self.read = wire.get(host, self.KEY)
        self.serial: Counter[int] = Counter()
        self.casing: set[int] = set()

    def start(self, slot: int) -> bytes:
        self.casing.discard(slot)
        return self.read

    def on_reply(self, slot: int, reply: wire.Reply, sent: float, now: float) -> bytes:
        if slot in self.casing:
            self.casing.discard(slot)
            self.record(sent, now, reply.status)
            if self.t_from <= sent and now <= self.t_to:
                outcome = {200: "cas_ok", 412: "cas_failed"}.get(reply.status, "cas_other")
                self.counts[outcome] += 1
            return self.read
        if reply.status != 200:
            self.counts[f"read {reply.status}"] += 1
            return self.read
        node = json.loads(reply.body)["node"]
        self.serial[slot] += 1
        path = f"{self.KEY}?prevIndex={node['modifiedIndex']}&prevValue={node['value']}"
        self.casing.add(slot)
        return wire.put(self.host, path, value_of(f"c{slot}-{self.serial[slot]}"))


class Load(Recorder):
    """Writes keys prefix0 .. prefix{total-1} once each, then completes.

    Slot s of `slots` writes keys s, s + slots, s + 2 * slots ...; `mine` are the slots of
    this process, so the processes together write every key. A key whose write failed (an
    error reply, a lost connection) is written again, so every key exists at the end.
    """

    def __init__(self, host: str, total: int, slots: int, mine: list[int], prefix: str) -> None:
        super().__init__()
        self.host, self.total, self.slots, self.prefix = host, total, slots, prefix
        self.next_key = {slot: slot for slot in mine}
        self.open = {slot for slot in mine if slot < total}

    def start(self, slot: int) -> bytes | None:
        return self._next(slot)

    def _next(self, slot: int) -> bytes | None:
        n = self.next_key[slot]
        if n >= self.total:
            self.open.discard(slot)
            return None
        self.next_key[slot] = n + self.slots
        return wire.put(self.host, f"{self.prefix}{n}", value_of(f"l{n}"))

    def on_reply(self, slot: int, reply: wire.Reply, sent: float, now: float) -> bytes | None:
        self.record(sent, now, reply.status)
        if reply.status // 100 != 2:
            self.next_key[slot] -= self.slots
        return self._next(slot)

    def on_error(self, slot: int, error: str) -> None:
        super().on_error(slot, error)
        if slot in self.open:           # the request in flight may be lost: send it again
            self.next_key[slot] -= self.slots

    def complete(self) -> bool:
        return not self.open
