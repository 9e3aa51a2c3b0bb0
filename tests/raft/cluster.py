"""An in-memory cluster of RaftCores for transcripts and tests: a fake disk per member, a
fake app (the applied payloads), and a network that holds messages until told to deliver.

Durability is modelled the way the edge promises it: everything in a Ready is written,
but only a Ready with must_sync makes what was written survive a crash (an fsync); a
crash keeps the synced part and loses the rest, including the app's volatile state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from trionode.raft import (
    Entry,
    HardState,
    Message,
    MsgType,
    ProposalDropped,
    RaftConfig,
    RaftCore,
    Ready,
    Snapshot,
)

#: membership change payloads: b"conf v4" (make 4 a voter), b"conf l4" (a learner),
#: b"conf r4" (remove 4); the app list keeps them, so a snapshot carries the membership
CONF = b"conf "


def is_conf(data: bytes) -> bool:
    return data.startswith(CONF)


def fold_membership(voters: set[int], learners: set[int],
                    payloads: list[bytes]) -> tuple[set[int], set[int]]:
    """The membership after applying `payloads` to (voters, learners)."""
    voters, learners = set(voters), set(learners)
    for data in payloads:
        if not is_conf(data):
            continue
        kind, member = data[len(CONF):len(CONF) + 1], int(data[len(CONF) + 1:])
        voters.discard(member)
        learners.discard(member)
        if kind == b"v":
            voters.add(member)
        elif kind == b"l":
            learners.add(member)
    return voters, learners


class Disk:
    """What one member persisted; `synced_*` is what survives a crash."""

    def __init__(self) -> None:
        self.hard_state = HardState()
        self.snapshot: Snapshot | None = None
        self.entries: list[Entry] = []
        self.synced: tuple[HardState, Snapshot | None, list[Entry]] = (HardState(), None, [])

    def write(self, rd: Ready) -> None:
        if rd.snapshot is not None:
            self.snapshot = rd.snapshot
            self.entries = []  # a received snapshot replaces the whole log (paper §7)
        if rd.entries:
            first = rd.entries[0].index
            self.entries = [e for e in self.entries if e.index < first] + list(rd.entries)
        if rd.hard_state is not None:
            self.hard_state = rd.hard_state
        if rd.must_sync:
            self.sync()

    def sync(self) -> None:
        self.synced = (self.hard_state, self.snapshot, list(self.entries))

    def compact(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.entries = [e for e in self.entries if e.index > snapshot.index]
        self.sync()  # the edge writes a snapshot file and fsyncs it before compacting

    def crash(self) -> None:
        hs, snap, entries = self.synced
        self.hard_state, self.snapshot, self.entries = hs, snap, list(entries)


class Lines:
    """A structlog-like logger collecting one line per event (info and above)."""

    def __init__(self, out: list[str], node: int) -> None:
        self.out, self.node = out, node

    def info(self, event: str, **kv: object) -> None:
        self.out.append(f"  {self.node:x} {event} " + " ".join(f"{k}={v}" for k, v in kv.items()))

    def debug(self, event: str, **kv: object) -> None:
        pass


@dataclass
class Member:
    id: int
    config: RaftConfig
    disk: Disk = field(default_factory=Disk)
    core: RaftCore | None = None
    app: list[bytes] = field(default_factory=list)  # applied non-empty payloads, in order
    applied: int = 0
    #: the membership the app starts from (before any applied change)
    initial: tuple[set[int], set[int]] = (set(), set())

    def start(self) -> None:
        d = self.disk
        self.core = RaftCore(self.config, d.hard_state, d.snapshot, list(d.entries))
        self._install(d.snapshot)

    def _install(self, snapshot: Snapshot | None) -> None:
        self.app = [p for p in snapshot.data.split(b",") if p] if snapshot else []
        self.applied = snapshot.index if snapshot else 0
        self._set_membership()

    def membership(self) -> tuple[set[int], set[int]]:
        return fold_membership(*self.initial, self.app)

    def _set_membership(self) -> None:
        """What the edge does after a snapshot, at restart, and after applying a change."""
        assert self.core is not None
        self.core.set_membership(*self.membership())

    def handle(self, rd: Ready, network: list[Message]) -> None:
        """The edge's Ready loop: persist, send, apply, advance (STYLE principle 2)."""
        assert self.core is not None
        self.disk.write(rd)
        network.extend(rd.messages)
        if rd.snapshot is not None:
            self._install(rd.snapshot)
        for entry in rd.committed:
            assert entry.index == self.applied + 1, f"{self.id:x} applies {entry.index} after {self.applied}"
            self.applied = entry.index
            if entry.data:
                self.app.append(entry.data)
            if is_conf(entry.data):
                self._set_membership()  # between ready() and advance(), as server/replica.py does
        self.core.advance(rd)

    def snapshot_at(self, index: int) -> Snapshot:
        """The app's state at `index` (== its applied index here) as a Snapshot."""
        assert self.core is not None and index == self.applied, "snapshots are taken at applied"
        term = self.core.log.term(index)
        assert term is not None
        return Snapshot(index, term, b",".join(self.app))


