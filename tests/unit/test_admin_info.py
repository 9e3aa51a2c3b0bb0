"""0.4's /v2/leader and /v2/peers handlers (http/info.py, v2-spec §4.4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trionode.http import info
from trionode.http.message import Response
from trionode.membership.members import Member

TEXT = ("Content-Type", "text/plain; charset=utf-8")


@dataclass
class Store:
    index: int = 42


@dataclass
class FakeNode:
    leader_id: int = 2
    store: Store = field(default_factory=Store)
    members: list[Member] = field(default_factory=lambda: [
        Member(1, "a", ("http://p1:7001",), ("http://c1:4001",)),
        Member(2, "b", ("http://p2:7001", "http://p2b:7001"), ("http://c2:4001", "http://c2b:4001")),
        Member(3, "c", ("http://p3:7001",), ("http://c3:4001",)),
    ])


def node(**kw: Any) -> Any:
    return FakeNode(**kw)


def test_leader_is_its_first_peer_url_as_text() -> None:
    assert info.leader(node()) == Response(200, [TEXT], b"http://p2:7001")


def test_no_leader_is_error_301() -> None:
    body = b'{"errorCode":301,"message":"During Leader Election","index":42}\n'
    expected = Response(500, [("Content-Type", "application/json")], body)
    assert info.leader(node(leader_id=0)) == expected
    assert info.leader(node(leader_id=9)) == expected  # a leader we do not know yet


def test_peers_lists_client_urls_leader_first() -> None:
    assert info.peers(node()) == Response(
        200, [TEXT], b"http://c2:4001, http://c2b:4001, http://c1:4001, http://c3:4001")
    assert info.peers(node(leader_id=0)).body == b"http://c1:4001, http://c2:4001, http://c2b:4001, http://c3:4001"
    assert info.peers(node(members=[])).body == b""
