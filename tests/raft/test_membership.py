"""Dynamic membership in the Raft core (trionode/raft/membership.py): learners, promotion,
removal of a follower and of the leader (hand-over), quorums that change with the voter
set, and the one-change-at-a-time rule. The in-memory cluster (cluster.py) applies a
change entry between ready() and advance() and calls set_membership, as server/replica.py does."""

from __future__ import annotations

import random

import pytest

from trionode.raft import Entry, HardState, Message, MsgType, RaftConfig, RaftCore, Role

from .cluster import Cluster


def _cluster(voters: int = 3, **options: object) -> Cluster:
    c = Cluster([], report_snapshots=True)
    c.add(voters, **options)
    c.report(1, MsgType.HUP, 1)
    c.stabilize(c.up())
    assert c.core(1).role is Role.LEADER
    return c


def _change(c: Cluster, at: int, change: bytes) -> None:
    c.propose(at, b"conf " + change)
    c.stabilize(sorted(c.members))


def _leader(c: Cluster) -> int:
    leaders = [i for i in c.up() if c.core(i).role is Role.LEADER]
    assert len(leaders) <= 1
    return leaders[0] if leaders else 0


def _sent(c: Cluster, i: int, rounds: int = 1) -> list[Message]:
    """Tick `i` and return what it would send."""
    sent = []
    for _ in range(rounds):
        c.core(i).tick()
        while c.core(i).has_ready():
            rd = c.core(i).ready()
            sent += rd.messages
            c.members[i].handle(rd, [])
    return sent


def _compact_all(c: Cluster) -> None:
    for i in c.up():
        c.compact(i, c.members[i].applied)


def test_add_learner_catches_up_by_snapshot_and_never_votes() -> None:
    c = _cluster()
    for data in (b"a", b"b"):
        c.propose(1, data)
    c.stabilize(c.up())
    _compact_all(c)
    c.spawn(4)
    _change(c, 1, b"l4")
    # An "add" is applied, then every member snapshots (the edge's rule): the new
    # member's empty log is then behind the leader's first index.
    _compact_all(c)
    c.propose(1, b"c")
    c.stabilize(sorted(c.members))
    assert c.members[4].app == c.members[1].app and b"c" in c.members[4].app
    assert any(line.startswith("  4 raft.snapshot_restored") for line in c.out)
    assert c.core(4).learners == (4,) and c.core(4).voters == (1, 2, 3)
    assert c.core(1).status.learners == (4,) and 4 in c.core(1).status.progress
    assert not [m for m in _sent(c, 4, 50) if m.type in (MsgType.VOTE, MsgType.PRE_VOTE)]
    # Learners do not count: with 2 and 3 down nothing commits.
    c.crash(2)
    c.crash(3)
    before = c.core(1).log.committed
    c.propose(1, b"d")
    c.stabilize([1, 4])
    assert c.core(1).log.committed == before and c.core(4).log.last_index() > before


def test_promote_learner_to_voter_changes_the_quorum() -> None:
    c = _cluster(learners=(4,))
    _change(c, 1, b"v4")
    assert all(c.core(i).voters == (1, 2, 3, 4) for i in c.up())
    c.crash(3)
    c.crash(4)  # 2 of 4 is not a majority
    c.propose(1, b"x")
    c.stabilize([1, 2])
    assert b"x" not in c.members[1].app
    c.members[4].start()
    c.stabilize([1, 2, 4])
    assert b"x" in c.members[1].app


def test_remove_follower() -> None:
    c = _cluster()
    _change(c, 1, b"r3")
    assert 3 not in c.core(1).prs and c.core(1).voters == (1, 2)
    assert c.core(3).voters == (1, 2) and not c.core(3).promotable()
    assert not _sent(c, 3, 50), "a removed member never campaigns"
    c.propose(1, b"x")
    c.stabilize([1, 2])  # {1, 2} is the whole quorum now
    assert b"x" in c.members[2].app and b"x" not in c.members[3].app


def test_remove_leader_hands_over() -> None:
    c = _cluster()
    c.propose(1, b"x")
    c.stabilize(c.up())
    c.propose(2, b"conf r1")  # forwarded to the leader
    c.stabilize(c.up())
    new = _leader(c)
    assert new in (2, 3), "the most caught-up voter took over"
    old = c.core(1)
    assert old.role is Role.FOLLOWER and not old.promotable()
    assert not [m for m in _sent(c, 1, 50) if m.type is not MsgType.HEARTBEAT_RESP]
    c.propose(new, b"y")
    c.stabilize([2, 3])
    assert b"y" in c.members[2].app and b"y" in c.members[3].app
    assert c.core(new).voters == (2, 3) and 1 not in c.core(new).prs


def _removed_with_lagging_target() -> Cluster:
    """Leader 1 holds an entry nobody acknowledged yet when the edge applies "remove 1"
    (called directly here): no remaining voter is caught up."""
    c = _cluster()
    c.propose(1, b"a")
    core = c.core(1)
    core.set_membership((2, 3), ())
    assert core.role is Role.LEADER and core.lead_transferee == 2
    assert not any(m.type is MsgType.TIMEOUT_NOW for m in core.msgs)
    core.set_membership((3, 2), ())  # idempotent
    assert core.lead_transferee == 2
    return c


