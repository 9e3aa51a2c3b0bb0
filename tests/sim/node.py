"""One simulated member: a RaftCore, its disk, its state machine and its clients' waits.

`drain()` is the node's Ready loop in the real node's order (trionode/server/replica.py
`Replica._turn`, see `drain`): early messages (appends, heartbeats, ...) leave and committed
entries are applied before the Ready is written and fsynced; votes and every response leave
after. The state machine is the list of applied client payloads; the node remembers which
proposals and reads its own clients made, and acknowledges a proposal when it applies it, a
read once its ReadState's index is applied -- as the real server does.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from trionode.raft import ProposalDropped, RaftConfig, RaftCore, Role
from trionode.raft.messages import LOCAL_TYPES, Entry, Message, MsgType, Snapshot

from . import members
from .checker import History, Violation, decode_payloads, encode_payloads
from .disk import LogState, SimDisk, Written

__all__ = ["EARLY", "SimNode", "Cluster", "split"]

#: The message types the real node sends before the Ready is persisted: the same set as
#: trionode/server/replica.py `_EARLY` (test_sim_order.py asserts they are equal). They state
#: nothing about the sender's durable state (Raft thesis §10.2.1: the leader writes its log
#: in parallel with replication, its own entries counting toward a quorum after advance());
#: votes and every response are late -- they promise something the disk must hold.
EARLY = frozenset({MsgType.APP, MsgType.HEARTBEAT, MsgType.SNAP, MsgType.TIMEOUT_NOW,
                   MsgType.PROP, MsgType.READ_INDEX})


def split(messages: tuple[Message, ...]) -> tuple[tuple[Message, ...], tuple[Message, ...]]:
    """(early, late), each in the Ready's order -- as server/replica.py `_split`."""
    return (tuple(m for m in messages if m.type in EARLY),
            tuple(m for m in messages if m.type not in EARLY))


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
        self.ids: set[int] = set()  # every node the sim ever started: who may be sent to


