"""Targeted whole-cluster scenarios on the simulator: the faults the random runs hit only now
and then, made to happen on purpose. Each runs under every invariant check of the sim and
ends with its quiet period (every acknowledged write applied everywhere).

A failure names its scenario and seed: `python -m pytest tests/sim -k "<scenario> and <seed>"`.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from trionode.raft import RaftConfig

from .sim import TICK, NetParams, Sim

SEEDS = range(8)


def make_sim(name: str, seed: int, n: int, **net) -> Sim:
    def config(node_id: int, peers: tuple[int, ...], rng: random.Random) -> RaftConfig:
        return RaftConfig(id=node_id, peers=peers, election_tick=10, heartbeat_tick=1, rng=rng)
    # Odd seeds run with an asynchronous fsync (the core steps between ready and advance).
    return Sim(seed, n, name=f"{name} seed {seed}", replay=f'python -m pytest tests/sim -k "{name}"',
               config=config, net=NetParams(**net), fsync=(1, 6) if seed % 2 else None)


def run_until(sim: Sim, cond, ticks: int, what: str):
    """Run until cond() is truthy (and return it) or fail after `ticks` election ticks."""
    found = []

    def check() -> bool:
        value = cond()
        if value:
            found.append(value)
        return bool(value)

    if not (check() or sim.run(sim.now + ticks * TICK, check)):
        sim.fail(f"scenario: {what} did not happen within {ticks} ticks")
    return found[-1]


def finish(sim: Sim, totals: Counter) -> None:
    sim.quiesce()
    totals.update(sim.stats)
    totals["steps"] += sim.steps
    totals["virtual_ms"] += sim.now


@pytest.mark.parametrize("seed", SEEDS)
def test_leader_crash_mid_replication(seed: int, sim_totals: Counter) -> None:
    """The leader crashes while a burst of its entries is on the wire (some followers have
    them, some not, some unsynced on its own disk); a new leader must keep every write that
    was acknowledged and may or may not keep the others."""
    sim = make_sim("leader_crash_mid_replication", seed, 3, delay=(1, 6), dup=0.05)
    old = run_until(sim, sim.leader, 100, "a first leader")
    for _ in range(5):
        sim.propose(old)
    run_until(sim, lambda: len(sim.cluster.acked) >= 5, 50, "the first writes acknowledged")
    for _ in range(20):
        sim.propose(old)
    sim.run(sim.now + sim.rng.randint(0, 5))  # ... and the crash comes mid-burst
    acked_before = len(sim.cluster.acked)
    sim.crash(old, torn=seed % 2 == 0)
    new = run_until(sim, sim.leader, 100, "a new leader")
    assert new != old
    for _ in range(10):
        sim.propose(new)
    sim.run(sim.now + 10 * TICK)
    sim.restart(old)
    finish(sim, sim_totals)
    assert len(sim.cluster.acked) > acked_before > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_leader_partitioned_with_minority(seed: int, sim_totals: Counter) -> None:
    """5 nodes; the leader and one follower are cut off from the other three. The majority
    elects a new leader and takes writes; the old leader steps down (check-quorum) and
    acknowledges nothing meanwhile -- neither writes nor reads (a read there would be stale)."""
    sim = make_sim("leader_partitioned_with_minority", seed, 5, delay=(1, 4))
    old = run_until(sim, sim.leader, 100, "a first leader")
    for _ in range(5):
        sim.propose(old)
    sim.run(sim.now + 3 * TICK)
    buddy = sim.rng.choice([i for i in sim.nodes if i != old])
    majority = tuple(i for i in sim.nodes if i not in (old, buddy))
    sim.partition((old, buddy), majority)
    acked_at_cut = len(sim.cluster.acked)
    minority_props = [sim.propose(i) for i in (old, buddy, old)]
    new = run_until(sim, lambda: next((i for i in majority if sim.nodes[i].role.name == "LEADER"),
                                      None), 100, "a leader in the majority")
    for _ in range(10):
        sim.propose(sim.rng.choice(majority))
    sim.run(sim.now + 5 * TICK)
    assert len(sim.cluster.acked) > acked_at_cut
    for i in (old, buddy):
        sim.read(i)  # issued after majority writes were acknowledged: must not see less
        sim.propose(i)
    run_until(sim, lambda: sim.nodes[old].role.name != "LEADER", 30, "the old leader stepping down")
    sim.run(sim.now + 20 * TICK)
    assert not any(d in sim.cluster.acked for d in minority_props if d is not None)
    sim.heal()
    for _ in range(5):
        sim.propose(new)
    finish(sim, sim_totals)


@pytest.mark.parametrize("seed", SEEDS)
def test_all_crash_at_once(seed: int, sim_totals: Counter) -> None:
    """Every node crashes at the same instant (power cut), some with torn unsynced tails;
    after they all restart, no acknowledged write may be missing."""
    n = 3 if seed % 2 else 5
    sim = make_sim("all_crash_at_once", seed, n, delay=(1, 5), loss=0.02)
    run_until(sim, sim.leader, 100, "a first leader")
    for round_ in range(3):
        before = len(sim.cluster.acked)
        for _ in range(15):
            sim.propose(sim.rng.choice(list(sim.nodes)))
            sim.run(sim.now + sim.rng.randint(0, 3))
        run_until(sim, lambda: len(sim.cluster.acked) > before, 100, "writes acknowledged")
        for _ in range(5):  # and some in flight when the power goes
            sim.propose(sim.rng.choice(list(sim.nodes)))
        sim.run(sim.now + sim.rng.randint(0, 3))
        for i in sim.nodes:
            sim.crash(i, torn=sim.rng.random() < 0.5)
        sim.run(sim.now + sim.rng.randint(1, 20) * TICK)
        for i in sim.nodes:
            sim.restart(i)
        run_until(sim, sim.leader, 200, f"a leader after power cut {round_}")
    finish(sim, sim_totals)
    assert sim.cluster.acked


@pytest.mark.parametrize("seed", SEEDS)
def test_lagging_follower_gets_snapshot(seed: int, sim_totals: Counter) -> None:
    """A follower cut off while the leader compacts its log catches up by snapshot install."""
    sim = make_sim("lagging_follower_gets_snapshot", seed, 3, delay=(1, 4), loss=0.05)
    leader = run_until(sim, sim.leader, 100, "a first leader")
    lagger = sim.rng.choice([i for i in sim.nodes if i != leader])
    sim.partition((lagger,), tuple(i for i in sim.nodes if i != lagger))
    for _ in range(30):
        sim.propose(leader)
        sim.run(sim.now + 2)
    sim.run(sim.now + 5 * TICK)
    for i in sim.nodes:
        if i != lagger:
            sim.snapshot(i)
    sim.heal()
    finish(sim, sim_totals)
    assert sim.stats["snapshot_installs"] >= 1
    assert sim.nodes[lagger].applied >= 30
