"""membership/tracker.py MembershipTracker in process, with fakes for the peer transport's
address book and the replica, and trio's autojump clock where time matters: the address
book follows every applied change, a member that applies its own removal is `removed`,
stop_when_removed cancels the node's scope (after a removed leader's hand-over), and a
member cut off without a leader asks its peers whether it was removed."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from trionode.membership import tracker as tracker_module
from trionode.membership.members import (
    Change,
    ChangeAction,
    Member,
    Membership,
    change_command,
)
from trionode.membership.tracker import MembershipTracker, peer_addresses

ME, B, C = 0xA1, 0xB2, 0xC3
CLUSTER = 0x77


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, *args, **kw: self.lines.append((level, event, kw))

    def events(self) -> list[str]:
        return [event for _, event, _ in self.lines]


class Book:
    """The peer transport's address book: every set_peers call, in order."""

    def __init__(self) -> None:
        self.calls: list[dict[int, tuple[str, int]]] = []

    def set_peers(self, peers: dict[int, tuple[str, int]]) -> None:
        self.calls.append(peers)


class Replica:
    """The LeaderView: whether we lead, whom we follow, and the role_changed event."""

    def __init__(self, is_leader: bool = False, leader_id: int = 0) -> None:
        self.is_leader = is_leader
        self.leader_id = leader_id
        self.role_changed = trio.Event()

    def step_down(self, new_leader: int = 0) -> None:
        self.is_leader, self.leader_id = False, new_leader
        self.role_changed.set()
        self.role_changed = trio.Event()


def membership() -> Membership:
    return Membership(CLUSTER, [
        Member(ME, "me", ("http://10.0.0.1:2380",), ("http://10.0.0.1:2379",)),
        Member(B, "b", ("http://10.0.0.2:2380", "http://10.0.0.2:2390")),
        Member(C, "c", ("http://10.0.0.3:2381",), learner=True),
    ])


def change(members: Membership, action: ChangeAction, member_id: int, *urls: str) -> list[Change]:
    return [members.change(change_command(action, member_id, urls))]


def tracker(log: Log | None = None) -> tuple[MembershipTracker, Book, Log]:
    book, log = Book(), log or Log()
    return MembershipTracker(ME, CLUSTER, book, log), book, log


# --- the address book ------------------------------------------------------------------------

def test_the_address_book_follows_every_change() -> None:
    t, book, log = tracker()
    members = membership()
    t.changed(members, (), 0)
    assert book.calls == [{B: ("10.0.0.2", 2380), C: ("10.0.0.3", 2381)}]  # the first URL; never me
    added = change(members, ChangeAction.ADD, 0xD4, "http://10.0.0.4:2380")
    t.changed(members, added, 7)
    assert book.calls[-1] == {B: ("10.0.0.2", 2380), C: ("10.0.0.3", 2381), 0xD4: ("10.0.0.4", 2380)}
    t.changed(members, change(members, ChangeAction.UPDATE, B, "http://10.0.0.9:2380"), 8)
    t.changed(members, change(members, ChangeAction.REMOVE, C), 9)
    assert book.calls[-1] == {B: ("10.0.0.9", 2380), 0xD4: ("10.0.0.4", 2380)}
    assert [(e, kw) for _, e, kw in log.lines] == [
        ("membership_changed", {"action": "add", "member": "d4", "index": 7}),
        ("membership_changed", {"action": "update", "member": "b2", "index": 8}),
        ("membership_changed", {"action": "remove", "member": "c3", "index": 9}),
    ]
    assert not t.removed.is_set()


def test_a_peer_url_that_cannot_be_dialled_is_logged_and_skipped() -> None:
    log = Log()
    members = Membership(CLUSTER, [Member(ME, "me", ("http://10.0.0.1:2380",)),
                                   Member(B, "b", ("http://10.0.0.2:2380/path",)), Member(C, "c", ())])
    assert peer_addresses(members, ME, log) == {}
    assert log.lines == [("error", "peer.bad_url", {"peer": "b2", "url": "http://10.0.0.2:2380/path"})]


def test_applying_its_own_removal_sets_removed_once() -> None:
    t, book, log = tracker()
    members = membership()
    t.changed(members, (), 0)
    t.changed(members, change(members, ChangeAction.REMOVE, ME), 12)
    assert t.removed.is_set()
    assert book.calls[-1] == {B: ("10.0.0.2", 2380), C: ("10.0.0.3", 2381)}
    t.changed(members, change(members, ChangeAction.REMOVE, C), 13)  # applied before it stopped
    assert log.events().count("member_removed") == 1


def test_a_snapshot_that_says_it_was_removed_sets_removed() -> None:
    """Installing a snapshot reports no changes, only the membership it holds."""
    t, _, _ = tracker()
    members = membership()
    members.removed.add(ME)
    t.changed(members, (), 40)
    assert t.removed.is_set()


# --- stopping ----------------------------------------------------------------------------------

