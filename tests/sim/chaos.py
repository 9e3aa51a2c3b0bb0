"""Random runs: a seed picks the cluster size, the network's manners, the Raft knobs, and
then a schedule of client calls and faults; afterwards a quiet period checks durability.

Seeds with seed % 4 == 0 run 5 nodes, the others 3, so a seed alone names a run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from trionode.raft import RaftConfig

from . import members
from .sim import TICK, NetParams, Sim, SimFailure

__all__ = ["Knobs", "Chaos", "make_config", "random_run", "nodes_for", "replay_hint"]


def nodes_for(seed: int) -> int:
    return 5 if seed % 4 == 0 else 3


def replay_hint(seed: int) -> str:
    return f"TRIONODE_SIM_SEED={seed} python -m pytest tests/sim -k replay"


@dataclass(frozen=True, slots=True)
class Knobs:
    """What one seed chose (shown in a failure so it can be read without replaying)."""

    nodes: int
    duration: int  # virtual ms of chaos before the quiet period
    pre_vote: bool
    check_quorum: bool
    max_inflight: int
    max_msg_entries: int
    fault_gap: int  # mean virtual ms between faults
    propose_gap: int
    read_gap: int
    snap_gap: int  # applied entries since the last snapshot before a node may compact
    torn: float  # probability that a crash keeps a torn prefix of unsynced writes
    fsync: tuple[int, int] | None  # asynchronous fsync latency (steps run meanwhile)
    drift: int  # each node ticks every TICK +- up to this many virtual ms
    net: NetParams

    @classmethod
    def draw(cls, seed: int, rng: random.Random) -> Knobs:
        n = nodes_for(seed)
        return cls(
            nodes=n,
            duration=(1500 if n == 3 else 1100) + rng.randrange(0, 300),
            pre_vote=rng.random() < 0.75,
            check_quorum=rng.random() < 0.75,
            max_inflight=rng.choice((1, 2, 8, 256)),
            max_msg_entries=rng.choice((1, 3, 512)),
            fault_gap=rng.choice((60, 120, 200)),
            propose_gap=rng.choice((3, 8, 15)),
            read_gap=rng.choice((15, 40)),
            snap_gap=rng.choice((3, 10, 30)),
            torn=rng.choice((0.0, 0.5, 1.0)),
            fsync=rng.choice((None, (1, 3), (1, 12))),
            drift=rng.choice((0, 1, 3)),
            net=NetParams(loss=rng.choice((0.0, 0.02, 0.1, 0.25)),
                          dup=rng.choice((0.0, 0.02, 0.1)),
                          delay=(1, rng.choice((2, 5, 15))),
                          spike=rng.choice((0.0, 0.005, 0.02)),
                          unreachable=rng.choice((0.0, 0.5, 1.0))))


def make_config(knobs: Knobs):
    def config(node_id: int, peers: tuple[int, ...], rng: random.Random) -> RaftConfig:
        return RaftConfig(id=node_id, peers=peers, election_tick=10, heartbeat_tick=1,
                          max_inflight=knobs.max_inflight, max_msg_entries=knobs.max_msg_entries,
                          pre_vote=knobs.pre_vote, check_quorum=knobs.check_quorum, rng=rng,
                          is_conf_change=members.is_conf)
    return config


class Chaos:
    """Recurring client and fault events, until the quiet period switches them off."""

    def __init__(self, sim: Sim, knobs: Knobs) -> None:
        self.sim, self.knobs, self.rng = sim, knobs, sim.rng
        self.active = True

    def start(self) -> None:
        self.sim.at(self._gap(self.knobs.propose_gap), "client propose", self._propose)
        self.sim.at(self._gap(self.knobs.read_gap), "client read", self._read)
        self.sim.at(self._gap(self.knobs.fault_gap), "fault", self._fault)

    def _gap(self, mean: int) -> int:
        return self.rng.randint(1, 2 * mean)

    def _any_up(self) -> int | None:
        up = self.sim.up_ids()
        return self.rng.choice(up) if up else None

    def _propose(self) -> None:
        if not self.active:
            return
        target = self._any_up()
        if target is not None:
            for _ in range(self.rng.choice((1, 1, 1, 4))):  # sometimes a burst
                self.sim.propose(target)
        self.sim.at(self._gap(self.knobs.propose_gap), "client propose", self._propose)

    def _read(self) -> None:
        if not self.active:
            return
        target = self._any_up()
        if target is not None:
            self.sim.read(target)
        self.sim.at(self._gap(self.knobs.read_gap), "client read", self._read)

    def _fault(self) -> None:
        if not self.active:
            return
        sim, rng = self.sim, self.rng
        kind = rng.choices(("crash", "crash_leader", "crash_mid_fsync", "partition",
                            "isolate_leader", "one_way", "snapshot", "transfer"),
                           weights=(3, 2, 1, 2, 1, 1, 4, 1))[0]
        leader = sim.leader()
        ids = list(sim.nodes)
        # The real node sends appends and applies (answering clients) before a Ready's
        # fsync completes: a crash inside that window is what the order must survive.
        syncing = [i for i in ids if sim.nodes[i].in_flight is not None]
        if kind in ("crash_leader", "isolate_leader", "transfer") and leader is None:
            kind = "snapshot"
        if kind in ("crash", "crash_leader", "crash_mid_fsync"):
            if kind == "crash_leader":
                victim = leader
            else:
                victim = rng.choice(syncing if kind == "crash_mid_fsync" and syncing else ids)
            sim.crash(victim, torn=rng.random() < self.knobs.torn)
            sim.at(rng.randint(3 * TICK, 40 * TICK), f"restart {victim:x}", sim.restart, victim)
        elif kind in ("partition", "isolate_leader"):
            rng.shuffle(ids)
            cut = 1 + rng.randrange(len(ids) // 2) if kind == "partition" else 1
            if kind == "isolate_leader":
                ids.remove(leader)
                ids.insert(0, leader)
                cut = rng.randint(1, len(ids) // 2)  # the leader and a minority
            sim.partition(tuple(ids[:cut]), tuple(ids[cut:]))
            sim.at(rng.randint(5 * TICK, 50 * TICK), "heal", sim.heal)
        elif kind == "one_way":
            frm, to = rng.sample(ids, 2)
            if leader is not None and rng.random() < 0.5:
                frm, to = (leader, to) if to != leader else (leader, frm)
            sim.cut_link(frm, to)
            sim.at(rng.randint(5 * TICK, 50 * TICK), "heal", sim.heal)
        elif kind == "snapshot":
            sim.snapshot(rng.choice(ids), self.knobs.snap_gap)
        else:
            sim.transfer(leader, rng.choice([i for i in ids if i != leader]))
        sim.at(self._gap(self.knobs.fault_gap), "fault", self._fault)


def random_run(seed: int, trace: int = 60) -> Sim:
    """One seeded run: chaos for `knobs.duration`, then the quiet period's checks."""
    rng = random.Random(seed)
    knobs = Knobs.draw(seed, rng)
    sim = Sim(rng.getrandbits(64), knobs.nodes, name=f"seed {seed} {knobs}",
              replay=replay_hint(seed), config=make_config(knobs), net=knobs.net, trace=trace,
              fsync=knobs.fsync, drift=knobs.drift)
    chaos = Chaos(sim, knobs)
    chaos.start()
    sim.run(knobs.duration)
    chaos.active = False
    sim.quiesce()
    return sim


def first_failure(seeds: range, breakage: str) -> str:
    """The report of the first seed whose run fails. The self-tests break the harness on
    purpose (`breakage` says how); a sim that notices nothing over `seeds` fails them."""
    for seed in seeds:
        try:
            random_run(seed)
        except SimFailure as exc:
            return str(exc)
    raise AssertionError(f"{breakage} went unnoticed over seeds {seeds}")
