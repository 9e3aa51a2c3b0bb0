"""The replicated state machine: payload framing, membership, snapshots, follower stats."""

from __future__ import annotations

import json

import pytest

from trionode.gocompat.jsontext import go_float
from trionode.membership.errors import MemberError
from trionode.membership.members import ChangeAction, Member, Membership, change_command, publish_command
from trionode.server.payload import RequestIds, pack, refused, unpack
from trionode.server.statemachine import StateMachine
from trionode.server.stats import FollowerStats
from trionode.store import Store
from trionode.store.commands import Command, CommandError, Op
from trionode.v2.errors import V2Error


def machine() -> StateMachine:
    members = [Member(1, "a", ("http://127.0.0.1:1",)), Member(2, "b", ("http://127.0.0.1:2",))]
    return StateMachine(Store(), Membership(7, members), 1000)


def test_payload_round_trip_and_garbage() -> None:
    command = Command(Op.CAS, "/k", "v", prev_value="old")
    assert unpack(pack(12345, command)) == (12345, command)
    with pytest.raises(CommandError):
        unpack(pack(1, command)[:-1])


def test_request_ids_are_unique_and_carry_the_member() -> None:
    ids = RequestIds(0xABCD1234, start=(1 << 48) - 2)  # wraps around without colliding
    seen = [ids.next() for _ in range(5)]
    assert len(set(seen)) == 5
    assert all(i >> 48 == 0x1234 for i in seen)


def test_apply_gives_events_or_the_error_with_the_request_id() -> None:
    sm = machine()
    request_id, events = sm.apply(pack(9, Command(Op.SET, "/a", "1")))
    assert request_id == 9 and events[0].action == "set" and sm.store.index == 1
    request_id, error = sm.apply(pack(10, Command(Op.CREATE, "/a", "2")))
    assert request_id == 10 and isinstance(error, V2Error) and error.code == 105
    assert sm.apply(b"") is None  # a new leader's empty entry


def test_publish_fills_in_client_urls_and_the_machines_key() -> None:
    sm = machine()
    sm.apply(pack(1, publish_command(2, "b", ["http://127.0.0.1:9"])))
    assert sm.membership.get(2) == Member(2, "b", ("http://127.0.0.1:2",), ("http://127.0.0.1:9",))
    # etcd 0.4's registry entry: form-encoded, keys sorted, both URLs escaped (v2-spec §5.1)
    assert sm.store.value_of("/_etcd/machines/b") == "etcd=http%3A%2F%2F127.0.0.1%3A9&raft=http%3A%2F%2F127.0.0.1%3A2"
    index = sm.store.index
    sm.apply(pack(2, publish_command(99, "ghost", ["http://x:1"])))  # unknown: ignored
    assert sm.membership.ids == (1, 2) and sm.store.index == index
    sm.apply(pack(3, publish_command(2, "b2", ["http://127.0.0.1:9"])))  # renamed: old key goes
    assert sm.store.value_of("/_etcd/machines/b") is None
    assert sm.store.value_of("/_etcd/machines/b2") is not None


def test_member_changes_are_checked_when_applied() -> None:
    sm = machine()
    add = change_command(ChangeAction.ADD, 3, ["http://127.0.0.1:3"], learner=True)
    assert sm.apply(pack(1, add)) == (1, [])
    assert sm.membership.get(3) == Member(3, "", ("http://127.0.0.1:3",), (), True)
    assert (sm.membership.voters, sm.membership.learners) == ((1, 2), (3,))
    assert [c.action for c in sm.take_changes()] == [ChangeAction.ADD]
    for command, status, text in [
        (add, 409, "membership: ID exists"),
        (change_command(ChangeAction.ADD, 4, ["http://127.0.0.1:3"]), 409, "membership: peerURL exists"),
        (change_command(ChangeAction.PROMOTE, 1), 409, "membership: member 1 is already a voting member"),
        (change_command(ChangeAction.DEMOTE, 3), 409, "membership: member 3 is already a standby"),
        (change_command(ChangeAction.REMOVE, 9), 404, "No such member: 9"),
    ]:
        _, error = sm.apply(pack(2, command))
        assert isinstance(error, MemberError) and (error.status, error.message) == (status, text)
    sm.apply(pack(3, change_command(ChangeAction.PROMOTE, 3)))
    assert sm.membership.voters == (1, 2, 3)
    sm.apply(pack(4, publish_command(2, "b", ["http://127.0.0.1:9"])))
    sm.apply(pack(5, change_command(ChangeAction.REMOVE, 2)))
    assert sm.membership.ids == (1, 3) and sm.store.value_of("/_etcd/machines/b") is None
    _, error = sm.apply(pack(6, change_command(ChangeAction.REMOVE, 2)))
    assert error.status == 410
    _, error = sm.apply(pack(7, change_command(ChangeAction.ADD, 2, ["http://127.0.0.1:22"])))
    assert error.message == "membership: ID removed"  # a removed id never comes back
    other = machine()
    other.load(sm.dump())
    assert other.membership.members == sm.membership.members and other.membership.removed == {2}


def test_a_refused_change_fails_its_request_and_changes_nothing() -> None:
    sm = machine()
    index = sm.store.index
    request_id, error = sm.apply(refused(pack(42, change_command(ChangeAction.ADD, 3, ["http://127.0.0.1:3"]))))
    assert request_id == 42 and isinstance(error, MemberError) and error.status == 500
    assert "try again" in error.message
    assert sm.membership.ids == (1, 2) and sm.store.index == index and not sm.take_changes()


def test_snapshot_round_trip_and_watchers_closed() -> None:
    sm = machine()
    sm.apply(pack(1, Command(Op.SET, "/dir/k", "v")))
    sm.apply(pack(2, publish_command(1, "a", ["http://c:1"])))
    woken = []
    watcher = sm.store.watch("/dir/k", False, False, 0, lambda: woken.append(1))
    other = machine()
    other.load(sm.dump())
    assert other.store.get("/dir/k", False, False, 0) == sm.store.get("/dir/k", False, False, 0)
    assert other.membership.members == sm.membership.members
    sm.load(other.dump())
    assert watcher.closed and woken == [1]


def test_follower_stats_json() -> None:
    stats = FollowerStats()
    assert json.loads(stats.to_json()) == {
        "latency": {"current": 0, "average": 0, "standardDeviation": 0, "minimum": 0, "maximum": 0},
        "counts": {"fail": 0, "success": 0}}
    stats.succeeded(1.5)
    stats.succeeded(0.5)
    stats.failed()
    data = json.loads(stats.to_json())
    assert data["latency"] == {"current": 0.5, "average": 1, "standardDeviation": 0.5,
                               "minimum": 0.5, "maximum": 1.5}
    assert data["counts"] == {"fail": 1, "success": 2}
    assert go_float(2.0) == "2" and go_float(1.25) == "1.25"


def test_request_rate_like_etcd() -> None:
    from trionode.server.stats import RequestRate

    rate = RequestRate(capacity=3)
    assert rate.rates(0.0) == (0.0, 0.0)
    for t in (0.0, 0.5, 1.0, 1.5):  # the oldest falls out: 3 requests over 1 s
        rate.record(t, 100)
    assert rate.rates(1.6) == (3.0, 300.0)
    assert rate.rates(2.6) == (0.0, 0.0)  # nothing for over a second