async def run_until_stopped(t: MembershipTracker, replica: Replica, events: Any) -> float:
    """Run stop_when_removed (election timeout 1 s, heartbeat 0.1 s) next to `events`, and
    return when the scope it was handed was cancelled, on the virtual clock."""
    scope = trio.CancelScope()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(t.stop_when_removed, scope, replica, 1.0, 0.1)
        nursery.start_soon(events)
        with scope:
            await trio.sleep_forever()
        stopped = trio.current_time()
        nursery.cancel_scope.cancel()
    assert scope.cancelled_caught
    return stopped


async def test_a_removed_follower_stops_after_two_heartbeats(autojump_clock: trio.testing.MockClock) -> None:
    t, _, log = tracker()
    members = membership()
    start = trio.current_time()

    async def remove_at_5() -> None:
        await trio.sleep(5)
        t.changed(members, change(members, ChangeAction.REMOVE, ME), 3)

    assert await run_until_stopped(t, Replica(leader_id=B), remove_at_5) == pytest.approx(start + 5.2)
    assert ("info", "stopping", {"reason": "removed from the cluster"}) in log.lines


async def test_a_removed_leader_waits_for_its_hand_over(autojump_clock: trio.testing.MockClock) -> None:
    t, _, _ = tracker()
    members = membership()
    replica = Replica(is_leader=True, leader_id=ME)
    start = trio.current_time()

    async def remove_then_step_down() -> None:
        await trio.sleep(1)
        t.changed(members, change(members, ChangeAction.REMOVE, ME), 3)
        await trio.sleep(0.5)
        replica.step_down(B)  # TIMEOUT_NOW reached B, which won

    assert await run_until_stopped(t, replica, remove_then_step_down) == pytest.approx(start + 1.7)


async def test_a_removed_leader_that_never_steps_down_stops_anyway(autojump_clock: trio.testing.MockClock) -> None:
    t, _, _ = tracker()
    members = membership()
    start = trio.current_time()

    async def remove() -> None:
        t.changed(members, change(members, ChangeAction.REMOVE, ME), 3)

    # two election timeouts for the hand-over, then two heartbeats for the last answers
    assert await run_until_stopped(t, Replica(is_leader=True, leader_id=ME), remove) == pytest.approx(start + 2.2)


# --- asking the peers ---------------------------------------------------------------------------

class Peers:
    """A stand-in for join.removed_by_peers: what it was asked, and when."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers
        self.asked: list[tuple[float, list[str], int, int]] = []

    async def __call__(self, peer_urls: list[str], member_id: int, cluster_id: int, log: Any,
                       tls: Any = None) -> bool:
        self.asked.append((trio.current_time(), list(peer_urls), member_id, cluster_id))
        return self.answers.pop(0)


async def test_without_a_leader_it_asks_its_peers_until_one_says_removed(
        monkeypatch: pytest.MonkeyPatch, autojump_clock: trio.testing.MockClock) -> None:
    peers = Peers([False, True])
    monkeypatch.setattr(tracker_module, "removed_by_peers", peers)
    t, _, log = tracker()
    t.changed(membership(), (), 0)
    start = trio.current_time()
    with trio.fail_after(100):
        await t.ask_if_removed(Replica(leader_id=0), 10)
    assert t.removed.is_set()
    urls = ["http://10.0.0.2:2380", "http://10.0.0.3:2381"]  # everyone else's first peer URL
    assert peers.asked == [(start + 10, urls, ME, CLUSTER), (start + 20, urls, ME, CLUSTER)]
    assert ("warning", "member_removed", {"member": "a1", "reason": "the cluster says it removed this member"}) \
        in log.lines


async def test_with_a_leader_it_asks_no_one(monkeypatch: pytest.MonkeyPatch,
                                            autojump_clock: trio.testing.MockClock) -> None:
    peers = Peers([True])
    monkeypatch.setattr(tracker_module, "removed_by_peers", peers)
    t, _, _ = tracker()
    t.changed(membership(), (), 0)
    replica = Replica(leader_id=B)
    with trio.move_on_after(35):
        await t.ask_if_removed(replica, 10)
    assert peers.asked == [] and not t.removed.is_set()
    replica.leader_id = 0  # the leader is gone: the next look asks
    start = trio.current_time()
    await t.ask_if_removed(replica, 10)
    assert [when for when, *_ in peers.asked] == [start + 10]


async def test_it_stops_asking_once_it_applied_its_removal(monkeypatch: pytest.MonkeyPatch,
                                                           autojump_clock: trio.testing.MockClock) -> None:
    peers = Peers([])
    monkeypatch.setattr(tracker_module, "removed_by_peers", peers)
    t, _, _ = tracker()
    members = membership()
    t.changed(members, change(members, ChangeAction.REMOVE, ME), 5)
    with trio.fail_after(1):
        await t.ask_if_removed(Replica(), 10)
    assert peers.asked == []
