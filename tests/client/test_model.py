"""JSON -> model, and the error types and their texts."""

from __future__ import annotations

import json

import pytest

from trionode.client import (
    ClusterError,
    DirNotEmpty,
    EndpointError,
    EtcdError,
    EventIndexCleared,
    HTTPStatusError,
    KeyNotFound,
    Node,
    NodeExists,
    NoEndpointsError,
    NotADir,
    NotAFile,
    RootReadOnly,
    TestFailed,
)
from trionode.client.model import parse_error, parse_keys_reply, parse_members

HEADERS = {"x-etcd-index": "12", "x-raft-index": "40", "x-raft-term": "3"}


def reply(doc, headers=HEADERS, status=200):
    return parse_keys_reply(status, headers, json.dumps(doc).encode() + b"\n")


def test_value_absent_and_empty_stay_apart():
    r = reply({"action": "get", "node": {"key": "/d", "dir": True, "modifiedIndex": 4,
                                         "createdIndex": 4}})
    assert r.node == Node("/d", None, dir=True, created_index=4, modified_index=4)
    r = reply({"action": "set", "node": {"key": "/f", "value": "", "modifiedIndex": 5,
                                         "createdIndex": 5}})
    assert r.node.value == "" and not r.node.dir


def test_nodes_absent_and_empty_stay_apart():
    assert reply({"action": "get", "node": {"key": "/d", "dir": True}}).node.nodes is None
    assert reply({"action": "get", "node": {"key": "/d", "dir": True, "nodes": []}}
                 ).node.nodes == ()


def test_root_listing_and_nested_nodes():
    doc = {"action": "get", "node": {"dir": True, "nodes": [
        {"key": "/a", "dir": True, "nodes": [
            {"key": "/a/b", "value": "1", "expiration": "2026-11-23T19:44:16.46852333Z",
             "ttl": 7, "modifiedIndex": 9, "createdIndex": 8}],
         "modifiedIndex": 3, "createdIndex": 3}]}}
    r = reply(doc)
    assert r.node.key is None and r.node.dir
    child = r.node.nodes[0].nodes[0]
    assert child == Node("/a/b", "1", created_index=8, modified_index=9,
                         expiration="2026-11-23T19:44:16.46852333Z", ttl=7)


def test_headers_and_prev_node():
    r = reply({"action": "update", "node": {"key": "/k", "value": "2"},
               "prevNode": {"key": "/k", "value": "1"}})
    assert (r.action, r.etcd_index, r.raft_index, r.raft_term) == ("update", 12, 40, 3)
    assert r.prev_node.value == "1"
    bare = reply({"action": "set", "node": {"key": "/k", "value": ""}}, headers={})
    assert (bare.etcd_index, bare.raft_index, bare.raft_term, bare.prev_node) == \
        (0, None, None, None)


def test_no_value_on_success_reply_has_no_node():
    assert reply({"action": "set"}).node is None


@pytest.mark.parametrize("code, cls", [
    (100, KeyNotFound), (101, TestFailed), (102, NotAFile), (104, NotADir),
    (105, NodeExists), (107, RootReadOnly), (108, DirNotEmpty), (401, EventIndexCleared),
    (209, EtcdError),
])
def test_error_types_by_code(code, cls):
    body = json.dumps({"errorCode": code, "message": "m", "cause": "c", "index": 6})
    err = parse_error(400, body.encode())
    assert type(err) is cls and isinstance(err, EtcdError)
    assert (err.code, err.message, err.cause, err.index, err.status) == (code, "m", "c", 6, 400)


def test_error_text_is_the_go_clients():
    body = b'{"errorCode":100,"message":"Key not found","cause":"/foo","index":3}\n'
    with pytest.raises(KeyNotFound) as info:
        parse_keys_reply(404, {}, body)
    assert str(info.value) == "100: Key not found (/foo) [3]"
    no_cause = parse_error(403, b'{"errorCode":102,"message":"Not a file","index":9}')
    assert str(no_cause) == "102: Not a file () [9]"


def test_non_json_replies_get_the_go_clients_texts():
    with pytest.raises(HTTPStatusError) as info:
        parse_keys_reply(404, {}, b"404 page not found\n")
    assert str(info.value) == ("client: response is invalid json. The endpoint is "
                               "probably not valid etcd cluster endpoint")
    assert info.value.status == 404
    with pytest.raises(HTTPStatusError) as info:
        parse_keys_reply(200, {}, b"")
    assert str(info.value) == "client: response body is empty"
    with pytest.raises(HTTPStatusError):
        parse_keys_reply(200, {}, b'{"action": "get", "node": {"modifiedIndex": "x"}}')


def test_cluster_error_text_and_detail():
    err = ClusterError(("dial tcp 127.0.0.1:1: connect: connection refused",
                        "dial tcp 127.0.0.1:2: connect: connection refused"))
    assert str(err) == (
        "client: etcd cluster is unavailable or misconfigured; "
        "error #0: dial tcp 127.0.0.1:1: connect: connection refused\n"
        "; error #1: dial tcp 127.0.0.1:2: connect: connection refused\n")
    assert err.detail() == ("error #0: dial tcp 127.0.0.1:1: connect: connection refused\n"
                            "error #1: dial tcp 127.0.0.1:2: connect: connection refused\n")


def test_other_error_texts():
    assert str(NoEndpointsError()) == "client: no endpoints available"
    assert str(HTTPStatusError(501, b"")) == "unexpected status code 501"
    assert str(HTTPStatusError(409, b"", "membership: peerURL exists")) == \
        "membership: peerURL exists"
    assert str(EndpointError("EOF")) == "EOF"


def test_members_parse():
    body = (b'{"members":[{"id":"82039f3eee02bfb3","name":"default","peerURLs":'
            b'["http://127.0.0.1:25380"],"clientURLs":["http://127.0.0.1:25379"]},'
            b'{"id":"6e","name":"","peerURLs":["http://x:1"],"clientURLs":[]}]}\n')
    first, unstarted = parse_members(200, body)
    assert first.id == "82039f3eee02bfb3" and first.client_urls == ("http://127.0.0.1:25379",)
    assert (unstarted.name, unstarted.client_urls) == ("", ())
    assert parse_members(200, b'{"members":null}') == []
