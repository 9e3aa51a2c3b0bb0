"""Watch fan-out: W long-polling watchers on one key while writers overwrite it.

Notify latency is measured from the write's acknowledgement (the writer has the whole
PUT reply) to the watcher having the whole event. Watchers and writers may sit in
different processes, so the writers put each ack time in a shared array indexed by the
event's modifiedIndex - base; CLOCK_MONOTONIC is one clock for every process. A watcher
can see an event before the writer has parsed its ack (the server wakes watchers when it
applies, then answers the writer): those count as "before_ack" and as zero latency.

A watcher resumes at modifiedIndex + 1 after each event (as etcd's own watchers do), so
a watcher that falls behind catches up from the server's event history; one that falls
behind more than the history holds gets 401 (cleared) and jumps to the present. Missed
= for every acknowledged write, the watchers that never received it.
"""

from __future__ import annotations

import json
import math
from array import array

from . import wire
from .workloads import PREFIX, Recorder, value_of

__all__ = ["MAX_EVENTS", "Watch"]

MAX_EVENTS = 1 << 20            # acks kept per run (a bound: later writes are not timed)
KEY = PREFIX + "/watch"


class Watch(Recorder):
    """Slots below `watchers` watch; the others write from `write_from` to `write_until`.

    acks: shared array('d') of MAX_EVENTS ack times (0.0 = not acknowledged).
    last: shared array('q'), one slot per process, each process's highest acked index.
    stopped: shared array('b'), one flag per writer: it has its last ack (a process can
    only tell that its watchers are done once no write is in flight anywhere).
    """

    def __init__(self, host: str, *, watchers: int, base: int, acks, last, stopped,
                 process: int) -> None:
        super().__init__()
        self.host, self.watchers, self.base = host, watchers, base
        self.acks, self.last, self.stopped, self.process = acks, last, stopped, process
        self.write_from = self.write_until = math.inf
        self.writers_waiting: set[int] = set()
        self.next_index: dict[int, int] = {}
        self.got_index = array("q")
        self.got_time = array("d")
        self.writes = 0
        self.now = 0.0

    def window(self, start: float, stop: float) -> None:
        super().window(start, stop)
        self.write_from, self.write_until = start, stop

    def start(self, slot: int) -> bytes | None:
        if slot >= self.watchers:
            self.writers_waiting.add(slot)
            return None
        self.next_index.setdefault(slot, self.base + 1)
        return self._wait(slot)

    def _wait(self, slot: int) -> bytes:
        return wire.get(self.host, f"{KEY}?wait=true&waitIndex={self.next_index[slot]}")

    def _write(self, slot: int) -> bytes:
        self.writes += 1
        return wire.put(self.host, KEY, value_of(f"x{slot}-{self.writes}"))

    def poll(self, now: float) -> list[tuple[int, bytes]]:
        self.now = now
        if not self.writers_waiting or now < self.write_from:
            return []
        waking, self.writers_waiting = self.writers_waiting, set()
        return [(slot, self._write(slot)) for slot in sorted(waking)]

    def on_reply(self, slot: int, reply: wire.Reply, sent: float, now: float) -> bytes | None:
        if slot >= self.watchers:
            return self._on_ack(slot, reply, sent, now)
        self.done += 1
        if reply.status == 200:
            index = _modified_index(reply.body)
            self.got_index.append(index)
            self.got_time.append(now)
            self.next_index[slot] = index + 1
        elif reply.status == 400 and b'"errorCode":401' in reply.body:
            self.counts["cleared"] += 1
            self.next_index[slot] = json.loads(reply.body)["index"] + 1
        else:
            self.counts[f"watch {reply.status}"] += 1
        return self._wait(slot)

    def _on_ack(self, slot: int, reply: wire.Reply, sent: float, now: float) -> bytes | None:
        self.done += 1
        if reply.status // 100 == 2:
            self.counts["writes"] += 1
            index = _modified_index(reply.body)
            if 0 < index - self.base < MAX_EVENTS:
                self.acks[index - self.base] = now
                self.last[self.process] = max(self.last[self.process], index)
        else:
            self.counts[f"write {reply.status}"] += 1
        if now < self.write_until:
            return self._write(slot)
        self.stopped[slot - self.watchers] = 1
        return None

    def complete(self) -> bool:
        """After the writes: every watcher here is past the last acknowledged event."""
        if self.now < self.write_until or not self.next_index or not all(self.stopped):
            return False
        last = max(self.last)
        return last > 0 and min(self.next_index.values()) > last

    def result(self) -> dict:
        """Latencies and misses, counted now that every ack is in the shared array."""
        acks, base = self.acks, self.base
        received = 0
        for index, got in zip(self.got_index, self.got_time):
            acked = acks[index - base] if 0 < index - base < MAX_EVENTS else 0.0
            if acked <= 0.0:
                continue
            received += 1
            if got < acked:
                self.counts["before_ack"] += 1
            self.hist.add(max(got - acked, 0.0))
        top = min(max(self.last) - base + 1, MAX_EVENTS)
        acked_total = sum(1 for i in range(1, max(top, 1)) if acks[i] > 0.0)
        mine = len(self.next_index)
        self.counts["events"] += received
        self.counts["missed"] += mine * acked_total - received
        self.counts["acked"] = acked_total if self.process == 0 else 0
        result = super().result()
        if self.got_time:
            result["span_end"] = max(self.got_time)
        return result


def _modified_index(body: bytes) -> int:
    """The event node's modifiedIndex: both servers write "node" before "prevNode"."""
    at = body.find(b'"modifiedIndex":')
    if at < 0:
        return json.loads(body)["node"]["modifiedIndex"]
    end = body.find(b",", at)
    return int(body[at + 16:end if end > 0 else body.index(b"}", at)])
