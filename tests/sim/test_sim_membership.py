"""Membership changes on the simulator, under the random runs' faults (crashes, torn writes,
partitions, loss, duplication, asynchronous fsyncs) and every invariant check of the sim,
each ending with its quiet period (every acknowledged write on every member).

Changes are retried until applied, as an operator (or the node's standby logic) would: a
proposal may be lost with a crashed leader, or refused while an earlier change is pending.
Added members start with an empty disk and in no membership (sim.spawn) and catch up by the
snapshot every member takes right after applying an add.

A failure names its scenario and seed: `python -m pytest tests/sim -k "<scenario> and <seed>"`.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections import Counter

import pytest

from . import members
from .chaos import Chaos, Knobs, make_config
from .sim import TICK, Sim

SEEDS = range(6)

#: membership changes wait this long for a leader to apply them before proposing again
_RETRY_TICKS = 30
_ATTEMPTS = 60


def make_sim(name: str, seed: int, n: int) -> tuple[Sim, Chaos]:
    rng = random.Random(seed)
    knobs = dataclasses.replace(Knobs.draw(seed, rng), nodes=n, fault_gap=120, snap_gap=10)
    sim = Sim(rng.getrandbits(64), n, name=f"{name} seed {seed} {knobs}",
              replay=f'python -m pytest tests/sim -k "{name} and {seed}"', config=make_config(knobs),
              net=knobs.net, fsync=knobs.fsync, drift=knobs.drift)
    chaos = Chaos(sim, knobs)
    chaos.start()
    return sim, chaos


def applied_members(sim: Sim) -> members.Members:
    up = [sim.nodes[i] for i in sim.up_ids()]
    return max(up, key=lambda node: node.applied).members if up else ((), ())


def settle_change(sim: Sim, serials, kind: str, member: int) -> None:
    """Get one change applied by the most advanced member, proposing it again as needed."""
    data = members.change(next(serials), kind, member)

    def done() -> bool:
        voters, learners = applied_members(sim)
        if kind == "r":
            return member not in voters and member not in learners
        return member in voters or (kind == "l" and member in learners)

    for _ in range(_ATTEMPTS):
        leader = sim.leader()
        if leader is not None:
            sim.propose(leader, data)
        if sim.run(sim.now + _RETRY_TICKS * TICK, done):
            sim.note(f"change {data.decode()} applied")
            return
    sim.fail(f"scenario: change {data.decode()} never applied")


def finish(sim: Sim, chaos: Chaos, totals: Counter, voters: set[int], learners: set[int] = set()) -> None:
    sim.run(sim.now + 60 * TICK)  # more faults with the final membership
    chaos.active = False
    sim.quiesce()
    got = applied_members(sim)
    assert (set(got[0]), set(got[1])) == (voters, learners), got
    totals.update(sim.stats)
    totals["steps"] += sim.steps
    totals["virtual_ms"] += sim.now


@pytest.mark.parametrize("seed", SEEDS)
def test_grow_3_to_5_and_back(seed: int, sim_totals: Counter) -> None:
    """3 -> 5 voters, then the leader and another original member leave (3 again)."""
    sim, chaos = make_sim("grow_3_to_5_and_back", seed, 3)
    serials = itertools.count(1)
    sim.run(30 * TICK)
    for new in (4, 5):
        sim.spawn(new)
        settle_change(sim, serials, "v", new)
    first = sim.leader() or 1
    settle_change(sim, serials, "r", first)
    second = next(i for i in (1, 2, 3) if i != first)
    settle_change(sim, serials, "r", second)
    finish(sim, chaos, sim_totals, {1, 2, 3, 4, 5} - {first, second})
    assert sim.stats["conf_changes_applied"] >= 4


@pytest.mark.parametrize("seed", SEEDS)
def test_learner_then_promote(seed: int, sim_totals: Counter) -> None:
    """A learner joins, follows the log without ever leading, and is promoted."""
    sim, chaos = make_sim("learner_then_promote", seed, 3)
    serials = itertools.count(1)
    sim.run(30 * TICK)
    sim.spawn(4)
    settle_change(sim, serials, "l", 4)
    sim.run(sim.now + 100 * TICK)
    assert 4 not in sim.cluster.history.leaders.values(), "a learner led"
    settle_change(sim, serials, "v", 4)
    finish(sim, chaos, sim_totals, {1, 2, 3, 4})


@pytest.mark.parametrize("seed", SEEDS)
def test_remove_leader(seed: int, sim_totals: Counter) -> None:
    """The leader applies its own removal, hands over and never leads again."""
    sim, chaos = make_sim("remove_leader", seed, 3 if seed % 2 else 5)
    serials = itertools.count(1)
    sim.run(30 * TICK)
    while (leader := sim.leader()) is None:
        sim.run(sim.now + 10 * TICK)
    settle_change(sim, serials, "r", leader)
    removed_at = max(sim.cluster.history.leaders)
    finish(sim, chaos, sim_totals, set(sim.nodes) - {leader})
    assert all(who != leader for term, who in sim.cluster.history.leaders.items()
               if term > removed_at), "the removed leader led again"


def test_new_members_caught_up_by_snapshot(sim_totals: Counter) -> None:
    """Over the scenarios above: empty members did get snapshots (not only replayed logs)."""
    assert sim_totals["empty_node_installs"] >= 1, dict(sim_totals)
