"""The store against a plain dict model (Hypothesis stateful), plus snapshot round trips.

The model keeps every node (files and dirs) in a flat dict path -> Entry and re-derives
each rule from v2-spec §1 independently of the store's tree: errors and their causes,
the index, created/modified indexes, implicit parents, dir deletes, TTL sweeps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from trionode.store import SnapshotError, Store
from trionode.store.commands import Command, Op
from trionode.v2.errors import V2Error

NS = 10**9
NOW = 1_800_000_000 * NS
KEYS = ["/a", "/b", "/a/x", "/a/y", "/a/x/z", "/b/_h", "/_c"]
VALUES = st.sampled_from(["", "one", "two"])
PREV_INDEX = st.one_of(st.just(0), st.integers(1, 12))
EXPIRATIONS = st.sampled_from([None, None, NOW + NS, NOW + 2 * NS, NOW + 3 * NS])


@dataclass(frozen=True)
class Entry:
    dir: bool
    value: str
    created: int
    modified: int
    expiration: int | None


def parents(key: str) -> list[str]:
    parts = key[1:].split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]


class Model:
    def __init__(self) -> None:
        self.nodes: dict[str, Entry] = {}
        self.index = 0

    def lookup(self, key: str) -> Entry:
        for prefix in parents(key) + [key]:
            entry = self.nodes.get(prefix)
            if entry is None:
                raise V2Error(100, prefix, self.index)
            if not entry.dir and prefix != key:
                raise V2Error(104, prefix, self.index)
        return self.nodes[key]

    def children(self, key: str) -> list[str]:
        return [k for k in self.nodes if k.startswith(key + "/")]

    def make(self, key: str, dir: bool, value: str, exp: int | None, *, replace_ok: bool) -> None:
        for prefix in parents(key):
            entry = self.nodes.get(prefix)
            if entry is not None and not entry.dir:
                raise V2Error(104, prefix, self.index)
        old = self.nodes.get(key)
        if old is not None and not replace_ok:
            raise V2Error(105, key, self.index)
        if old is not None and old.dir:
            raise V2Error(102, key, self.index)
        self.index += 1
        for prefix in parents(key):
            self.nodes.setdefault(prefix, Entry(True, "", self.index, self.index, None))
        self.nodes[key] = Entry(dir, "" if dir else value, self.index, self.index, exp)

    def compare(self, entry: Entry, prev_value: str | None, prev_index: int) -> None:
        if (prev_value and prev_value != entry.value) or (prev_index and prev_index != entry.modified):
            raise V2Error(101, "", self.index)

    def remove(self, key: str) -> None:
        for k in self.children(key) + [key]:
            del self.nodes[k]
        self.index += 1

    def sync(self, cutoff: int) -> list[str]:
        due = sorted((e.expiration, k) for k, e in self.nodes.items() if e.expiration is not None)
        expired = []
        for exp, key in due:
            if exp <= cutoff and key in self.nodes and self.nodes[key].expiration == exp:
                self.remove(key)
                expired.append(key)
        return expired


class StoreVsModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store = Store(history_size=50)
        self.model = Model()

    def check(self, cmd: Command, expect) -> None:
        """Run cmd on the store; `expect()` runs it on the model (raising alike)."""
        before = self.store.index
        try:
            expected = expect()
        except V2Error as model_err:
            with pytest.raises(V2Error) as info:
                self.store.apply(cmd)
            assert info.value.code == model_err.code, cmd
            if model_err.cause:
                assert info.value.cause == model_err.cause
            assert info.value.index == before == self.store.index
            return
        events = self.store.apply(cmd)
        assert self.store.index == self.model.index == before + len(events)
        if expected is not None:
            assert [e.key for e in events] == expected

    @rule(key=st.sampled_from(KEYS), value=VALUES, dir=st.booleans(), exp=EXPIRATIONS)
    def set(self, key, value, dir, exp):
        def expect():
            try:
                self.model.lookup(key)
            except V2Error as err:
                if err.code != 100:
                    raise
            self.model.make(key, dir, value, exp, replace_ok=True)

        self.check(Command(Op.SET, key, value=value, dir=dir, expiration=exp), expect)

    @rule(key=st.sampled_from(KEYS), value=VALUES, dir=st.booleans(), exp=EXPIRATIONS)
    def create(self, key, value, dir, exp):
        self.check(
            Command(Op.CREATE, key, value=value, dir=dir, expiration=exp),
            lambda: self.model.make(key, dir, value, exp, replace_ok=False),
        )

    @rule(key=st.sampled_from(KEYS), value=VALUES, exp=EXPIRATIONS)
    def update(self, key, value, exp):
        def expect():
            entry = self.model.lookup(key)
            if entry.dir and value:
                raise V2Error(102, key, self.model.index)
            self.model.index += 1
            if entry.dir:
                self.model.nodes[key] = replace(entry, expiration=exp)
            else:
                self.model.nodes[key] = replace(entry, value=value, modified=self.model.index, expiration=exp)

        self.check(Command(Op.UPDATE, key, value=value, expiration=exp), expect)

    @rule(key=st.sampled_from(KEYS), value=VALUES, prev_value=VALUES, prev_index=PREV_INDEX, exp=EXPIRATIONS)
    def cas(self, key, value, prev_value, prev_index, exp):
        def expect():
            entry = self.model.lookup(key)
            if entry.dir:
                raise V2Error(102, key, self.model.index)
            self.model.compare(entry, prev_value, prev_index)
            self.model.index += 1
            self.model.nodes[key] = replace(entry, value=value, modified=self.model.index, expiration=exp)

        self.check(Command(Op.CAS, key, value=value, prev_value=prev_value, prev_index=prev_index, expiration=exp), expect)

    @rule(key=st.sampled_from(KEYS), dir=st.booleans(), recursive=st.booleans())
    def delete(self, key, dir, recursive):
        def expect():
            entry = self.model.lookup(key)
            if entry.dir:
                if not (dir or recursive):
                    raise V2Error(102, key, self.model.index)
                if self.model.children(key) and not recursive:
                    raise V2Error(108, key, self.model.index)
            self.model.remove(key)

        self.check(Command(Op.DELETE, key, dir=dir, recursive=recursive), expect)

    @rule(key=st.sampled_from(KEYS), prev_value=VALUES, prev_index=PREV_INDEX)
    def cad(self, key, prev_value, prev_index):
        def expect():
            entry = self.model.lookup(key)
            if entry.dir:
                raise V2Error(102, key, self.model.index)
            self.model.compare(entry, prev_value, prev_index)
            self.model.remove(key)

        self.check(Command(Op.CAD, key, prev_value=prev_value, prev_index=prev_index), expect)

    @rule(step=st.integers(0, 3))
    def sync(self, step):
        cutoff = NOW + step * NS
        self.check(Command(Op.SYNC, cutoff=cutoff), lambda: self.model.sync(cutoff))

    @invariant()
    def reads_match_model(self):
        for key in KEYS:
            try:
                entry = self.model.lookup(key)
            except V2Error as err:
                with pytest.raises(V2Error) as info:
                    self.store.get(key, False, False, NOW)
                assert (info.value.code, info.value.cause) == (err.code, err.cause)
                continue
            node = json.loads(self.store.get(key, False, False, NOW))["node"]
            assert node["key"] == key
            assert node.get("dir", False) == entry.dir
            assert node.get("value") == (None if entry.dir else entry.value)
            assert (node["createdIndex"], node["modifiedIndex"]) == (entry.created, entry.modified)
            assert ("expiration" in node) == (entry.expiration is not None)
            if entry.dir:
                shown = {c["key"] for c in node.get("nodes", [])}
                direct = {k for k in self.model.children(key) if k.count("/") == key.count("/") + 1}
                assert shown == {k for k in direct if not k.rsplit("/", 1)[1].startswith("_")}

    @invariant()
    def next_expiration_matches(self):
        exps = [e.expiration for e in self.model.nodes.values() if e.expiration is not None]
        assert self.store.next_expiration == (min(exps) if exps else None)

    @invariant()
    def snapshot_round_trips(self):
        copy = Store.load(self.store.dump())
        assert copy.index == self.store.index
        assert copy.get("/", True, False, NOW) == self.store.get("/", True, False, NOW)
        assert copy.next_expiration == self.store.next_expiration
        assert copy.dump() == self.store.dump()


StoreVsModel.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestStoreVsModel = StoreVsModel.TestCase


# -- snapshots ------------------------------------------------------------------------

NAMES = st.text(
    alphabet=st.characters(blacklist_characters="/", blacklist_categories=("Cs",)) | st.sampled_from(["\udcff", "_"]),
    min_size=1,
    max_size=6,
).filter(lambda n: n not in (".", ".."))


@given(st.lists(st.tuples(st.lists(NAMES, min_size=1, max_size=3), st.text(max_size=8), EXPIRATIONS), max_size=20))
@settings(max_examples=100, deadline=None)
def test_dump_load_round_trips_any_tree(items):
    s = Store()
    for names, value, exp in items:
        try:
            s.apply(Command(Op.SET, "/" + "/".join(names), value=value, expiration=exp))
        except V2Error:
            pass
    copy = Store.load(s.dump(), history_size=10)
    assert copy.dump() == s.dump()
    assert copy.index == s.index
    assert copy.get("/", True, False, NOW) == s.get("/", True, False, NOW)
    cutoff = NOW + 3 * NS
    assert [e.key for e in copy.apply(Command(Op.SYNC, cutoff=cutoff))] == [
        e.key for e in s.apply(Command(Op.SYNC, cutoff=cutoff))
    ]


def test_load_rejects_garbage():
    good = Store().dump()
    for bad in (b"", b"nope", good[:-1], good + b"\0", b"TNS1" + b"\xff" * 40):
        with pytest.raises(SnapshotError):
            Store.load(bad)


def test_loaded_store_keeps_writing_from_the_same_index():
    s = Store()
    s.apply(Command(Op.SET, "/a/b", value="1", expiration=NOW + NS))
    s.apply(Command(Op.SET, "/c", value="2"))
    copy = Store.load(s.dump())
    (event,) = copy.apply(Command(Op.SET, "/d", value="3"))
    assert event.index == 3
    assert [e.key for e in copy.apply(Command(Op.SYNC, cutoff=NOW + NS))] == ["/a/b"]
