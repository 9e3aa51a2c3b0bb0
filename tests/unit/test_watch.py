"""Watchers: who is woken by what, history replay, streams and their limit (v2-spec §2)."""

from __future__ import annotations

import pytest

from trionode.store import STREAM_LIMIT, Store, Watcher
from trionode.store.commands import Command, Op
from trionode.v2.errors import V2Error

NS = 10**9
NOW = 1_800_000_000 * NS


class Probe:
    """A wake callable that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def w(store: Store, key: str, recursive: bool = False, stream: bool = False, wait_index: int = 0) -> Watcher:
    watcher = store.watch(key, recursive, stream, wait_index, Probe())
    return watcher


def put(store: Store, key: str, value: str = "v", **kw) -> None:
    store.apply(Command(Op.SET, key, value=value, **kw))


def keys(watcher: Watcher) -> list[tuple[str, str]]:
    return [(e.action, e.key) for e in watcher.events]


def test_one_shot_gets_first_event_and_is_removed():
    s = Store()
    watcher = w(s, "/foo")
    assert s.stats.watchers == 1 and not watcher.events
    put(s, "/foo", "1")
    put(s, "/foo", "2")
    assert keys(watcher) == [("set", "/foo")]
    assert watcher.events[0].index == 1
    assert watcher.wake.calls == 1
    assert s.stats.watchers == 0
    assert watcher.events[0].render(NOW) == (
        b'{"action":"set","node":{"key":"/foo","value":"1","modifiedIndex":1,"createdIndex":1}}\n'
    )


def test_non_recursive_watch_on_dir_ignores_children_recursive_sees_them():
    s = Store()
    put(s, "/d/x")
    plain, deep = w(s, "/d"), w(s, "/d", recursive=True)
    put(s, "/d/x", "2")
    assert not plain.events and plain.wake.calls == 0
    assert keys(deep) == [("set", "/d/x")]
    s.apply(Command(Op.UPDATE, "/d", expiration=NOW))
    assert keys(plain) == [("update", "/d")]


def test_live_hidden_events_reach_only_watchers_at_or_below_the_hidden_segment():
    s = Store()
    root = w(s, "/", recursive=True, stream=True)
    top = w(s, "/x", recursive=True, stream=True)
    at_hidden = w(s, "/x/_h", recursive=True, stream=True)
    exact = w(s, "/x/_h/y", stream=True)
    put(s, "/x/_h/y")
    put(s, "/_top")
    put(s, "/x/v")
    assert keys(root) == [("set", "/x/v")]
    assert keys(top) == [("set", "/x/v")]
    assert keys(at_hidden) == [("set", "/x/_h/y")]
    assert keys(exact) == [("set", "/x/_h/y")]
    hidden_root = w(s, "/_top", recursive=True)
    put(s, "/_top", "again")
    assert keys(hidden_root) == [("set", "/_top")]


def test_root_recursive_watch_sees_everything_visible():
    s = Store()
    watcher = w(s, "/", recursive=True, stream=True)
    put(s, "/a")
    put(s, "/b/c/d")
    s.apply(Command(Op.DELETE, "/a"))
    assert keys(watcher) == [("set", "/a"), ("set", "/b/c/d"), ("delete", "/a")]


def test_dir_delete_wakes_watchers_of_removed_nodes_with_the_dir_event():
    s = Store()
    put(s, "/sd/a")
    put(s, "/sd/sub/b")
    child, grandchild = w(s, "/sd/a"), w(s, "/sd/sub/b", recursive=True)
    ghost = w(s, "/sd/never")  # no such node: etcd does not wake it
    sibling = w(s, "/sdx")
    s.apply(Command(Op.DELETE, "/sd", recursive=True))
    assert keys(child) == [("delete", "/sd")] and keys(grandchild) == [("delete", "/sd")]
    assert child.events[0].render(NOW) == (
        b'{"action":"delete","node":{"key":"/sd","dir":true,"modifiedIndex":3,"createdIndex":1},'
        b'"prevNode":{"key":"/sd","dir":true,"modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert not ghost.events and not sibling.events
    assert s.stats.watchers == 2


def test_dir_delete_notifies_by_registry_scan_when_the_subtree_is_large():
    s = Store()
    for i in range(50):
        put(s, f"/big/k{i}")
    watched = w(s, "/big/k7")
    s.apply(Command(Op.DELETE, "/big", recursive=True))
    assert keys(watched) == [("delete", "/big")]


def test_stream_watcher_at_deleted_key_sees_the_event_twice_like_etcd():
    s = Store()
    put(s, "/sw")
    put(s, "/sd/a")
    at_key = w(s, "/sw", stream=True)
    at_dir = w(s, "/sd", stream=True)
    at_dir_rec = w(s, "/sd", recursive=True, stream=True)
    at_child = w(s, "/sd/a", stream=True)
    s.apply(Command(Op.DELETE, "/sw"))
    s.apply(Command(Op.DELETE, "/sd", recursive=True))
    assert keys(at_key) == [("delete", "/sw")] * 2
    assert keys(at_dir) == [("delete", "/sd")] * 2
    assert keys(at_dir_rec) == [("delete", "/sd")] * 2
    assert keys(at_child) == [("delete", "/sd")]


def test_expire_and_cad_wake_watchers():
    s = Store()
    put(s, "/e/f", expiration=NOW + NS)
    put(s, "/c", "x")
    on_file, on_dir, on_c = w(s, "/e/f"), w(s, "/e", recursive=True), w(s, "/c")
    s.apply(Command(Op.SYNC, cutoff=NOW + NS))
    s.apply(Command(Op.CAD, "/c", prev_value="x"))
    assert keys(on_file) == [("expire", "/e/f")] and keys(on_dir) == [("expire", "/e/f")]
    assert keys(on_c) == [("compareAndDelete", "/c")]


def test_refresh_events_wake_nobody_and_are_skipped_in_replay():
    s = Store()
    put(s, "/r", expiration=NOW + NS)
    watcher = w(s, "/r", stream=True)
    s.apply(Command(Op.UPDATE, "/r", refresh=True, expiration=NOW + 9 * NS))
    s.apply(Command(Op.SET, "/r", refresh=True, expiration=NOW + 9 * NS))
    assert not watcher.events and watcher.wake.calls == 0
    put(s, "/r", "new")
    assert [e.index for e in watcher.events] == [4]
    replay = w(s, "/r", wait_index=2)
    assert [e.index for e in replay.events] == [4]


def test_wait_index_in_history_returns_at_once_without_registering():
    s = Store()
    put(s, "/hw/a")
    put(s, "/hw/_h")
    put(s, "/hw/a", "2")
    first = w(s, "/hw", recursive=True, wait_index=1)
    hidden = w(s, "/hw", recursive=True, stream=True, wait_index=2)  # replay: no hidden filter
    assert [e.index for e in first.events] == [1] and first.wake.calls == 1
    assert [e.key for e in hidden.events] == ["/hw/_h"]
    assert s.stats.watchers == 0
    put(s, "/hw/b")
    assert len(hidden.events) == 1  # etcd: a stream answered from history gets nothing more


def test_wait_index_beyond_current_waits_for_that_index():
    s = Store()
    put(s, "/k")
    later = w(s, "/k", wait_index=3)
    put(s, "/k", "2")
    assert not later.events
    put(s, "/k", "3")
    assert [e.index for e in later.events] == [3]


def test_wait_index_zero_means_next_event():
    s = Store()
    put(s, "/k")
    watcher = w(s, "/k", wait_index=0)
    assert watcher.since == 2 and not watcher.events


def test_history_too_old_is_401_and_history_is_bounded():
    s = Store(history_size=5)
    for i in range(8):
        put(s, f"/k{i}")
    with pytest.raises(V2Error) as info:
        w(s, "/", recursive=True, wait_index=3)
    assert info.value.to_json() == (
        b'{"errorCode":401,"message":"The event in requested index is outdated and cleared",'
        b'"cause":"the requested history has been cleared [4/3]","index":8}\n'
    )
    assert info.value.status == 400
    assert [e.index for e in w(s, "/", recursive=True, wait_index=4).events] == [4]
    assert [e.key for e in w(s, "/k7", wait_index=4).events] == ["/k7"]


def test_replay_matches_removed_dirs_by_raw_prefix_like_etcd():
    s = Store()
    put(s, "/foo/x")
    s.apply(Command(Op.DELETE, "/foo", recursive=True))
    assert [e.index for e in w(s, "/foo/x/deeper", wait_index=2).events] == [2]
    assert [e.index for e in w(s, "/foobar", wait_index=2).events] == [2]  # etcd quirk
    assert not w(s, "/fo", wait_index=2).events


def test_stream_limit_closes_and_drops_the_watcher():
    s = Store()
    watcher = w(s, "/k", stream=True)
    for i in range(STREAM_LIMIT):
        put(s, "/k", str(i))
    assert len(watcher.events) == STREAM_LIMIT and not watcher.closed
    put(s, "/k", "overflow")
    assert watcher.closed and len(watcher.events) == STREAM_LIMIT
    assert watcher.wake.calls == STREAM_LIMIT + 1
    assert s.stats.watchers == 0
    put(s, "/k", "more")
    assert watcher.wake.calls == STREAM_LIMIT + 1


def test_stream_that_keeps_up_is_never_closed():
    s = Store()
    watcher = w(s, "/k", stream=True)
    for i in range(3 * STREAM_LIMIT):
        put(s, "/k", str(i))
        watcher.events.popleft()
    assert not watcher.closed and s.stats.watchers == 1


def test_unwatch_is_idempotent():
    s = Store()
    a, b = w(s, "/k"), w(s, "/k")
    s.unwatch(a)
    s.unwatch(a)
    assert s.stats.watchers == 1
    put(s, "/k")
    assert not a.events and len(b.events) == 1
    s.unwatch(b)
    assert s.stats.watchers == 0


def test_a_wake_may_unwatch_a_watcher_not_yet_served():
    s = Store()
    later: list[Watcher] = []
    killer = s.watch("/k", False, False, 0, lambda: s.unwatch(later[0]))
    later.append(w(s, "/k"))
    put(s, "/k")
    assert len(killer.events) == 1 and not later[0].events
    assert s.stats.watchers == 0


def test_ten_thousand_watchers_one_event_wakes_exactly_the_right_ones():
    s = Store()
    for i in range(7, 10_000, 100):
        put(s, f"/app/svc7/inst{i}")
    watchers = [w(s, f"/app/svc{i % 100}/inst{i}", recursive=i % 2 == 0) for i in range(10_000)]
    above = [w(s, "/app", recursive=True, stream=True), w(s, "/", recursive=True, stream=True)]
    beside = [w(s, "/app"), w(s, "/app/svc42"), w(s, "/app/svc43", recursive=True), w(s, "/app/svc4", recursive=True)]
    assert s.stats.watchers == 10_006

    put(s, "/app/svc42/inst4242", "up")
    assert [i for i, x in enumerate(watchers) if x.wake.calls] == [4242]
    assert [x.wake.calls for x in above] == [1, 1]
    assert [x.wake.calls for x in beside] == [0, 0, 0, 0]
    assert s.stats.watchers == 10_005

    s.apply(Command(Op.DELETE, "/app/svc7", recursive=True))
    woken = [i for i, x in enumerate(watchers) if x.wake.calls]
    assert woken == sorted([4242, *range(7, 10_000, 100)])
    assert all(watchers[i].events[0].key == "/app/svc7" for i in range(7, 10_000, 100))
    assert [x.wake.calls for x in above] == [2, 2]
    assert [x.wake.calls for x in beside] == [0, 0, 0, 0]
    assert s.stats.watchers == 10_005 - 100
