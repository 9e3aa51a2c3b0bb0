"""One simulated member: a RaftCore, its disk, its state machine and its clients' waits.

`drain()` is the node's Ready loop, in the fixed durability order (STYLE principle 2):
persist (fsync only when must_sync), send, apply, advance. The state machine is the list of
applied client payloads; the node remembers which proposals and reads its own clients made,
and acknowledges a proposal when it applies it, a read once its ReadState's index is applied
-- as the real server does.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from trionode.raft import ProposalDropped, RaftConfig, RaftCore, Role
from trionode.raft.messages import LOCAL_TYPES, Entry, Message, Snapshot

from .checker import History, Violation, decode_payloads, encode_payloads
from .disk import SimDisk

__all__ = ["SimNode", "Cluster"]

#: a Ready loop that never runs dry is a core bug, not a long batch
_MAX_READIES = 1000


class Cluster:
    """What nodes share: the history, the acknowledgement record and the sim's counters."""

    def __init__(self, history: History, stats: dict[str, int], trace) -> None:
        self.history = history
        self.stats = stats
        self.trace = trace  # the sim's recent events; each Ready goes in as (None, node, ready)
        self.acked: dict[bytes, int] = {}  # acknowledged payload -> its log index
        self.max_acked = 0  # highest log index of an acknowledged write


