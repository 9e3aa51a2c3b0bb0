"""0.4's /v2/leader and /v2/peers handlers (http/info.py, v2-spec §4.4)."""

from __future__ import annotations

from fake_api import FakeApi

from trionode.http import info
from trionode.http.message import HttpResponse
from trionode.membership.members import Member
from trionode.store.commands import Command, Op

TEXT = ("Content-Type", "text/plain; charset=utf-8")
MEMBERS = [
    Member(1, "a", ("http://p1:7001",), ("http://c1:4001",)),
    Member(2, "b", ("http://p2:7001", "http://p2b:7001"), ("http://c2:4001", "http://c2b:4001")),
    Member(3, "c", ("http://p3:7001",), ("http://c3:4001",)),
]


def node(leader_id: int = 2, members: list[Member] = MEMBERS) -> FakeApi:
    api = FakeApi(members, member_id=1, leader_id=leader_id)
    for i in range(42):  # the store's index is 42
        api.store.apply(Command(Op.SET, "/k", str(i)))
    return api


def test_leader_is_its_first_peer_url_as_text() -> None:
    assert info.leader(node()) == HttpResponse(200, [TEXT], b"http://p2:7001")


def test_no_leader_is_error_301() -> None:
    body = b'{"errorCode":301,"message":"During Leader Election","index":42}\n'
    expected = HttpResponse(500, [("Content-Type", "application/json")], body)
    assert info.leader(node(leader_id=0)) == expected
    assert info.leader(node(leader_id=9)) == expected  # a leader we do not know yet


def test_peers_lists_client_urls_leader_first() -> None:
    assert info.peers(node()) == HttpResponse(
        200, [TEXT], b"http://c2:4001, http://c2b:4001, http://c1:4001, http://c3:4001")
    assert info.peers(node(leader_id=0)).body == b"http://c1:4001, http://c2:4001, http://c2b:4001, http://c3:4001"
    assert info.peers(node(members=[])).body == b""
