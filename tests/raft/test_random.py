"""A small seeded fuzz of the core through the transcript cluster: random ticks,
proposals, reordered and lost messages, crashes with restarts, and compactions; after
every step, at most one leader per term and all applied sequences agree. The thorough
whole-cluster simulation lives in tests/sim/; this one guards the core's assertions."""

from __future__ import annotations

import random

import pytest

from trionode.raft import Role

from .cluster import Cluster


def _check(cluster: Cluster, leaders: dict[int, int], seed: int) -> None:
    for i in cluster.up():
        st = cluster.core(i).status
        if st.role is Role.LEADER:
            assert leaders.setdefault(st.term, i) == i, f"seed {seed}: two leaders in term {st.term}"
    apps = [m.app for m in cluster.members.values()]
    longest = max(apps, key=len)
    for app in apps:
        assert app == longest[:len(app)], f"seed {seed}: applied sequences diverge: {apps}"


def _step(cluster: Cluster, rng: random.Random, counter: list[int]) -> None:
    ids = sorted(cluster.members)
    up = cluster.up()
    roll = rng.random()
    if roll < 0.3 and up:
        cluster.core(rng.choice(up)).tick()
    elif roll < 0.45 and up:
        counter[0] += 1
        cluster.propose(rng.choice(up), f"p{counter[0]}".encode())
    elif roll < 0.7:
        cluster.process_ready(up)
    elif roll < 0.96:
        rng.shuffle(cluster.network)  # reordered, some lost, some delayed
        kept = []
        for m in cluster.network:
            if rng.random() < 0.95:
                kept.append(m)
            else:
                cluster.lose(m)
        cluster.network = kept
        cluster.deliver(to=set(rng.sample(ids, rng.randrange(1, len(ids) + 1))))
    elif roll < 0.965 and len(up) == len(ids):
        cluster.crash(rng.choice(ids))
    elif roll < 0.98:
        for i in ids:
            if cluster.members[i].core is None:
                cluster.members[i].start()
    else:
        for i in up:
            member = cluster.members[i]
            if member.applied > cluster.core(i).log.snap_index and not cluster.core(i).has_ready():
                cluster.compact(i, member.applied)


@pytest.mark.parametrize("seed", range(30))
def test_random_cluster(seed: int) -> None:
    rng = random.Random(seed)
    out: list[str] = []
    cluster = Cluster(out, report_snapshots=True)
    cluster.add(rng.choice([1, 3, 5]), election_tick=5, max_inflight=rng.choice([1, 4]),
                max_msg_entries=rng.choice([1, 3]))
    leaders: dict[int, int] = {}
    counter = [0]
    for _ in range(2000):
        _step(cluster, rng, counter)
        out.clear()
        _check(cluster, leaders, seed)
    # Heal: everyone up, no losses; the cluster must converge and apply the same.
    for member in cluster.members.values():
        if member.core is None:
            member.start()
    for _ in range(200):
        for i in cluster.up():
            cluster.core(i).tick()
        cluster.stabilize(sorted(cluster.members))
        out.clear()
    apps = {i: m.app for i, m in cluster.members.items()}
    assert len({tuple(a) for a in apps.values()}) == 1, f"seed {seed}: {apps}"
    assert any(m.core.status.role is Role.LEADER for m in cluster.members.values() if m.core), \
        f"seed {seed}: no leader after healing"
