"""The v2 store's writes, reads and errors, checked as exact bytes (v2-spec §1, §3).

Expected bodies were taken from a real etcd 3.4.23 (indexes shifted: a fresh etcd starts
at 3 or 4, this store at 0).
"""

from __future__ import annotations

import pytest

from trionode.store import Store
from trionode.store.commands import Command, Op
from trionode.v2.errors import V2Error

NOW = 1_800_000_000 * 10**9  # 2027-01-15T08:00:00Z


def run(store: Store, op: Op, key: str, **kw) -> bytes:
    (event,) = store.apply(Command(op, key, **kw))
    return event.render(NOW)


def error(store: Store, op: Op, key: str, **kw) -> V2Error:
    with pytest.raises(V2Error) as info:
        store.apply(Command(op, key, **kw))
    return info.value


def get(store: Store, key: str, recursive: bool = False, sorted: bool = False) -> bytes:
    return store.get(key, recursive, sorted, NOW)


@pytest.fixture
def s() -> Store:
    return Store()


# -- set ------------------------------------------------------------------------


def test_set_new_file(s):
    assert run(s, Op.SET, "/message", value="Hello etcd") == (
        b'{"action":"set","node":{"key":"/message","value":"Hello etcd","modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert s.index == 1
    assert get(s, "/message") == (
        b'{"action":"get","node":{"key":"/message","value":"Hello etcd","modifiedIndex":1,"createdIndex":1}}\n'
    )


def test_set_empty_value_still_prints_value(s):
    assert run(s, Op.SET, "/e") == b'{"action":"set","node":{"key":"/e","value":"","modifiedIndex":1,"createdIndex":1}}\n'


def test_set_replaces_node_new_created_index_and_drops_ttl(s):
    run(s, Op.SET, "/k", value="one", expiration=NOW + 50 * 10**9)
    assert run(s, Op.SET, "/k", value="two") == (
        b'{"action":"set","node":{"key":"/k","value":"two","modifiedIndex":2,"createdIndex":2},'
        b'"prevNode":{"key":"/k","value":"one","expiration":"2027-01-15T08:00:50Z","ttl":50,'
        b'"modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert get(s, "/k") == b'{"action":"get","node":{"key":"/k","value":"two","modifiedIndex":2,"createdIndex":2}}\n'
    assert s.next_expiration is None


def test_set_dir_and_set_over_existing_dir_is_102(s):
    assert run(s, Op.SET, "/d", dir=True, value="ignored") == (
        b'{"action":"set","node":{"key":"/d","dir":true,"modifiedIndex":1,"createdIndex":1}}\n'
    )
    err = error(s, Op.SET, "/d", dir=True)
    assert (err.code, err.cause, err.index) == (102, "/d", 1)
    err = error(s, Op.SET, "/d", value="x")
    assert (err.code, err.cause) == (102, "/d")
    assert s.index == 1


def test_set_dir_replaces_a_file(s):
    run(s, Op.SET, "/d", value="1")
    assert run(s, Op.SET, "/d", dir=True) == (
        b'{"action":"set","node":{"key":"/d","dir":true,"modifiedIndex":2,"createdIndex":2},'
        b'"prevNode":{"key":"/d","value":"1","modifiedIndex":1,"createdIndex":1}}\n'
    )


def test_implicit_parents_take_the_index_of_the_write_and_keep_it(s):
    run(s, Op.SET, "/a/b/c", value="1")
    run(s, Op.SET, "/a/b/d", value="2")
    run(s, Op.DELETE, "/a/b/c")
    assert get(s, "/a") == (
        b'{"action":"get","node":{"key":"/a","dir":true,"nodes":['
        b'{"key":"/a/b","dir":true,"modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1}}\n'
    )


def test_deleting_last_child_leaves_empty_dir(s):
    run(s, Op.SET, "/a/b", value="1")
    run(s, Op.DELETE, "/a/b")
    assert get(s, "/a") == b'{"action":"get","node":{"key":"/a","dir":true,"modifiedIndex":1,"createdIndex":1}}\n'


def test_write_through_a_file_is_104_with_the_file_path(s):
    run(s, Op.SET, "/f", value="1")
    for op, key in [(Op.SET, "/f/a"), (Op.SET, "/f/a/b"), (Op.CREATE, "/f/x"), (Op.UPDATE, "/f/x")]:
        err = error(s, op, key, value="v")
        assert (err.code, err.cause, err.index) == (104, "/f", 1)
    err = error(s, Op.CREATE, "/f", unique=True)
    assert (err.code, err.cause) == (104, "/f")
    with pytest.raises(V2Error) as info:
        get(s, "/f/a/b")
    assert (info.value.code, info.value.cause) == (104, "/f")
    assert s.index == 1


def test_root_is_read_only(s):
    for op in (Op.SET, Op.CREATE, Op.UPDATE, Op.CAS, Op.DELETE):
        err = error(s, op, "/", value="1", prev_value="a", dir=op is Op.DELETE)
        assert err.to_json() == b'{"errorCode":107,"message":"Root is read only","cause":"/","index":0}\n'


def test_compare_and_delete_on_root_is_102_without_cause(s):
    err = error(s, Op.CAD, "/", prev_value="x")
    assert err.to_json() == b'{"errorCode":102,"message":"Not a file","index":0}\n'


# -- create -----------------------------------------------------------------------


def test_create_and_create_existing(s):
    assert run(s, Op.CREATE, "/c", value="v") == (
        b'{"action":"create","node":{"key":"/c","value":"v","modifiedIndex":1,"createdIndex":1}}\n'
    )
    err = error(s, Op.CREATE, "/c", value="w", dir=True)
    assert err.to_json() == b'{"errorCode":105,"message":"Key already exists","cause":"/c","index":1}\n'
    assert run(s, Op.CREATE, "/cd", dir=True) == (
        b'{"action":"create","node":{"key":"/cd","dir":true,"modifiedIndex":2,"createdIndex":2}}\n'
    )


def test_in_order_create_names_children_by_index(s):
    run(s, Op.SET, "/x", value="1")
    assert run(s, Op.CREATE, "/queue", value="job", unique=True) == (
        b'{"action":"create","node":{"key":"/queue/00000000000000000002","value":"job",'
        b'"modifiedIndex":2,"createdIndex":2}}\n'
    )
    assert get(s, "/queue") == (
        b'{"action":"get","node":{"key":"/queue","dir":true,"nodes":[{"key":"/queue/00000000000000000002",'
        b'"value":"job","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":2,"createdIndex":2}}\n'
    )
    assert run(s, Op.CREATE, "/queue", dir=True, unique=True) == (
        b'{"action":"create","node":{"key":"/queue/00000000000000000003","dir":true,'
        b'"modifiedIndex":3,"createdIndex":3}}\n'
    )
    assert run(s, Op.CREATE, "/", value="r", unique=True) == (
        b'{"action":"create","node":{"key":"/00000000000000000004","value":"r","modifiedIndex":4,"createdIndex":4}}\n'
    )


# -- update -----------------------------------------------------------------------


def test_update_keeps_created_index_and_clears_ttl_when_absent(s):
    run(s, Op.SET, "/u", value="a", expiration=NOW + 10 * 10**9)
    assert run(s, Op.UPDATE, "/u", value="b") == (
        b'{"action":"update","node":{"key":"/u","value":"b","modifiedIndex":2,"createdIndex":1},'
        b'"prevNode":{"key":"/u","value":"a","expiration":"2027-01-15T08:00:10Z","ttl":10,'
        b'"modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert s.next_expiration is None
    assert run(s, Op.UPDATE, "/u", expiration=NOW + 5 * 10**9) == (
        b'{"action":"update","node":{"key":"/u","value":"","expiration":"2027-01-15T08:00:05Z","ttl":5,'
        b'"modifiedIndex":3,"createdIndex":1},"prevNode":{"key":"/u","value":"b","modifiedIndex":2,"createdIndex":1}}\n'
    )
    assert s.next_expiration == NOW + 5 * 10**9


def test_update_missing_is_100_with_first_missing_prefix(s):
    run(s, Op.SET, "/t/x", value="1")
    err = error(s, Op.UPDATE, "/t/nokey/deeper", value="x")
    assert err.to_json() == b'{"errorCode":100,"message":"Key not found","cause":"/t/nokey","index":1}\n'
    err = error(s, Op.UPDATE, "/gone/a", value="x")
    assert err.cause == "/gone"


def test_update_on_dir_changes_only_ttl_and_keeps_stored_modified_index(s):
    run(s, Op.SET, "/d/x", value="1")
    assert run(s, Op.UPDATE, "/d", expiration=NOW + 100 * 10**9) == (
        b'{"action":"update","node":{"key":"/d","dir":true,"expiration":"2027-01-15T08:01:40Z","ttl":100,'
        b'"modifiedIndex":2,"createdIndex":1},"prevNode":{"key":"/d","dir":true,"modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert get(s, "/d") == (
        b'{"action":"get","node":{"key":"/d","dir":true,"expiration":"2027-01-15T08:01:40Z","ttl":100,'
        b'"nodes":[{"key":"/d/x","value":"1","modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1}}\n'
    )
    err = error(s, Op.UPDATE, "/d", value="v")
    assert (err.code, err.cause, err.index) == (102, "/d", 2)
    assert run(s, Op.UPDATE, "/d", dir=True) == (
        b'{"action":"update","node":{"key":"/d","dir":true,"modifiedIndex":3,"createdIndex":1},'
        b'"prevNode":{"key":"/d","dir":true,"expiration":"2027-01-15T08:01:40Z","ttl":100,'
        b'"modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert s.next_expiration is None


def test_update_with_dir_flag_on_file_blanks_value_gh518(s):
    run(s, Op.SET, "/f", value="hello")
    assert run(s, Op.UPDATE, "/f", dir=True) == (
        b'{"action":"update","node":{"key":"/f","value":"","modifiedIndex":2,"createdIndex":1},'
        b'"prevNode":{"key":"/f","value":"hello","modifiedIndex":1,"createdIndex":1}}\n'
    )
    # verified on etcd 3.4: with a value, dir=true changes nothing
    assert b'"value":"zz"' in run(s, Op.UPDATE, "/f", dir=True, value="zz")


# -- compareAndSwap ---------------------------------------------------------------


def test_cas_success_and_causes(s):
    run(s, Op.SET, "/g", value="one")
    for _ in range(21):
        run(s, Op.SET, "/pad", value="x")
    run(s, Op.UPDATE, "/g", value="one")  # modifiedIndex 23
    cases = [
        (dict(prev_value="two"), "[two != one]"),
        (dict(prev_index=1), "[1 != 23]"),
        (dict(prev_value="two", prev_index=1), "[two != one] [1 != 23]"),
        (dict(prev_value="one", prev_index=1), "[1 != 23]"),
        (dict(prev_value="two", prev_index=23), "[two != one]"),
    ]
    for kw, cause in cases:
        err = error(s, Op.CAS, "/g", value="x", **kw)
        assert (err.code, err.status, err.cause, err.index) == (101, 412, cause, 23)
    assert run(s, Op.CAS, "/g", value="three", prev_value="one", prev_index=23) == (
        b'{"action":"compareAndSwap","node":{"key":"/g","value":"three","modifiedIndex":24,"createdIndex":1},'
        b'"prevNode":{"key":"/g","value":"one","modifiedIndex":23,"createdIndex":1}}\n'
    )


def test_cas_empty_current_value_prints_empty(s):
    run(s, Op.SET, "/e")
    assert error(s, Op.CAS, "/e", value="x", prev_value="four").cause == "[four != ]"


def test_cas_missing_and_dir(s):
    assert error(s, Op.CAS, "/m", prev_value="a").code == 100
    run(s, Op.SET, "/d", dir=True)
    err = error(s, Op.CAS, "/d", prev_value="a")
    assert (err.code, err.cause) == (102, "/d")


def test_cas_ttl_absent_clears(s):
    run(s, Op.SET, "/k", value="a", expiration=NOW + 9 * 10**9)
    body = run(s, Op.CAS, "/k", value="b", prev_value="a")
    assert body.startswith(b'{"action":"compareAndSwap","node":{"key":"/k","value":"b","modifiedIndex":2,')
    assert s.next_expiration is None


# -- delete / compareAndDelete -----------------------------------------------------


def test_delete_file(s):
    run(s, Op.SET, "/f", value="v")
    assert run(s, Op.DELETE, "/f") == (
        b'{"action":"delete","node":{"key":"/f","modifiedIndex":2,"createdIndex":1},'
        b'"prevNode":{"key":"/f","value":"v","modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert error(s, Op.DELETE, "/f").cause == "/f"


def test_delete_file_with_dir_flag_works(s):
    run(s, Op.SET, "/f", value="v")
    assert run(s, Op.DELETE, "/f", dir=True).startswith(b'{"action":"delete","node":{"key":"/f","modifiedIndex":2,')


def test_delete_dir_rules(s):
    run(s, Op.SET, "/d/x", value="1")
    run(s, Op.SET, "/e", dir=True)
    err = error(s, Op.DELETE, "/d")
    assert (err.code, err.status, err.cause) == (102, 403, "/d")
    err = error(s, Op.DELETE, "/d", dir=True)
    assert err.to_json() == b'{"errorCode":108,"message":"Directory not empty","cause":"/d","index":2}\n'
    assert run(s, Op.DELETE, "/e", dir=True) == (
        b'{"action":"delete","node":{"key":"/e","dir":true,"modifiedIndex":3,"createdIndex":2},'
        b'"prevNode":{"key":"/e","dir":true,"modifiedIndex":2,"createdIndex":2}}\n'
    )
    # recursive implies dir; prevNode is the dir without its children
    assert run(s, Op.DELETE, "/d", recursive=True) == (
        b'{"action":"delete","node":{"key":"/d","dir":true,"modifiedIndex":4,"createdIndex":1},'
        b'"prevNode":{"key":"/d","dir":true,"modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert get(s, "/") == b'{"action":"get","node":{"dir":true}}\n'


def test_compare_and_delete(s):
    run(s, Op.SET, "/g", value="one")
    err = error(s, Op.CAD, "/g", prev_value="two", prev_index=5)
    assert err.to_json() == (
        b'{"errorCode":101,"message":"Compare failed","cause":"[two != one] [5 != 1]","index":1}\n'
    )
    assert error(s, Op.CAD, "/nope", prev_index=1).code == 100
    run(s, Op.SET, "/d", dir=True)
    assert error(s, Op.CAD, "/d", prev_index=1).cause == "/d"
    assert run(s, Op.CAD, "/g", prev_value="one") == (
        b'{"action":"compareAndDelete","node":{"key":"/g","modifiedIndex":3,"createdIndex":1},'
        b'"prevNode":{"key":"/g","value":"one","modifiedIndex":1,"createdIndex":1}}\n'
    )


# -- get ------------------------------------------------------------------------


def test_get_missing_is_100(s):
    run(s, Op.SET, "/t/a", value="1")
    with pytest.raises(V2Error) as info:
        get(s, "/t/nokey")
    assert info.value.to_json() == b'{"errorCode":100,"message":"Key not found","cause":"/t/nokey","index":1}\n'


def test_root_listing_and_hidden_nodes(s):
    assert get(s, "/") == b'{"action":"get","node":{"dir":true}}\n'
    run(s, Op.SET, "/_hidden", value="h")
    run(s, Op.SET, "/dir/_h", value="h")
    assert get(s, "/", recursive=True) == (
        b'{"action":"get","node":{"dir":true,"nodes":[{"key":"/dir","dir":true,"modifiedIndex":2,"createdIndex":2}]}}\n'
    )
    assert get(s, "/_hidden") == (
        b'{"action":"get","node":{"key":"/_hidden","value":"h","modifiedIndex":1,"createdIndex":1}}\n'
    )
    run(s, Op.SET, "/_hd/vis", value="v")
    assert get(s, "/_hd") == (
        b'{"action":"get","node":{"key":"/_hd","dir":true,"nodes":[{"key":"/_hd/vis","value":"v",'
        b'"modifiedIndex":3,"createdIndex":3}],"modifiedIndex":3,"createdIndex":3}}\n'
    )


def test_get_non_recursive_shows_child_dirs_without_nodes_and_sorted_sorts_every_level(s):
    for key in ("/s/b/z", "/s/b/y", "/s/a", "/s/c/q", "/s/B"):
        run(s, Op.SET, key, value=key[-1])
    run(s, Op.SET, "/s/e", dir=True)
    assert get(s, "/s", sorted=True) == (
        b'{"action":"get","node":{"key":"/s","dir":true,"nodes":['
        b'{"key":"/s/B","value":"B","modifiedIndex":5,"createdIndex":5},'
        b'{"key":"/s/a","value":"a","modifiedIndex":3,"createdIndex":3},'
        b'{"key":"/s/b","dir":true,"modifiedIndex":1,"createdIndex":1},'
        b'{"key":"/s/c","dir":true,"modifiedIndex":4,"createdIndex":4},'
        b'{"key":"/s/e","dir":true,"modifiedIndex":6,"createdIndex":6}],"modifiedIndex":1,"createdIndex":1}}\n'
    )
    assert get(s, "/s/b", recursive=True, sorted=True) == (
        b'{"action":"get","node":{"key":"/s/b","dir":true,"nodes":['
        b'{"key":"/s/b/y","value":"y","modifiedIndex":2,"createdIndex":2},'
        b'{"key":"/s/b/z","value":"z","modifiedIndex":1,"createdIndex":1}],"modifiedIndex":1,"createdIndex":1}}\n'
    )
    full = get(s, "/", recursive=True, sorted=True)
    assert full.index(b'"/s/b/y"') < full.index(b'"/s/b/z"') < full.index(b'"/s/c/q"')
    assert b'{"key":"/s/e","dir":true,"modifiedIndex":6,"createdIndex":6}' in full


def test_sorting_is_bytewise_for_non_ascii(s):
    for name in ("\u00e9", "z", "\udcff", "a"):
        run(s, Op.SET, "/n/" + name, value="")
    body = get(s, "/n", sorted=True).decode("utf-8", "replace")
    keys = [part.split('"')[0] for part in body.split('"key":"/n/')[1:]]
    assert keys == ["a", "z", "\u00e9", "\\ufffd"]


def test_json_strings_are_go_escaped(s):
    run(s, Op.SET, "/<k>", value='a&b "q"\n\u2028')
    assert get(s, "/<k>") == (
        b'{"action":"get","node":{"key":"/\\u003ck\\u003e","value":"a\\u0026b \\"q\\"\\n\\u2028",'
        b'"modifiedIndex":1,"createdIndex":1}}\n'
    )


def test_deep_tree_renders_without_recursion_limit(s):
    key = "/d" * 3000
    run(s, Op.SET, key, value="deep")
    body = get(s, "/", recursive=True)
    assert body.count(b'"nodes":[') == 3000
    assert body.endswith(b"]}}\n")


# -- index and stats ------------------------------------------------------------------


def test_failed_writes_do_not_move_the_index_and_errors_carry_it(s):
    run(s, Op.SET, "/a", value="1")
    for op, kw in [(Op.CREATE, {}), (Op.UPDATE, {"value": "x"}), (Op.DELETE, {})]:
        key = "/a" if op is Op.CREATE else "/missing"
        assert error(s, op, key, **kw).index == 1
    assert s.index == 1
    assert s.apply(Command(Op.NOOP)) == []
    assert s.index == 1


def test_no_value_on_success_renders_action_only(s):
    (event,) = s.apply(Command(Op.SET, "/x", value="1"))
    assert event.render(NOW, no_value=True) == b'{"action":"set"}\n'
    assert (event.action, event.index, event.key) == ("set", 1, "/x")


def test_stats_counts_and_field_order(s):
    run(s, Op.SET, "/a", value="1")
    error(s, Op.SET, "/a/b")
    run(s, Op.CREATE, "/c")
    error(s, Op.CREATE, "/a/x")  # through a file: etcd also counts a failed set
    run(s, Op.UPDATE, "/a", value="2")
    error(s, Op.UPDATE, "/zz")
    run(s, Op.CAS, "/a", value="3", prev_value="2")
    error(s, Op.CAS, "/a", value="3", prev_value="2")
    run(s, Op.CAD, "/a", prev_value="3")
    error(s, Op.CAD, "/a", prev_value="3")
    run(s, Op.DELETE, "/c")
    error(s, Op.DELETE, "/c")
    get(s, "/")
    with pytest.raises(V2Error):
        get(s, "/c")
    s.watch("/w", False, False, 0, lambda: None)
    assert s.stats.to_json() == (
        b'{"getsSuccess":1,"getsFail":1,"setsSuccess":1,"setsFail":2,"deleteSuccess":1,"deleteFail":1,'
        b'"updateSuccess":1,"updateFail":1,"createSuccess":1,"createFail":1,"compareAndSwapSuccess":1,'
        b'"compareAndSwapFail":1,"compareAndDeleteSuccess":1,"compareAndDeleteFail":1,"expireCount":0,"watchers":1}'
    )


def test_empty_prev_value_and_zero_prev_index_are_no_condition(s):
    # etcd's Compare: "" and 0 mean "not given" (the HTTP layer rejects an empty prevValue)
    run(s, Op.SET, "/k", value="one")
    assert b'"action":"compareAndSwap"' in run(s, Op.CAS, "/k", value="two", prev_value="", prev_index=0)
    assert b'"action":"compareAndDelete"' in run(s, Op.CAD, "/k", prev_value="")