class SimNode:
    def __init__(self, node_id: int, peers: tuple[int, ...], cluster: Cluster,
                 make_config: Callable[[int, random.Random], RaftConfig],
                 send: Callable[[Message], None],
                 fsync_delay: Callable[[SimNode, int, object], None] | None = None) -> None:
        self.id = node_id
        self.peers = peers
        self.cluster = cluster
        self._make_config = make_config
        self._send = send
        self.fsync_delay = fsync_delay  # None: every fsync completes at once
        self.disk = SimDisk()
        self.core: RaftCore | None = None
        self.incarnation = 0
        self.leader_term = 0  # last term this node was seen leading
        self._reset_volatile()

    def _reset_volatile(self) -> None:
        self.role = Role.FOLLOWER
        self.in_flight = None  # a Ready whose fsync has not completed yet
        self.applied = 0
        self.applied_term = 0
        self.payloads: list[bytes] = []
        self.pending_props: dict[bytes, None] = {}
        self.pending_reads: dict[bytes, int] = {}  # ctx -> max acked index when issued
        self.read_states: list[tuple[int, bytes]] = []

    @property
    def up(self) -> bool:
        return self.core is not None

    # -- life cycle ---------------------------------------------------------------------------
    def start(self, rng: random.Random) -> None:
        """(Re)build the core from the durable disk only, as after a process restart."""
        self.incarnation += 1
        self._reset_volatile()
        d = self.disk.view = self.disk.durable.copy()
        if d.snap is not None:
            self.cluster.history.on_snapshot(self.id, d.snap)
            self.applied, self.applied_term = d.snap.index, d.snap.term
            self.payloads = decode_payloads(d.snap.data)
        config = self._make_config(self.id, random.Random(rng.getrandbits(64)))
        self.core = RaftCore(config, d.hs, d.snap, list(d.ents))
        self.drain()

    def crash(self, rng: random.Random, torn: bool) -> None:
        self.core = None
        self.incarnation += 1
        self.cluster.stats["torn_ops_kept"] += self.disk.crash(rng, torn)
        self._reset_volatile()

    # -- client calls -------------------------------------------------------------------------
    def propose(self, data: bytes) -> bool:
        try:
            self.core.propose(data)
        except ProposalDropped:
            self.cluster.stats["proposals_dropped"] += 1
            return False
        self.pending_props[data] = None
        self.cluster.stats["proposals"] += 1
        self.drain()
        return True

    def read(self, ctx: bytes) -> bool:
        try:
            self.core.read_index(ctx)
        except ProposalDropped:
            self.cluster.stats["reads_dropped"] += 1
            return False
        self.pending_reads[ctx] = self.cluster.max_acked
        self.cluster.stats["reads"] += 1
        self.drain()
        return True

    def snapshot(self) -> Snapshot:
        """The app snapshots its applied state and compacts the log (fsynced file first)."""
        snap = Snapshot(self.applied, self.applied_term, encode_payloads(self.payloads))
        self.disk.write_durable(("compact", snap))
        self.core.compact(snap)
        self.cluster.stats["compactions"] += 1
        self.drain()
        return snap

    # -- the Ready loop -----------------------------------------------------------------------
    def drain(self) -> None:
        """Run the Ready loop until the core has nothing more, or a Ready waits on its fsync.

        With an asynchronous disk (`fsync_delay` set) a Ready's writes are issued at once
        but its fsync completes later, as in the real node's group commit: meanwhile the
        core keeps taking ticks, messages and proposals (it must cope with steps between
        ready() and advance()), and only on completion are the messages sent, the entries
        applied and the Ready advanced.
        """
        core = self.core
        for _ in range(_MAX_READIES):
            if self.in_flight is not None or not core.has_ready():
                break
            rd = core.ready()
            self.cluster.trace.append((None, self.id, rd))
            self._persist(rd)
            if self.fsync_delay is None or not rd.must_sync:
                self._complete(rd)
            else:
                self.in_flight = rd
                self.cluster.trace.append((None, self.id, "  ^ waits for its fsync; nothing is "
                                           "sent or applied until it completes"))
                self.fsync_delay(self, self.incarnation, rd)
        else:
            raise Violation(f"node {self.id:x}: has_ready() still true after {_MAX_READIES} readies")
        self._observe()

    def fsync_done(self, incarnation: int, rd) -> None:
        """The asynchronous fsync of `rd` finished (a crash since then voids it)."""
        if incarnation != self.incarnation or self.in_flight is not rd:
            return
        self.in_flight = None
        self._complete(rd)
        self.drain()

    def _complete(self, rd) -> None:
        if rd.must_sync:
            self.disk.sync()
        if rd.hard_state is not None:
            self.cluster.history.on_sent_hard_state(self.id, rd.hard_state)
        for msg in rd.messages:
            if msg.frm != self.id or msg.to == self.id or msg.to not in self.peers \
                    or msg.type in LOCAL_TYPES:
                raise Violation(f"node {self.id:x} sends a bad message: {msg.describe()}")
            self._send(msg)
        self._apply(rd)
        self.core.advance(rd)

    def _persist(self, rd) -> None:
        disk, history = self.disk, self.cluster.history
        if rd.snapshot is not None:
            disk.write(("install", rd.snapshot))
        if rd.entries:
            if rd.entries[0].index <= disk.view.last_index:
                self.cluster.stats["log_overwrites"] += 1
            history.on_entries(self.id, disk.view, rd.entries)
            disk.write(("ents", rd.entries))
        if rd.hard_state is not None:
            prev = disk.view.hs
            disk.write(("hs", rd.hard_state))
            if rd.soft_state is not None:
                self.role = rd.soft_state.role
            history.on_hard_state(self.id, disk.view, prev, rd.hard_state, self.role is Role.LEADER)
        if rd.soft_state is not None:
            self.role = rd.soft_state.role
            if self.role is Role.LEADER:
                self._became_leader(disk.view.hs.term)

    def _apply(self, rd) -> None:
        if rd.snapshot is not None:
            snap = rd.snapshot
            if snap.index < self.applied:
                raise Violation(f"node {self.id:x} installs snapshot {snap.term}/{snap.index} below "
                                f"its applied index {self.applied}")
            self.cluster.history.on_snapshot(self.id, snap)
            self.applied, self.applied_term = snap.index, snap.term
            self.payloads = decode_payloads(snap.data)
            self.cluster.stats["snapshot_installs"] += 1
        for entry in rd.committed:
            self._apply_entry(entry)
        for rs in rd.read_states:
            need = self.pending_reads.get(rs.ctx)
            if need is None:
                continue  # not ours (a client of a former incarnation) or a duplicate
            if rs.index < need:
                raise Violation(f"read index {rs.index} for {rs.ctx!r} at node {self.id:x} is below "
                                f"write index {need} acknowledged before the read was issued")
            self.read_states.append((rs.index, rs.ctx))
        self._serve_reads()

    def _apply_entry(self, e: Entry) -> None:
        view = self.disk.view
        if e.index != self.applied + 1:
            raise Violation(f"node {self.id:x} applies {e.term}/{e.index} after {self.applied}")
        if e.index > view.hs.commit:
            raise Violation(f"node {self.id:x} applies {e.index} beyond its persisted commit "
                            f"{view.hs.commit}")
        if view.term_at(e.index) not in (None, e.term):
            raise Violation(f"node {self.id:x} applies {e.term}/{e.index}, its log has "
                            f"{view.term_at(e.index)}/{e.index}")
        self.cluster.history.on_apply(self.id, e)
        self.applied, self.applied_term = e.index, e.term
        if e.data:
            self.payloads.append(e.data)
            if e.data in self.pending_props:
                del self.pending_props[e.data]
                self.cluster.acked[e.data] = e.index
                self.cluster.max_acked = max(self.cluster.max_acked, e.index)
                self.cluster.stats["acked"] += 1

    def _serve_reads(self) -> None:
        waiting = []
        for index, ctx in self.read_states:
            if index > self.applied:
                waiting.append((index, ctx))
                continue
            need = self.pending_reads.pop(ctx, None)
            if need is None:
                continue
            if self.applied < need:  # implied by the index check above, for a correct core
                raise Violation(f"read {ctx!r} at node {self.id:x} saw {self.applied} < {need}")
            self.cluster.stats["reads_acked"] += 1
        self.read_states = waiting

    def _became_leader(self, term: int) -> None:
        history = self.cluster.history
        history.on_leader(self.id, term, self.disk.view)
        if term != self.leader_term:
            self.leader_term = term
            self.cluster.stats["elections"] += 1
            history.check_completeness(self.id, term, self.disk.view)

    def _observe(self) -> None:
        """After a drained step: the persisted state is the core's state."""
        status = self.core.status
        if self.in_flight is not None:
            # Steps since the Ready in flight are not written yet: only election safety.
            if status.role is Role.LEADER:
                self.cluster.history.on_leader(self.id, status.term, self.disk.view)
            return
        hs = self.disk.view.hs
        # A torn crash can keep a received snapshot but not the hard state written after it;
        # the core then restarts committed up to the snapshot without rewriting its HardState.
        commit = max(hs.commit, self.disk.view.snap_index)
        if (status.term, status.commit) != (hs.term, commit):
            raise Violation(f"node {self.id:x} is at term {status.term} commit {status.commit} but "
                            f"its last hard state says term {hs.term} commit {hs.commit}")
        if status.role is Role.LEADER:
            self._became_leader(status.term)