class SimNode:
    def __init__(self, node_id: int, peers: tuple[int, ...], cluster: Cluster,
                 make_config: Callable[[int, random.Random], RaftConfig],
                 send: Callable[[Message], None],
                 fsync_delay: Callable[[SimNode, int, object], None] | None = None) -> None:
        self.id = node_id
        self.first: members.Members = (peers, ())  # the membership every app starts from
        self.cluster = cluster
        cluster.ids.add(node_id)
        self._make_config = make_config
        self._send = send
        self.fsync_delay = fsync_delay  # None: every fsync completes at once
        self.disk = SimDisk()
        cluster.history.disks[node_id] = self.disk  # for its quorum-durability check
        self.core: RaftCore | None = None
        self.incarnation = 0
        self.leader_term = 0  # last term this node was seen leading
        self._reset_volatile()

    def _reset_volatile(self) -> None:
        self.role = Role.FOLLOWER
        self.in_flight = None  # (Ready, its late messages) while its fsync has not completed
        self.snapshot_due = False  # asked for while a Ready was in flight: taken after it
        self.commit = 0  # the highest commit index the core reported
        self.applied = 0
        self.applied_term = 0
        self.payloads: list[bytes] = []
        self.members = self.first  # as the applied payloads say (members.fold)
        # The voter sets the core had since the last Ready was taken: the commit index a
        # Ready reports was decided by a majority of one of them (checker._commit).
        self.voter_sets: list[tuple[int, ...]] = []
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
        # A torn crash can keep a received snapshot but not the hard state written after it:
        # the core then restarts committed up to the snapshot.
        self.commit = max(d.hs.commit, d.snap_index)
        config = self._make_config(self.id, random.Random(rng.getrandbits(64)))
        self.core = RaftCore(config, d.hs, d.snap, list(d.ents))
        self._set_members(members.fold(self.first, self.payloads))  # as the edge at restart
        self.drain()

    def crash(self, rng: random.Random, torn: bool) -> None:
        if self.in_flight is not None:
            self.cluster.stats["crashes_mid_fsync"] += 1
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

    def snapshot(self) -> Snapshot | None:
        """The app snapshots its applied state and compacts the log (fsynced file first).

        The real node does it between two turns only (Replica.run), never while a Ready is
        being persisted: it applies before the fsync, so its applied index is then ahead of
        the core's, which may not compact past what advance() reported applied. Asked for
        during a Ready's fsync, the snapshot is taken once it completes; returns None then.
        """
        if self.in_flight is not None:
            self.snapshot_due = True
            return None
        if self.snapshot_due:
            self.snapshot_due = False
            if self.applied <= self.disk.view.snap_index:
                return None
        snap = Snapshot(self.applied, self.applied_term, encode_payloads(self.payloads))
        self.disk.write_durable(("compact", snap))
        self.core.compact(snap)
        self.cluster.stats["compactions"] += 1
        self.drain()
        return snap

    # -- the Ready loop -----------------------------------------------------------------------
    def drain(self) -> None:
        """Run the Ready loop until the core has nothing more, or a Ready waits on its fsync.

        Each Ready goes through the real node's turn (trionode/server/replica.py `Replica._turn`),
        in its order. When the Ready is taken: (1) the early messages leave, (2) without a
        snapshot, the committed entries are applied and their clients answered, (3) the
        snapshot, entries and hard state are written. When its fsync completes -- at once,
        or later with an asynchronous disk (`fsync_delay` set), the core meanwhile taking
        ticks, messages and proposals between ready() and advance() -- (4) the late
        messages leave, (5) a snapshot is installed and then the committed entries applied,
        (6) read states are served, (7) the Ready is advanced.
        """
        core = self.core
        for _ in range(_MAX_READIES):
            if self.in_flight is not None or not core.has_ready():
                break
            rd = core.ready()
            self.cluster.trace.append((None, self.id, rd))
            late = self._take(rd)
            if self.fsync_delay is None or not rd.must_sync:
                self._complete(rd, late)
            else:
                self.in_flight = (rd, late)
                self.cluster.trace.append((None, self.id, "  ^ waits for its fsync: early "
                                           "messages and applies done, the rest when it completes"))
                self.fsync_delay(self, self.incarnation, rd)
        else:
            raise Violation(f"node {self.id:x}: has_ready() still true after {_MAX_READIES} readies")
        self._observe()
        if self.snapshot_due and self.in_flight is None:
            self.snapshot()

    def fsync_done(self, incarnation: int, rd) -> None:
        """The asynchronous fsync of `rd` finished (a crash since then voids it)."""
        if incarnation != self.incarnation or self.in_flight is None or self.in_flight[0] is not rd:
            return
        _, late = self.in_flight
        self.in_flight = None
        self._complete(rd, late)
        self.drain()

    def _take(self, rd) -> tuple[Message, ...]:
        """Steps 1-3 of the turn; returns the late messages."""
        persist = rd.snapshot is not None or bool(rd.entries) or rd.hard_state is not None
        early, late = split(rd.messages) if persist else ((), rd.messages)
        self._record(rd)
        self._send_all(early)
        if rd.snapshot is None:
            self._apply_committed(rd)
        if rd.must_sync:  # what the new order does ahead of the fsync (coverage counters)
            self.cluster.stats["sent_before_fsync"] += len(early)
            if rd.snapshot is None:
                self.cluster.stats["applied_before_fsync"] += len(rd.committed)
        self._persist(rd)
        return late

    def _complete(self, rd, late: tuple[Message, ...]) -> None:
        """Steps 4-7 of the turn, once the Ready's writes are durable."""
        if rd.must_sync:
            self.disk.sync()
        if rd.hard_state is not None:
            self.cluster.history.on_sent_hard_state(self.id, rd.hard_state)
        self._send_all(late)
        if rd.snapshot is not None:
            self._install(rd.snapshot)
            self._apply_committed(rd)
        self._read_states(rd)
        self.core.advance(rd)

    def _send_all(self, messages) -> None:
        history, durable = self.cluster.history, self.disk.durable
        for msg in messages:
            if msg.frm != self.id or msg.to == self.id or msg.to not in self.cluster.ids \
                    or msg.type in LOCAL_TYPES:
                raise Violation(f"node {self.id:x} sends a bad message: {msg.describe()}")
            history.on_send(self.id, msg, durable)
            self._send(msg)

    def _record(self, rd) -> None:
        """The checker's bookkeeping of what the core reports in `rd`, before the node acts
        on it (it applies before it writes): log matching for the new entries, commits,
        leadership. The checks see the log as it reads once `rd` is written."""
        view, history = self.disk.view, self.cluster.history
        after = Written(view, rd)
        if rd.soft_state is not None:
            self.role = rd.soft_state.role
        if rd.entries:
            base = view if rd.snapshot is None else LogState(view.hs, rd.snapshot, [])
            history.on_entries(self.id, base, rd.entries)
        if rd.hard_state is not None:
            history.on_hard_state(self.id, after, view.hs, rd.hard_state, self.role is Role.LEADER,
                                  self.voter_sets)
            self.commit = max(self.commit, rd.hard_state.commit)
        if rd.snapshot is not None:
            self.commit = max(self.commit, rd.snapshot.index)
        if rd.soft_state is not None and self.role is Role.LEADER:
            self._became_leader(after.hs.term, after)
        self.voter_sets = [self.core.voters]

    def _persist(self, rd) -> None:
        """Step 3: write (buffered; durable at the fsync) the snapshot, entries, hard state."""
        disk = self.disk
        if rd.snapshot is not None:
            disk.write(("install", rd.snapshot))
        if rd.entries:
            if rd.entries[0].index <= disk.view.last_index:
                self.cluster.stats["log_overwrites"] += 1
            disk.write(("ents", rd.entries))
        if rd.hard_state is not None:
            disk.write(("hs", rd.hard_state))

    def _install(self, snap: Snapshot) -> None:
        if snap.index < self.applied:
            raise Violation(f"node {self.id:x} installs snapshot {snap.term}/{snap.index} below "
                            f"its applied index {self.applied}")
        self.cluster.history.on_snapshot(self.id, snap)
        if self.applied == 0:  # a new member (or one whose disk was empty) catching up
            self.cluster.stats["empty_node_installs"] += 1
        self.applied, self.applied_term = snap.index, snap.term
        self.payloads = decode_payloads(snap.data)
        self.cluster.stats["snapshot_installs"] += 1
        self._set_members(members.fold(self.first, self.payloads))

    def _apply_committed(self, rd) -> None:
        for entry in rd.committed:
            self._apply_entry(entry)

    def _read_states(self, rd) -> None:
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
        # Not "within the persisted commit / the written log": the real node applies before
        # it writes (step 2), which Raft allows -- a committed entry is durable on a quorum
        # already. What Raft requires is checked: in order, up to the commit the core
        # reported, and the entry is the one committed at that index (History.on_apply).
        if e.index != self.applied + 1:
            raise Violation(f"node {self.id:x} applies {e.term}/{e.index} after {self.applied}")
        self.cluster.history.on_apply(self.id, e, self.commit)
        self.applied, self.applied_term = e.index, e.term
        if e.data:
            self.payloads.append(e.data)
            if members.is_conf(e.data):
                self._conf_change(e.data)
            if e.data in self.pending_props:
                del self.pending_props[e.data]
                self.cluster.acked[e.data] = e.index
                self.cluster.max_acked = max(self.cluster.max_acked, e.index)
                self.cluster.stats["acked"] += 1

    def _conf_change(self, data: bytes) -> None:
        """Applied a membership change: tell the core (between ready() and advance(), as
        the real node does), and after an add snapshot at once -- the new member's empty
        log is then behind the leader's first index, so it is sent the snapshot, which
        carries the membership (as the real node does, see contracts-membership.md)."""
        self._set_members(members.apply_change(self.members, data))
        self.cluster.stats["conf_changes_applied"] += 1
        if members.is_add(data):
            self.snapshot_due = True

    def _set_members(self, new: members.Members) -> None:
        self.members = new
        self.core.set_membership(*new)
        self.voter_sets.append(self.core.voters)

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

    def _became_leader(self, term: int, log) -> None:
        history = self.cluster.history
        history.on_leader(self.id, term, log)
        if term != self.leader_term:
            self.leader_term = term
            self.cluster.stats["elections"] += 1
            history.check_completeness(self.id, term, log)

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
            self._became_leader(status.term, self.disk.view)