def test_removed_leader_sends_timeout_now_once_caught_up() -> None:
    c = _removed_with_lagging_target()
    c.stabilize(c.up())
    assert c.core(1).role is Role.FOLLOWER and _leader(c) == 2
    assert c.core(2).term == c.core(1).term, "1 stepped down without a new term"
    assert b"a" in c.members[3].app


def test_removed_leader_steps_down_after_an_election_timeout() -> None:
    c = _removed_with_lagging_target()
    core = c.core(1)
    for _ in range(core.config.election_tick):
        c.deliver(drop=True)  # whatever 1 sends is lost
        core.tick()
        c.process_ready([1])
    assert core.role is Role.FOLLOWER and not core.promotable()


def test_smaller_quorum_commits_at_once() -> None:
    c = _cluster(4)
    c.crash(3)
    c.crash(4)
    c.propose(1, b"x")
    c.stabilize([1, 2])
    leader = c.core(1)
    index = leader.log.last_index()
    assert leader.log.committed < index  # 2 of 4
    leader.set_membership((1, 2, 3), ())
    assert leader.log.committed == index  # 2 of 3, without another message
    c.stabilize([1, 2])
    assert b"x" in c.members[2].app


def test_read_index_round_completes_when_the_quorum_shrinks() -> None:
    c = _cluster(4)
    c.crash(3)
    c.crash(4)
    c.read_index(1, b"r1")
    c.stabilize([1, 2])
    assert not c.members[1].core.read_states
    c.core(1).set_membership((1, 2), ())
    assert [rs.ctx for rs in c.core(1).read_states] == [b"r1"]


@pytest.mark.parametrize("via", [1, 2])
def test_one_conf_change_at_a_time(via: int) -> None:
    c = _cluster()
    c.propose(via, b"conf l4")
    c.propose(via, b"conf l5")  # the first is not applied yet: refused (an empty entry)
    c.stabilize(c.up())
    datas = [e.data for e in c.core(1).log.entries]
    assert b"conf l4" in datas and b"conf l5" not in datas
    assert c.core(1).learners == (4,)
    c.propose(via, b"conf l5")  # the first is applied now: admitted
    c.stabilize(c.up())
    assert c.core(1).learners == (4, 5)


def test_new_leader_admits_no_change_before_applying_its_log() -> None:
    c = _cluster(pre_vote=False, check_quorum=False)
    c.propose(1, b"conf l4")
    c.process_ready([1])
    c.deliver(to={2, 3})
    c.process_ready([2, 3])
    c.crash(1)  # 2 and 3 hold the change but never learn it committed
    c.network.clear()
    c.report(2, MsgType.HUP, 2)
    for _ in range(2):
        c.process_ready([2, 3])
        c.deliver(to={2, 3})
    core = c.core(2)
    assert core.role is Role.LEADER and core.log.applied < core.pending_conf_index
    core.propose(b"conf l5")
    assert core.log.entries[-1].data == b"", "refused: the change before it may be unapplied"
    c.stabilize([2, 3])
    assert core.learners == (4,)
    core.propose(b"conf l5")
    assert core.log.entries[-1].data == b"conf l5"


def test_non_member_never_campaigns() -> None:
    c = _cluster()
    c.spawn(9)
    core = c.core(9)
    assert core.voters == (1, 2, 3) and not core.promotable()
    assert not _sent(c, 9, 100)
    core.step(Message(MsgType.TIMEOUT_NOW, to=9, frm=1, term=core.term))
    core.step(Message(MsgType.HUP, to=9, frm=9))
    assert core.role is Role.FOLLOWER and not core.has_ready()


def test_learner_is_no_transfer_target() -> None:
    c = _cluster(learners=(4,))
    c.core(1).transfer_leadership(4)
    assert c.core(1).lead_transferee == 0


def test_config_membership_validation() -> None:
    rng = random.Random(1)
    assert RaftConfig(7, (1, 2), rng=rng).learners == ()  # in neither set: allowed
    assert RaftConfig(3, (1, 2), learners=(3,), rng=rng).learners == (3,)
    assert not RaftConfig(1, (1,), rng=rng).is_conf_change(b"anything")
    for bad in ({"peers": (1, 2), "learners": (2,)}, {"peers": (), "learners": (1,)},
                {"peers": (0, 1)}):
        with pytest.raises(ValueError):
            RaftConfig(1, rng=rng, **bad)
    core = RaftCore(RaftConfig(1, (1, 2), rng=rng), HardState(), None, [Entry(1, 1, b"")])
    with pytest.raises(ValueError):
        core.set_membership((1, 2), (2,))


def test_a_refused_change_becomes_what_the_edge_says() -> None:
    """refuse_conf_change lets the edge keep the request's identity in the refused entry,
    so its proposer hears at once instead of timing out."""
    c = _cluster(refuse_conf_change=lambda data: b"refused " + data)
    c.propose(1, b"conf l4")
    c.propose(1, b"conf l5")
    c.stabilize(c.up())
    datas = [e.data for e in c.core(2).log.entries]
    assert b"conf l4" in datas and b"refused conf l5" in datas
    assert c.core(2).learners == (4,)
