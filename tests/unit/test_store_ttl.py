"""TTLs: expiration text, ttl arithmetic, SYNC sweeps, refresh (v2-spec §1.4.10, §1.5.6-7, §1.9)."""

from __future__ import annotations

import pytest

from trionode.gocompat.timefmt import rfc3339nano
from trionode.store import Store
from trionode.store.commands import Command, Op
from trionode.store.render import ttl_seconds
from trionode.v2.errors import V2Error

NS = 10**9
NOW = 1_800_000_000 * NS  # 2027-01-15T08:00:00Z


def apply(store: Store, op: Op, key: str = "/", **kw):
    return store.apply(Command(op, key, **kw))


@pytest.mark.parametrize(
    "ns, text",
    [
        (1_795_463_056_468_523_330, "2026-11-23T19:44:16.46852333Z"),
        (1_795_463_056_000_000_000, "2026-11-23T19:44:16Z"),
        (1_795_463_056_100_000_000, "2026-11-23T19:44:16.1Z"),
        (1_795_463_056_000_000_001, "2026-11-23T19:44:16.000000001Z"),
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400 * NS, "2000-02-29T00:00:00Z"),
    ],
)
def test_rfc3339nano(ns, text):
    assert rfc3339nano(ns) == text


@pytest.mark.parametrize(
    "left, ttl",
    [
        (100 * NS, 100),
        (99 * NS + 1, 100),
        (NS // 2, 1),
        (1, 1),
        (0, 0),
        (-NS // 3, 0),  # overdue by < 1 s: Go truncates to 0 (omitted)
        (-3 * NS // 2, -1),  # overdue by 1.5 s: -1, printed
        (-2 * NS, -2),
    ],
)
def test_ttl_is_go_ceil_then_truncation(left, ttl):
    assert ttl_seconds(NOW + left, NOW) == ttl


def test_ttl_zero_sets_expiration_now_and_prints_no_ttl():
    s = Store()
    (event,) = apply(s, Op.SET, "/z", value="a", expiration=NOW)
    assert event.render(NOW) == (
        b'{"action":"set","node":{"key":"/z","value":"a","expiration":"2027-01-15T08:00:00Z",'
        b'"modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert s.next_expiration == NOW
    # a GET long after the expiry time (no sweep yet) prints etcd's negative ttl
    assert b'"ttl":-2,' in s.get("/z", False, False, NOW + 2 * NS + 1)


def test_get_ttl_counts_down():
    s = Store()
    apply(s, Op.SET, "/k", value="v", expiration=NOW + 30 * NS)
    assert b'"ttl":30,' in s.get("/k", False, False, NOW)
    assert b'"ttl":21,' in s.get("/k", False, False, NOW + 9 * NS + 1)


def test_expirations_before_2000_mean_permanent_on_create():
    s = Store()
    apply(s, Op.SET, "/old", value="v", expiration=5)
    apply(s, Op.CREATE, "/old2", value="v", expiration=946_684_799 * NS)
    assert s.next_expiration is None
    assert b"expiration" not in s.get("/", True, False, NOW)


def test_sync_expires_in_order_of_expiration_then_key():
    s = Store()
    apply(s, Op.SET, "/b", value="1", expiration=NOW + 2 * NS)
    apply(s, Op.SET, "/a", value="1", expiration=NOW + 2 * NS)
    apply(s, Op.SET, "/c", value="1", expiration=NOW + 1 * NS)
    apply(s, Op.SET, "/later", value="1", expiration=NOW + 10 * NS)
    apply(s, Op.SET, "/perm", value="1")
    assert apply(s, Op.SYNC, cutoff=NOW) == []
    assert s.index == 5
    events = apply(s, Op.SYNC, cutoff=NOW + 2 * NS)
    assert [(e.action, e.key, e.index) for e in events] == [("expire", "/c", 6), ("expire", "/a", 7), ("expire", "/b", 8)]
    assert s.index == 8
    assert s.next_expiration == NOW + 10 * NS
    assert s.stats.as_dict()["expireCount"] == 3
    with pytest.raises(V2Error) as info:
        s.get("/a", False, False, NOW)
    assert (info.value.code, info.value.index) == (100, 8)


def test_expire_event_json():
    s = Store()
    apply(s, Op.SET, "/ex/f", value="v", expiration=NOW + 1 * NS + 451_199_684)
    (event,) = apply(s, Op.SYNC, cutoff=NOW + 2 * NS)
    # rendered much later: the ttl is the one at the sweep (0 -> absent), as in etcd
    assert event.render(NOW + 60 * NS) == (
        b'{"action":"expire","node":{"key":"/ex/f","modifiedIndex":2,"createdIndex":1},'
        b'"prevNode":{"key":"/ex/f","value":"v","expiration":"2027-01-15T08:00:01.451199684Z",'
        b'"modifiedIndex":1,"createdIndex":1}}\n'
    )


def test_dir_expiry_takes_its_subtree_in_one_write():
    s = Store()
    apply(s, Op.SET, "/exd", dir=True, expiration=NOW + NS)
    apply(s, Op.SET, "/exd/c", value="1")
    apply(s, Op.SET, "/exd/sub/t", value="1", expiration=NOW + NS // 2)
    apply(s, Op.SET, "/exd/sub/u", value="1", expiration=NOW + 5 * NS)
    events = apply(s, Op.SYNC, cutoff=NOW + NS)
    assert [(e.key, e.index) for e in events] == [("/exd/sub/t", 5), ("/exd", 6)]
    assert events[1].render(NOW) == (
        b'{"action":"expire","node":{"key":"/exd","dir":true,"modifiedIndex":6,"createdIndex":1},'
        b'"prevNode":{"key":"/exd","dir":true,"expiration":"2027-01-15T08:00:01Z","modifiedIndex":1,"createdIndex":1}}\n'
    )
    # the child with a later TTL went with its dir: nothing left to expire
    assert s.next_expiration is None
    assert apply(s, Op.SYNC, cutoff=NOW + 10 * NS) == []
    assert s.get("/", True, False, NOW) == b'{"action":"get","node":{"dir":true}}\n'


def test_replaced_and_deleted_nodes_do_not_expire():
    s = Store()
    apply(s, Op.SET, "/r", value="1", expiration=NOW + NS)
    apply(s, Op.SET, "/r", value="2")  # permanent now
    apply(s, Op.SET, "/d", value="1", expiration=NOW + NS)
    apply(s, Op.DELETE, "/d")
    apply(s, Op.SET, "/d", value="again", expiration=NOW + 3 * NS)  # same path, new node
    apply(s, Op.SET, "/u", value="1", expiration=NOW + NS)
    apply(s, Op.UPDATE, "/u", value="1", expiration=NOW + 4 * NS)  # later now
    assert s.next_expiration == NOW + 3 * NS
    assert apply(s, Op.SYNC, cutoff=NOW + 2 * NS) == []
    events = apply(s, Op.SYNC, cutoff=NOW + 4 * NS)
    assert [e.key for e in events] == ["/d", "/u"]


def test_heap_stays_bounded_under_ttl_churn():
    s = Store()
    for i in range(20_000):
        apply(s, Op.SET, "/churn", value=str(i), expiration=NOW + (i + 1) * NS)
    assert len(s._heap) <= 2100  # lazy deletion, compacted at 2x live (floor 1024)
    assert s.next_expiration == NOW + 20_000 * NS


def test_refresh_set_keeps_value_but_is_a_new_node():
    s = Store()
    apply(s, Op.SET, "/k", value="keep", expiration=NOW + 5 * NS)
    (event,) = apply(s, Op.SET, "/k", refresh=True, expiration=NOW + 50 * NS)
    assert event.refresh
    assert event.render(NOW) == (
        b'{"action":"set","node":{"key":"/k","value":"keep","expiration":"2027-01-15T08:00:50Z","ttl":50,'
        b'"modifiedIndex":2,"createdIndex":2},"prevNode":{"key":"/k","value":"keep",'
        b'"expiration":"2027-01-15T08:00:05Z","ttl":5,"modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert s.next_expiration == NOW + 50 * NS


def test_refresh_update_and_cas_keep_value():
    s = Store()
    apply(s, Op.SET, "/k", value="keep", expiration=NOW + 5 * NS)
    (event,) = apply(s, Op.UPDATE, "/k", refresh=True, expiration=NOW + 7 * NS)
    assert event.render(NOW).startswith(
        b'{"action":"update","node":{"key":"/k","value":"keep","expiration":"2027-01-15T08:00:07Z","ttl":7,'
        b'"modifiedIndex":2,"createdIndex":1}'
    )
    (event,) = apply(s, Op.CAS, "/k", refresh=True, prev_value="keep", expiration=NOW + 8 * NS)
    assert event.action == "compareAndSwap" and event.value == "keep" and event.refresh
    assert s.next_expiration == NOW + 8 * NS


def test_refresh_of_missing_key_is_100():
    s = Store()
    with pytest.raises(V2Error) as info:
        apply(s, Op.SET, "/missing", refresh=True, expiration=NOW)
    assert (info.value.code, info.value.cause) == (100, "/missing")
    assert s.index == 0
