"""membership/standbys.py, the leader's look at the membership (0.4's standby design,
v2-spec §5.3), in process: the real Reconfig over a fake replica whose proposals apply at
once (membership changes to a real Membership, the cluster config to a real Store), and
trio's autojump clock for keep_membership's once-a-second looks."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trionode.membership.clusterconfig import CONFIG_KEY, ClusterConfig
from trionode.membership.errors import MemberError
from trionode.membership.members import Member, Membership
from trionode.membership.reconfig import Reconfig
from trionode.membership.standbys import CAUGHT_UP_SLACK, LOOK_INTERVAL, _look, keep_membership
from trionode.raft import Role, Status
from trionode.raft.progress import Progress, ProgressState
from trionode.store import Event, Store
from trionode.store.commands import Command, Op

ME, B, C, D, E = 0xA1, 0xB2, 0xC3, 0xD4, 0xE5
COMMIT = 10_000


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, *args, **kw: self.lines.append((event, kw))


class Replica:
    """Both what the look reads (Leading) and what Reconfig proposes through (Proposer):
    a proposal is applied on the spot."""

    def __init__(self, voters: tuple[int, ...], learners: tuple[int, ...] = (), *,
                 match: dict[int, int] | None = None, config: ClusterConfig | None = None) -> None:
        self.member_id = ME
        self.is_leader = True
        self.store = Store()
        self.membership = Membership(0x77, [Member(i, f"m{i:x}", (f"http://10.0.0.{i & 0xF}:2380",))
                                            for i in voters]
                                     + [Member(i, f"m{i:x}", (f"http://10.0.0.{i & 0xF}:2380",), learner=True)
                                        for i in learners])
        self.applied = 0
        self.match = {i: COMMIT for i in (*voters, *learners) if i != ME} if match is None else match
        self.proposed: list[Command] = []
        self.refuse: Exception | None = None
        if config is not None:
            self.store.apply(Command(Op.SET, CONFIG_KEY, config.to_json()))

    def status(self) -> Status:
        progress = {peer: Progress(match, match + 1, ProgressState.REPLICATE) for peer, match in self.match.items()}
        return Status(ME, Role.LEADER, 2, ME, COMMIT, COMMIT, 0, progress,
                      self.membership.voters, self.membership.learners)

    async def propose(self, command: Command) -> list[Event]:
        if self.refuse is not None:
            raise self.refuse
        self.proposed.append(command)
        self.applied += 1
        if command.op is Op.MEMBER:
            self.membership.change(command)
            return []
        return self.store.apply(command)


def reconfig(replica: Replica) -> Reconfig:
    return Reconfig(replica, "token", ClusterConfig())


def actions(replica: Replica) -> list[tuple[str, str]]:
    """(action, member) of each membership change proposed."""
    return [(cmd.value.split('"action":"')[1].split('"')[0], cmd.key[1:]) for cmd in replica.proposed
            if cmd.op is Op.MEMBER]


async def look(replica: Replica, last_heard: dict[int, float], now: float, leading_since: float = 0.0) -> Log:
    log = Log()
    await _look(replica, last_heard, reconfig(replica), now, leading_since, log)
    return log


# --- removeDelay ---------------------------------------------------------------------------------

async def test_a_member_silent_for_longer_than_remove_delay_is_removed() -> None:
    replica = Replica((ME, B, C), config=ClusterConfig(3, 30, 5))
    log = await look(replica, {B: 69.0, C: 100.0}, now=100.0)
    assert actions(replica) == [("remove", "b2")]
    assert B in replica.membership.removed
    assert log.lines == [("membership.auto_remove", {"member": "b2", "remove_delay": 30})]


async def test_silence_of_exactly_remove_delay_is_not_enough() -> None:
    replica = Replica((ME, B, C), config=ClusterConfig(3, 30, 5))
    await look(replica, {B: 70.0, C: 70.0}, now=100.0)
    assert actions(replica) == []


async def test_silence_counts_from_when_we_became_leader() -> None:
    """A new leader has heard no one yet: never heard of, or heard long ago, counts from then."""
    replica = Replica((ME, B, C), config=ClusterConfig(3, 30, 5))
    await look(replica, {B: 1.0}, now=100.0, leading_since=80.0)
    assert actions(replica) == []
    await look(replica, {B: 1.0}, now=111.0, leading_since=80.0)
    assert actions(replica) == [("remove", "b2")]


async def test_a_silent_standby_is_removed_too_and_the_leader_never() -> None:
    replica = Replica((ME, B, C), (D,), config=ClusterConfig(3, 30, 5))
    await look(replica, {B: 99.0, C: 99.0}, now=100.0)  # nothing heard of D, nor of ME
    assert actions(replica) == [("remove", "d4")]


# --- activeSize ----------------------------------------------------------------------------------

async def test_a_caught_up_standby_is_promoted_when_voters_are_too_few() -> None:
    match = {B: COMMIT, D: COMMIT - CAUGHT_UP_SLACK, E: COMMIT - 3}
    replica = Replica((ME, B), (D, E), match=match, config=ClusterConfig(3, 1800, 5))
    log = await look(replica, {}, now=10.0)
    assert actions(replica) == [("promote", "e5")]  # the one furthest along
    assert replica.membership.voters == (ME, B, E)
    assert log.lines == [("membership.promote", {"member": "e5", "active_size": 3})]
    await look(replica, {}, now=11.0)  # activeSize reached: nothing more
    assert actions(replica) == [("promote", "e5")]


async def test_a_standby_that_lags_is_not_promoted() -> None:
    match = {B: COMMIT, D: COMMIT - CAUGHT_UP_SLACK - 1}
    replica = Replica((ME, B), (D,), match=match, config=ClusterConfig(3, 1800, 5))
    await look(replica, {}, now=10.0)
    assert actions(replica) == []
    replica.match[D] = COMMIT - CAUGHT_UP_SLACK  # it caught up
    await look(replica, {}, now=11.0)
    assert actions(replica) == [("promote", "d4")]


async def test_a_follower_is_demoted_when_voters_are_too_many() -> None:
    """activeSize was lowered: the follower furthest behind becomes a standby, one per look."""
    match = {B: 90, C: 40, D: 70, E: 100}
    replica = Replica((ME, B, C, D, E), match=match, config=ClusterConfig(3, 1800, 5))
    log = await look(replica, {}, now=10.0)
    assert actions(replica) == [("demote", "c3")]
    assert log.lines == [("membership.demote", {"member": "c3", "active_size": 3})]
    await look(replica, {}, now=11.0)
    assert actions(replica) == [("demote", "c3"), ("demote", "d4")]
    assert replica.membership.voters == (ME, B, E) and replica.membership.learners == (C, D)
    await look(replica, {}, now=12.0)
    assert len(actions(replica)) == 2


async def test_the_leader_is_never_demoted() -> None:
    match = {B: 5, C: 5, D: 5}
    replica = Replica((ME, B, C, D), match={**match, ME: 0}, config=ClusterConfig(3, 1800, 5))
    await look(replica, {}, now=10.0)
    assert actions(replica) == [("demote", "b2")]


async def test_a_refused_change_raises_for_the_loop_to_log() -> None:
    replica = Replica((ME, B), (D,), config=ClusterConfig(3, 1800, 5))
    replica.refuse = MemberError(500, "membership: another change is being applied")
    with pytest.raises(MemberError):
        await look(replica, {}, now=10.0)


# --- keep_membership: the loop ---------------------------------------------------------------------

async def test_the_loop_removes_a_silent_member_on_time(autojump_clock: trio.testing.MockClock) -> None:
    """The leader looks every second; B, never heard from, goes once removeDelay has passed
    since the first look as leader; C, heard from every half second, stays."""
    replica = Replica((ME, B, C), config=ClusterConfig(3, 2, 5))
    last_heard: dict[int, float] = {}
    removed_at: list[float] = []
    start = trio.current_time()

    async def c_talks() -> None:
        while True:
            last_heard[C] = trio.current_time()
            await trio.sleep(0.5)

    async def watch() -> None:
        while B not in replica.membership.removed:
            await trio.sleep(0.01)
        removed_at.append(trio.current_time())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(c_talks)
        nursery.start_soon(keep_membership, replica, last_heard, trio.Event(), reconfig(replica), Log())
        with trio.fail_after(30):
            await watch()
        await trio.sleep(10)
        nursery.cancel_scope.cancel()
    # looks at 1 (leading since), 2, 3: 2 s of silence is not more than removeDelay; at 4 it is
    assert removed_at[0] == pytest.approx(start + 4 * LOOK_INTERVAL, abs=0.011)
    assert actions(replica) == [("remove", "b2")]


async def test_the_loop_does_nothing_unless_leading_and_restarts_the_count(
        autojump_clock: trio.testing.MockClock) -> None:
    replica = Replica((ME, B, C), config=ClusterConfig(3, 2, 5))
    replica.is_leader = False
    removed = trio.Event()
    heard = {C: 1e9}  # C always counts as just heard
    async with trio.open_nursery() as nursery:
        nursery.start_soon(keep_membership, replica, heard, removed, reconfig(replica), Log())
        await trio.sleep(10.5)
        assert actions(replica) == []  # a follower never looks
        replica.is_leader = True  # leading from the look at 11
        await trio.sleep(3)
        assert actions(replica) == []  # 11..13: B silent for 2 s, not more
        replica.is_leader = False
        await trio.sleep(1)
        replica.is_leader = True  # lost and won again: silence counts from the look at 15
        await trio.sleep(3)
        assert actions(replica) == []  # 15..17
        await trio.sleep(1)
        assert actions(replica) == [("remove", "b2")]  # at 18
        removed.set()  # this member was removed itself: it looks no more,
        heard.clear()  # not even at C, silent from now on
        await trio.sleep(10)
        assert actions(replica) == [("remove", "b2")]
        nursery.cancel_scope.cancel()


async def test_a_failed_look_is_logged_and_the_next_one_tries_again(autojump_clock: trio.testing.MockClock) -> None:
    replica = Replica((ME, B), (D,), config=ClusterConfig(3, 1800, 5))
    replica.refuse = MemberError(500, "membership: another change is being applied")
    log = Log()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(keep_membership, replica, {}, trio.Event(), reconfig(replica), log)
        await trio.sleep(1.5)
        assert ("membership.look_failed", {"error": "membership: another change is being applied"}) in log.lines
        replica.refuse = None
        await trio.sleep(1)
        assert actions(replica) == [("promote", "d4")]
        nursery.cancel_scope.cancel()
