"""/v2/members changes (http/members.py) against a fake NodeApi whose membership is the real
Membership: etcd's checks and messages, then ours (a peer URL must be dialable)."""

from __future__ import annotations

import json

import pytest
from fake_api import FakeApi

from trionode.http.members import handle_members
from trionode.http.message import Request
from trionode.http.paths import decode_path, split_target
from trionode.membership.members import Member

JSON = b"application/json"


def fake() -> FakeApi:
    """Member a1 of cluster 7, alone; changes apply at once, as if the log committed them."""
    return FakeApi([Member(0xA1, "a", ("http://127.0.0.1:2380",), ("http://127.0.0.1:2379",))],
                   cluster_id_hex="7")


async def ask(node: FakeApi, method: str, target: str, body: object = None,
              ctype: bytes = JSON) -> tuple[int, object]:
    raw_path, query = split_target(target)
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body or b""
    request = Request(method, target, decode_path(raw_path), raw_path, query, [(b"content-type", ctype)], data)
    response = await handle_members(node, request)
    return response.status, json.loads(response.body) if response.body.strip().startswith(b"{") else response.body


async def test_add_update_remove_go_to_the_node() -> None:
    node = fake()
    status, body = await ask(node, "POST", "/v2/members", {"peerURLs": ["http://127.0.0.1:2390"]})
    assert (status, body) == (201, {"id": "b2", "name": "", "peerURLs": ["http://127.0.0.1:2390"], "clientURLs": []})
    assert (await ask(node, "PUT", "/v2/members/b2", {"peerURLs": ["http://127.0.0.1:2391"]}))[0] == 204
    assert (await ask(node, "DELETE", "/v2/members/b2"))[0] == 204
    assert node.calls == [("add", ["http://127.0.0.1:2390"]), ("update", 0xB2, ["http://127.0.0.1:2391"]),
                          ("remove", 0xB2)]
    assert await ask(node, "DELETE", "/v2/members/b2") == (410, {"message": "Member permanently removed: b2"})
    assert await ask(node, "DELETE", "/v2/members/c3") == (404, {"message": "No such member: c3"})
    assert await ask(node, "DELETE", "/v2/members/a1") == (500, {"message": "membership: a1 is the last voting member"})


@pytest.mark.parametrize("url, message", [
    ("notaurl", "URL scheme must be http, https, unix, or unixs: notaurl"),
    ("http://127.0.0.1", 'URL address does not have the form "host:port": http://127.0.0.1'),
    ("http://127.0.0.1:7001/", "URL must not contain a path: http://127.0.0.1:7001/"),
    ("unix://sock:1", "trionode members talk TCP: only http:// and https:// are supported (no unix "
                      "sockets): unix://sock:1"),
    ("https://127.0.0.1:7001", "mixed http and https peer URLs: this cluster's members use http:// peer "
                               "URLs, not https://127.0.0.1:7001"),
])
async def test_peer_urls_etcd_refuses_and_ones_we_cannot_dial(url: str, message: str) -> None:
    node = fake()
    assert await ask(node, "POST", "/v2/members", {"peerURLs": [url]}) == (400, {"message": message})
    assert node.calls == []


async def test_bad_bodies_and_taken_urls() -> None:
    node = fake()
    assert (await ask(node, "POST", "/v2/members", b"peerURLs=x", b"application/x-www-form-urlencoded")) == (
        415, {"message": "Bad Content-Type application/x-www-form-urlencoded, accept application/json"})
    assert (await ask(node, "POST", "/v2/members", {"peerURLs": []}))[0] == 400
    assert await ask(node, "POST", "/v2/members", {"peerURLs": ["http://127.0.0.1:2380"]}) == (
        409, {"message": "membership: peerURL exists"})
    # one spelling: the port's leading zero does not make a new address
    assert await ask(node, "POST", "/v2/members", {"peerURLs": ["HTTP://127.0.0.1:02380"]}) == (
        409, {"message": "membership: peerURL exists"})
