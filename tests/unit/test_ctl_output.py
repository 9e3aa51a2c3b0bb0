"""trionodectl's printing, byte for byte (expected texts as etcdctl 3.4.23 printed them)."""

from __future__ import annotations

from trionode.client import Node, Response
from trionode.ctl.output import json_node, json_response, ls_text, response_text


def file(key, value, created=5, modified=None, **kw):
    return Node(key, value, created_index=created, modified_index=modified or created, **kw)


def directory(key, nodes=None, created=7, **kw):
    return Node(key, None, dir=True, nodes=nodes, created_index=created,
                modified_index=kw.pop("modified", created), **kw)


def resp(action, node, prev=None, index=6, raft_index=9, raft_term=2):
    return Response(action, node, prev, index, raft_index, raft_term)


SET = resp("set", file("/a", "world", 6), file("/a", "hello", 5))


def test_simple_prints_the_value():
    assert response_text(SET, "simple").out == "world\n"
    assert response_text(resp("get", file("/a", "")), "simple").out == "\n"
    assert response_text(resp("get", file("/a", "x\ny\n")), "simple").out == "x\ny\n\n"


def test_simple_delete_prints_the_previous_value():
    deleted = resp("delete", file("/a", None, 6, 9), file("/a", "old", 6))
    assert response_text(deleted, "simple").out == "PrevNode.Value: old\n"
    # compareAndDelete is not "delete": etcdctl prints the (empty) node value
    cad = resp("compareAndDelete", file("/a", None, 6, 9), file("/a", "old", 6))
    assert response_text(cad, "simple").out == "\n"
    expired = resp("expire", file("/a", None, 6, 9), file("/a", "old", 6))
    assert response_text(expired, "simple").out == "\n"


def test_extended_with_the_documented_superset():
    assert response_text(SET, "extended").out == (
        "Key: /a\nCreated-Index: 6\nModified-Index: 6\nPrevNode.Value: hello\nTTL: 0\n"
        "Index: 6\nEtcd-Index: 6\nRaft-Index: 9\nRaft-Term: 2\n\nworld\n")


def test_extended_without_raft_headers_ttl_and_delete():
    node = file("/t", "v", 12, ttl=100, expiration="2026-11-25T11:43:22.511493133Z")
    got = response_text(resp("set", node, index=12, raft_index=None, raft_term=None),
                        "extended").out
    assert got == ("Key: /t\nCreated-Index: 12\nModified-Index: 12\nTTL: 100\nIndex: 12\n"
                   "Etcd-Index: 12\n\nv\n")
    deleted = resp("delete", file("/a", None, 6, 14), file("/a", "x", 6), index=14,
                   raft_index=None, raft_term=None)
    assert response_text(deleted, "extended").out == (
        "Key: /a\nCreated-Index: 6\nModified-Index: 14\nPrevNode.Value: x\nTTL: 0\n"
        "Index: 14\nEtcd-Index: 14\n")


def test_extended_root_and_dir():
    root = resp("get", Node(None, None, dir=True, nodes=()), index=10, raft_index=None,
                raft_term=None)
    assert response_text(root, "extended").out == (
        "Key: \nCreated-Index: 0\nModified-Index: 0\nTTL: 0\nIndex: 10\nEtcd-Index: 10\n\n\n")
    # a directory's previous node has no value: etcdctl prints an empty one
    updated = resp("update", directory("/md3", modified=35, created=34),
                   directory("/md3", created=34), index=35, raft_index=None, raft_term=None)
    assert response_text(updated, "extended").out == (
        "Key: /md3\nCreated-Index: 34\nModified-Index: 35\nPrevNode.Value: \nTTL: 0\n"
        "Index: 35\nEtcd-Index: 35\n\n\n")


def test_json_file_with_prev_node():
    assert response_text(SET, "json").out == (
        '{"action":"set","node":{"key":"/a","value":"world","nodes":null,"createdIndex":6,'
        '"modifiedIndex":6},"prevNode":{"key":"/a","value":"hello","nodes":null,'
        '"createdIndex":5,"modifiedIndex":5}}\n')


def test_json_ttl_expiration_and_null_prev_node():
    node = file("/t", "v", 11, ttl=100, expiration="2026-11-25T11:43:22.511493133Z")
    assert json_response(resp("set", node)) == (
        '{"action":"set","node":{"key":"/t","value":"v","nodes":null,"createdIndex":11,'
        '"modifiedIndex":11,"expiration":"2026-11-25T11:43:22.511493133Z","ttl":100},'
        '"prevNode":null}')


def test_json_dirs_and_root():
    listing = directory("/d", (file("/d/x", "1", 8), directory("/d/sub", created=9)))
    assert json_node(listing) == (
        '{"key":"/d","dir":true,"value":"","nodes":[{"key":"/d/x","value":"1","nodes":null,'
        '"createdIndex":8,"modifiedIndex":8},{"key":"/d/sub","dir":true,"value":"",'
        '"nodes":null,"createdIndex":9,"modifiedIndex":9}],"createdIndex":7,'
        '"modifiedIndex":7}')
    assert json_node(Node(None, None, dir=True, nodes=())) == (
        '{"key":"","dir":true,"value":"","nodes":[],"createdIndex":0,"modifiedIndex":0}')


def test_json_escapes_as_go():
    node = file("/sp ace/ü\"q'", "va\"l ü <&> \t tab \u2028 \\ end\x01", 3)
    assert json_node(node) == (
        '{"key":"/sp ace/ü\\"q\'","value":"va\\"l ü \\u003c\\u0026\\u003e \\t tab \\u2028 '
        '\\\\ end\\u0001","nodes":null,"createdIndex":3,"modifiedIndex":3}')


def test_unknown_format_goes_to_stderr():
    printed = response_text(SET, "yaml")
    assert printed.out == "" and printed.err == "Unsupported output format: yaml\n"


def test_ls_lists_children_depth_first():
    tree = directory("/d", (file("/d/x", "1"),
                            directory("/d/sub", (file("/d/sub/y", "2"),)),
                            directory("/d/e", ())))
    listing = resp("get", tree)
    assert ls_text(listing, slash=False) == "/d/x\n/d/sub\n/d/sub/y\n/d/e\n"
    assert ls_text(listing, slash=True) == "/d/x\n/d/sub/\n/d/sub/y\n/d/e/\n"
    assert ls_text(resp("get", file("/a", "v")), slash=True) == "/a\n"
    assert ls_text(resp("get", Node(None, None, dir=True)), slash=False) == ""
