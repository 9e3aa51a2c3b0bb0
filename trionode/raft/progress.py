"""What the leader knows about each follower's log, and how it sends to it.

A follower is in one of three states (the shape of etcd-io/raft's tracker):
  PROBE      the leader does not know where the logs diverge: one APP at a time, wait for
             its answer (or a heartbeat answer) before the next; rejections walk `next` back
             (paper §5.3, with the conflict hint of §5.3's closing optimization);
  REPLICATE  the logs match up to `match`: APPs are pipelined, `next` moves optimistically,
             bounded by an in-flight window of `max_inflight` messages (STYLE principle 7);
  SNAPSHOT   the entries the follower needs were compacted: one SNAP is in flight and
             nothing else is sent until it is acknowledged or reported failed (paper §7).
Invariant: match < next.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

__all__ = ["ProgressState", "Inflights", "PeerProgress", "Progress"]


class ProgressState(enum.Enum):
    PROBE = "probe"
    REPLICATE = "replicate"
    SNAPSHOT = "snapshot"


@dataclass(frozen=True, slots=True)
class Progress:
    """A read-only view of one follower's progress, for Status."""

    match: int
    next: int
    state: ProgressState


class Inflights:
    """The last index of each APP sent and not yet acknowledged, oldest first, at most
    `capacity` of them; acknowledging index i frees every message ending at or before i."""

    __slots__ = ("capacity", "_last_indexes")

    def __init__(self, capacity: int) -> None:
        assert capacity > 0, "the in-flight window must hold at least one message"
        self.capacity = capacity
        self._last_indexes: deque[int] = deque()

    def __len__(self) -> int:
        return len(self._last_indexes)

    def full(self) -> bool:
        return len(self._last_indexes) >= self.capacity

    def add(self, last_index: int) -> None:
        assert not self.full(), "sent past a full in-flight window"
        assert not self._last_indexes or self._last_indexes[-1] < last_index, \
            "in-flight messages must end at increasing indexes"
        self._last_indexes.append(last_index)

    def free_le(self, index: int) -> None:
        """The follower has everything up to `index`: those messages have landed."""
        while self._last_indexes and self._last_indexes[0] <= index:
            self._last_indexes.popleft()

    def free_first_one(self) -> None:
        """A heartbeat answer shows the follower is alive: let one more message go, so a
        lost APP cannot stall a full window forever."""
        if self._last_indexes:
            self._last_indexes.popleft()

    def reset(self) -> None:
        self._last_indexes.clear()


class PeerProgress:
    """The leader's mutable record of one member (itself included)."""

    __slots__ = ("match", "next", "state", "probe_sent", "pending_snapshot", "recent_active",
                 "inflights")

    def __init__(self, match: int, next_index: int, max_inflight: int) -> None:
        self.match = match
        self.next = next_index
        self.state = ProgressState.PROBE
        self.probe_sent = False  # PROBE: an APP is out; wait for an answer before the next
        self.pending_snapshot = 0  # SNAPSHOT: the index of the snapshot in flight
        self.recent_active = False  # heard from it during this election timeout (check-quorum)
        self.inflights = Inflights(max_inflight)

    def view(self) -> Progress:
        return Progress(self.match, self.next, self.state)

    def _reset(self, state: ProgressState) -> None:
        self.probe_sent = False
        self.pending_snapshot = 0
        self.state = state
        self.inflights.reset()

    def become_probe(self) -> None:
        """Start probing from just after what the follower is known (or, after a snapshot
        was sent, expected) to have."""
        if self.state is ProgressState.SNAPSHOT:
            pending = self.pending_snapshot
            self._reset(ProgressState.PROBE)
            self.next = max(self.match + 1, pending + 1)
        else:
            self._reset(ProgressState.PROBE)
            self.next = self.match + 1

    def become_replicate(self) -> None:
        self._reset(ProgressState.REPLICATE)
        self.next = self.match + 1

    def become_snapshot(self, snapshot_index: int) -> None:
        self._reset(ProgressState.SNAPSHOT)
        self.pending_snapshot = snapshot_index

    def is_paused(self) -> bool:
        """Whether the leader should hold back APPs to this follower for now."""
        if self.state is ProgressState.PROBE:
            return self.probe_sent
        if self.state is ProgressState.REPLICATE:
            return self.inflights.full()
        return True

    def sent_entries(self, count: int, last_index: int) -> None:
        """Account for an APP just sent whose entries end at `last_index`."""
        if self.state is ProgressState.REPLICATE:
            if count:
                self.next = last_index + 1
                self.inflights.add(last_index)
        elif self.state is ProgressState.PROBE:
            self.probe_sent = True

    def maybe_update(self, index: int) -> bool:
        """The follower acknowledged its log up to `index`; False if that is old news."""
        if index <= self.match:
            return False
        self.match = index
        self.next = max(self.next, index + 1)
        self.probe_sent = False  # the probe was answered: the next one may go
        return True

    def maybe_decr_to(self, rejected: int, hint: int) -> bool:
        """The follower rejected the APP after `rejected`; move `next` back using `hint`
        (the highest index that might still match). False if the rejection is stale."""
        if self.state is ProgressState.REPLICATE:
            if rejected <= self.match:
                return False  # an answer to an APP sent before the match was known
            self.next = self.match + 1
            return True
        if self.next - 1 != rejected:
            return False  # not the probe we are waiting for
        self.next = max(min(rejected, hint + 1), self.match + 1, 1)
        self.probe_sent = False
        return True