class Cluster:
    def __init__(self, out: list[str], *, report_snapshots: bool = False) -> None:
        """report_snapshots: act like the peer transport and tell the sender whether each
        SNAP arrived (SNAP_STATUS); transcripts leave that to explicit commands."""
        self.out = out
        self.report_snapshots = report_snapshots
        self.members: dict[int, Member] = {}
        self.network: list[Message] = []
        self.groups: list[set[int]] = []  # a partition: messages only flow within a group
        self.genesis: tuple[set[int], set[int]] = (set(), set())  # the first membership

    def add(self, count: int, *, learners: tuple[int, ...] = (), **options: object) -> None:
        """Members 1..count (the voters) plus `learners`, all knowing that membership."""
        ids = tuple(range(1, count + 1))
        self.genesis = (set(ids), set(learners))
        for i in ids + learners:
            self.spawn(i, ids, learners, **options)

    def spawn(self, i: int, voters: tuple[int, ...] = (), learners: tuple[int, ...] = (),
              **options: object) -> None:
        """Start member `i` with an empty log; with the defaults it is in no membership
        yet (a member added at run time, waiting for the leader's snapshot). Its app starts
        from the cluster's first membership, as every member's does."""
        config = RaftConfig(i, voters, learners=learners, rng=random.Random(i),
                            logger=Lines(self.out, i), is_conf_change=is_conf, **options)
        member = Member(i, config, initial=self.genesis)
        member.start()
        self.members[i] = member

    def core(self, i: int) -> RaftCore:
        core = self.members[i].core
        assert core is not None, f"member {i:x} is down"
        return core

    def up(self) -> list[int]:
        return [i for i, m in sorted(self.members.items()) if m.core is not None]

    def connected(self, a: int, b: int) -> bool:
        return not self.groups or any(a in g and b in g for g in self.groups)

    def process_ready(self, ids: list[int]) -> bool:
        busy = False
        for i in ids:
            member = self.members[i]
            if member.core is None or not member.core.has_ready():
                continue
            busy = True
            rd = member.core.ready()
            self.out.append(f"{i:x}: {rd.describe()}")
            for m in rd.messages:
                self.out.append(f"  send {m.describe()}")
            member.handle(rd, self.network)
        return busy

    def deliver(self, *, drop: bool = False, **filters: set[int] | set[str]) -> bool:
        """Step (or drop) the queued messages matching `filters` (to, frm, type); messages
        sent while delivering wait for the next round."""
        chosen, kept = [], []
        for m in self.network:
            ok = all(_matches(m, key, values) for key, values in filters.items())
            (chosen if ok else kept).append(m)
        self.network = kept
        for m in chosen:
            target = self.members.get(m.to)
            if drop:
                self.out.append(f"  dropped {m.describe()}")
            elif target is None or target.core is None:
                self.out.append(f"  lost (down) {m.describe()}")
            elif not self.connected(m.frm, m.to):
                self.out.append(f"  lost (partition) {m.describe()}")
            else:
                self.out.append(f"{m.to:x} <- {m.describe()}")
                target.core.step(m)
                self._report_snapshot(m, ok=True)
                continue
            self._report_snapshot(m, ok=False)
        return bool(chosen)

    def lose(self, m: Message) -> None:
        """`m` vanished on the network (removed from it by the caller)."""
        self._report_snapshot(m, ok=False)

    def _report_snapshot(self, m: Message, *, ok: bool) -> None:
        sender = self.members[m.frm].core
        if self.report_snapshots and m.type is MsgType.SNAP and sender is not None:
            sender.step(Message(MsgType.SNAP_STATUS, to=m.frm, frm=m.to, reject=not ok))

    def stabilize(self, ids: list[int], limit: int = 1000) -> None:
        for _ in range(limit):
            busy = self.process_ready(ids)
            busy = self.deliver(to=set(ids)) or busy
            if not busy:
                return
        raise AssertionError(f"no quiet state after {limit} rounds")

    def crash(self, i: int) -> None:
        member = self.members[i]
        member.core = None
        member.disk.crash()  # messages already sent stay in flight

    def propose(self, i: int, data: bytes) -> None:
        try:
            self.core(i).propose(data)
        except ProposalDropped as exc:
            self.out.append(f"dropped: {exc}")

    def read_index(self, i: int, ctx: bytes) -> None:
        try:
            self.core(i).read_index(ctx)
        except ProposalDropped as exc:
            self.out.append(f"dropped: {exc}")

    def compact(self, i: int, index: int) -> None:
        snapshot = self.members[i].snapshot_at(index)
        self.members[i].disk.compact(snapshot)
        self.core(i).compact(snapshot)

    def report(self, i: int, type: MsgType, peer: int, reject: bool = False) -> None:
        self.core(i).step(Message(type, to=i, frm=peer, reject=reject))


def _matches(m: Message, key: str, values: set) -> bool:
    if key == "to":
        return m.to in values
    if key == "frm":
        return m.frm in values
    if key == "type":
        return m.type.name in values
    raise ValueError(f"unknown filter {key!r}")
