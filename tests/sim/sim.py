"""The simulated world: a virtual clock, one event queue, a lossy network, crashes.

Everything random comes from one `random.Random(seed)` (the cores get Randoms seeded from
it), events at the same virtual time run in the order they were scheduled, and nothing reads
a real clock -- so a seed replays exactly. Time is in virtual milliseconds; every node ticks
about every TICK of them (its own fixed rate: clocks drift).

The network delivers each message after a random delay (so it reorders), drops some,
duplicates some, and never delivers across a partition or to a node that is down. Like the
real transport it reports failures back to the sender: UNREACHABLE for an undeliverable
message (sometimes -- a TCP send often "succeeds" into a dead connection), SNAP_STATUS for
every snapshot, whether or not it arrived.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

from trionode.raft import RaftConfig
from trionode.raft.messages import Message, MsgType

from .checker import History, Violation
from .disk import DiskError
from .node import Cluster, SimNode

__all__ = ["NetParams", "Sim", "SimFailure", "TICK"]

TICK = 10
_TRACE = 60


class SimFailure(AssertionError):
    """An invariant broke (or the core raised); the message says how to replay it."""


@dataclass(slots=True)
class NetParams:
    loss: float = 0.0  # probability a message is dropped
    dup: float = 0.0  # probability a message is delivered twice
    delay: tuple[int, int] = (1, 5)  # uniform delivery delay, virtual ms
    spike: float = 0.0  # probability of a long delay (reorders across many messages)
    unreachable: float = 0.5  # probability an undeliverable message is reported


class Sim:
    def __init__(self, seed: int, n: int, *, name: str, replay: str,
                 config: Callable[[int, tuple[int, ...], random.Random], RaftConfig],
                 net: NetParams | None = None, trace: int = _TRACE,
                 fsync: tuple[int, int] | None = None, drift: int = 1) -> None:
        self.seed, self.name, self.replay = seed, name, replay
        self.rng = random.Random(seed)
        self.net = net or NetParams()
        self.now = 0
        self.steps = 0
        self._queue: list = []
        self._seq = itertools.count()
        self.trace: deque = deque(maxlen=trace)
        self.stats: Counter = Counter()
        self.history = History()
        self.cluster = Cluster(self.history, self.stats, self.trace)
        ids = tuple(range(1, n + 1))
        self.groups: dict[int, int] = dict.fromkeys(ids, 0)  # partition: same group = can talk
        self.cut: set[tuple[int, int]] = set()  # one-way link failures (frm, to)
        self.fsync = fsync  # latency range of an asynchronous fsync; None = synchronous
        self._config, self._drift, self._first = config, drift, ids
        self.nodes: dict[int, SimNode] = {}
        self.tick_every: dict[int, int] = {}
        for i in ids:
            self._new_node(i, ids)
        self._client_ids = itertools.count(1)
        for node in self.nodes.values():
            self._guard(f"start {node.id:x}", self._start, node)

    # -- the event loop -----------------------------------------------------------------------
    def at(self, delay: int, what: str, fn: Callable, *args) -> None:
        heapq.heappush(self._queue, (self.now + delay, next(self._seq), what, fn, args))

    def run(self, until: int, stop: Callable[[], bool] | None = None) -> bool:
        """Run events up to virtual time `until`; True if `stop()` became true first."""
        queue = self._queue
        while queue and queue[0][0] <= until:
            when, _, what, fn, args = heapq.heappop(queue)
            self.now = when
            self._guard(what, fn, *args)
            if stop is not None and stop():
                return True
        self.now = max(self.now, until)
        return False

    def _guard(self, what, fn: Callable, *args) -> None:
        self.steps += 1
        self.trace.append((self.steps, self.now, what))
        try:
            fn(*args)
        except (Violation, DiskError) as exc:
            raise SimFailure(self.report(str(exc))) from exc
        except SimFailure:
            raise
        except Exception as exc:
            raise SimFailure(self.report(f"{type(exc).__name__} raised: {exc}")) from exc

    def report(self, what: str) -> str:
        lines = [f"{self.name}: {what}",
                 f"  at step {self.steps}, t={self.now}ms; replay: {self.replay}",
                 f"  last {len(self.trace)} events:"]
        for step, now, ev in self.trace:
            text = ev.describe() if hasattr(ev, "describe") else ev
            if step is None:  # a Ready of node `now` during the step above
                lines.append(f"    {'':6} {now:>8x} {text}")
                for msg in getattr(ev, "messages", ()):
                    lines.append(f"    {'':6} {'':8}   send {msg.describe()}")
            else:
                lines.append(f"    {step:6d} t={now:<6d} {text}")
        return "\n".join(lines)

    def fail(self, what: str) -> None:
        raise SimFailure(self.report(what))

    # -- nodes --------------------------------------------------------------------------------
    def _new_node(self, i: int, peers: tuple[int, ...]) -> SimNode:
        later = self._fsync_later if self.fsync is not None else None
        node = self.nodes[i] = SimNode(i, self._first, self.cluster,
                                       lambda nid, rng: self._config(nid, peers, rng), self._send,
                                       later)
        self.tick_every[i] = TICK + self.rng.randint(-self._drift, self._drift)
        self.groups.setdefault(i, 0)
        return node

    def spawn(self, node_id: int) -> None:
        """Start a new member with an empty disk and no membership of its own (peers=()):
        it waits, never campaigning, until the leader sends it the snapshot."""
        assert node_id not in self.nodes
        self.note(f"spawn {node_id:x}")
        self._guard(f"start {node_id:x}", self._start, self._new_node(node_id, ()))

    def members(self) -> set[int]:
        """Voters and learners as the most advanced up node has applied them."""
        up = [self.nodes[i] for i in self.up_ids()] or list(self.nodes.values())
        voters, learners = max(up, key=lambda n: n.applied).members
        return {*voters, *learners}

    def _start(self, node: SimNode) -> None:
        node.start(self.rng)
        self.at(self.rng.randint(1, self.tick_every[node.id]), f"tick {node.id:x}", self._tick,
                node, node.incarnation)

    def _tick(self, node: SimNode, incarnation: int) -> None:
        if node.incarnation != incarnation:
            return
        node.core.tick()
        node.drain()
        self.at(self.tick_every[node.id], f"tick {node.id:x}", self._tick, node, incarnation)

    def _fsync_later(self, node: SimNode, incarnation: int, rd) -> None:
        self.stats["async_fsyncs"] += 1
        self.at(self.rng.randint(*self.fsync), f"fsync done {node.id:x}", node.fsync_done,
                incarnation, rd)

    def crash(self, node_id: int, torn: bool = False) -> None:
        node = self.nodes[node_id]
        if node.up:
            self.note(f"crash {node_id:x} torn={torn} unsynced writes={node.disk.unsynced()}")
            node.crash(self.rng, torn)
            self.stats["crashes"] += 1

    def restart(self, node_id: int) -> None:
        node = self.nodes[node_id]
        if not node.up:
            d = node.disk.durable
            self.note(f"restart {node_id:x} from hs=({d.hs.term},{d.hs.vote:x},{d.hs.commit}) "
                      f"snap={d.snap_index} last={d.last_index}")
            self.stats["restarts"] += 1
            self._start(node)

    def up_ids(self) -> list[int]:
        return [i for i, node in self.nodes.items() if node.up]

    def leader(self) -> int | None:
        """The up node that leads the highest term, if any."""
        best = None
        for i in self.up_ids():
            st = self.nodes[i].core.status
            if st.role.name == "LEADER" and (best is None or st.term > best[0]):
                best = (st.term, i)
        return best[1] if best else None

    # -- clients ------------------------------------------------------------------------------
    def propose(self, node_id: int, data: bytes | None = None) -> bytes | None:
        node = self.nodes[node_id]
        if not node.up:
            return None
        data = data or b"p%d" % next(self._client_ids)
        ok = node.propose(data)
        self.note(f"propose {data.decode()} at {node_id:x}: {'taken' if ok else 'dropped'}")
        return data if ok else None

    def note(self, text: str) -> None:
        """A line in the trace for what just happened within the current step."""
        self.trace.append((self.steps, self.now, "  " + text))

    def read(self, node_id: int) -> None:
        node = self.nodes[node_id]
        if node.up:
            ctx = b"r%d" % next(self._client_ids)
            ok = node.read(ctx)
            self.note(f"read {ctx.hex()} at {node_id:x} (must see index {self.cluster.max_acked}): "
                      f"{'taken' if ok else 'dropped'}")

    def snapshot(self, node_id: int, min_gap: int = 1) -> None:
        node = self.nodes[node_id]
        if node.up and node.applied - node.disk.view.snap_index >= min_gap:
            self.note(f"snapshot+compact {node_id:x} at {node.applied}"
                      + (" once its Ready in flight is fsynced" if node.in_flight else ""))
            node.snapshot()

    def transfer(self, node_id: int, to: int) -> None:
        node = self.nodes[node_id]
        if node.up and node.role.name == "LEADER":
            self.note(f"transfer leadership {node_id:x} -> {to:x}")
            self.stats["transfers"] += 1
            node.core.transfer_leadership(to)
            node.drain()

    # -- network ------------------------------------------------------------------------------
    def partition(self, *groups: tuple[int, ...]) -> None:
        self.note("partition " + " | ".join(",".join(f"{i:x}" for i in g) for g in groups))
        for g, members in enumerate(groups, start=1):
            for i in members:
                self.groups[i] = g
        self.stats["partitions"] += 1

    def cut_link(self, frm: int, to: int) -> None:
        """Messages from `frm` to `to` are lost; the other way still works."""
        self.note(f"cut link {frm:x} -> {to:x}")
        self.cut.add((frm, to))
        self.stats["one_way_cuts"] += 1

    def heal(self) -> None:
        self.note("heal")
        self.groups = dict.fromkeys(self.groups, 0)
        self.cut = set()

    def _can_talk(self, a: int, b: int) -> bool:
        return self.groups[a] == self.groups[b] and (a, b) not in self.cut and self.nodes[b].up

    def _send(self, msg: Message) -> None:
        self.stats["messages"] += 1
        net, rng = self.net, self.rng
        sender = self.nodes[msg.frm].incarnation
        if not self._can_talk(msg.frm, msg.to) or rng.random() < net.loss:
            self._lost(msg, sender)
            return
        copies = 2 if rng.random() < net.dup else 1
        for _ in range(copies):
            delay = rng.randint(*net.delay)
            if rng.random() < net.spike:
                delay += rng.randint(5 * TICK, 30 * TICK)
            self.at(delay, msg, self._deliver, msg, sender)
        self.stats["duplicated"] += copies - 1

    def _lost(self, msg: Message, sender: int) -> None:
        self.stats["dropped"] += 1
        if msg.type is MsgType.SNAP:
            self._report(msg, MsgType.SNAP_STATUS, sender, reject=True)
        elif self.rng.random() < self.net.unreachable:
            self._report(msg, MsgType.UNREACHABLE, sender, reject=False)

    def _deliver(self, msg: Message, sender: int) -> None:
        if not self._can_talk(msg.frm, msg.to):
            self._lost(msg, sender)
            return
        node = self.nodes[msg.to]
        node.core.step(msg)
        node.drain()
        if msg.type is MsgType.SNAP:
            self.stats["snapshots_sent"] += 1
            self._report(msg, MsgType.SNAP_STATUS, sender, reject=False)

    def _report(self, msg: Message, kind: MsgType, sender: int, *, reject: bool) -> None:
        note = Message(type=kind, to=msg.frm, frm=msg.to, reject=reject)
        self.at(self.rng.randint(1, TICK), note, self._local, note, sender)

    def _local(self, note: Message, incarnation: int) -> None:
        node = self.nodes[note.to]
        if node.incarnation == incarnation:
            node.core.step(note)
            node.drain()

    # -- the end: heal everything and wait for the cluster to agree ----------------------------
    def quiesce(self, limit: int = 600 * TICK) -> None:
        """No more faults: heal, restart every node, stop losing messages; then every node
        must apply the same log, holding every acknowledged write (durability)."""
        self.trace.append((self.steps, self.now, "quiet period: heal, restart all, no loss"))
        self.net = NetParams(delay=self.net.delay)
        self.heal()
        for i in self.nodes:
            self._guard(f"restart {i:x}", self.restart, i)
        # A cluster still catching up (a follower fetching hundreds of entries one per
        # round trip, with max_inflight=1 and max_msg_entries=1) gets more time as long as
        # it keeps applying: liveness fails after `limit` without progress, or 10 * limit.
        give_up, progress = self.now + 10 * limit, self._progress()
        while not self.run(min(self.now + limit, give_up), self._settled):
            if self.now >= give_up or self._progress() == progress:
                self._no_convergence(limit)
            progress = self._progress()
        for node in self._member_nodes():
            have = set(node.payloads)
            missing = [d for d in self.cluster.acked if d not in have]
            if missing:
                self.fail(f"durability: node {node.id:x} lacks acknowledged writes {missing[:5]} "
                          f"({len(missing)} in all)")

    def _member_nodes(self) -> list[SimNode]:
        """The nodes the quiet period checks: removed ones stop hearing from the leader."""
        members = self.members()
        return [n for i, n in self.nodes.items() if i in members]

    def _progress(self) -> int:
        return sum(n.applied for n in self.nodes.values())

    def _no_convergence(self, limit: int) -> None:
        self.fail(f"liveness: the healed cluster did not converge (no progress for {limit // TICK} "
                  f"ticks, or {10 * limit // TICK} in all): " + "; ".join(
                      f"{n.id:x}: {n.core.status.role.name} term={n.core.status.term} "
                      f"commit={n.disk.view.hs.commit} applied={n.applied}"
                      for n in self.nodes.values()) + f"; max acked index {self.cluster.max_acked}")

    def _settled(self) -> bool:
        nodes = self._member_nodes()
        if not all(n.up for n in nodes):
            return False
        applied = nodes[0].applied
        return (applied >= self.cluster.max_acked
                and all(n.applied == applied and n.disk.view.hs.commit == applied for n in nodes)
                and self.leader() is not None)
