"""PeerApp against a fake NodeApi: every route, its status, headers and exact body."""

from __future__ import annotations

import pytest
from fake_api import FakeApi

from trionode.http.admin import PeerApp
from trionode.http.message import HttpResponse, Request
from trionode.http.paths import decode_path, split_target
from trionode.membership.clusterconfig import ClusterConfig
from trionode.membership.errors import MemberError
from trionode.membership.members import Member
from trionode.v2.errors import V2Error

TEXT = ("Content-Type", "text/plain; charset=utf-8")
NOSNIFF = ("X-Content-Type-Options", "nosniff")


MEMBERS = [
    Member(0xA1, "n1", ("http://10.0.0.1:7001",), ("http://10.0.0.1:4001",)),
    Member(0xB2, "b-node", ("http://10.0.0.2:7001", "http://x:1"), ("http://10.0.0.2:4001",)),
    Member(0xC3, "standby", ("http://10.0.0.3:7001",), ("http://10.0.0.3:4001",), learner=True),
    Member(0xD4, "", ("http://10.0.0.4:7001",)),  # added, not started yet
]


def fake(members: list[Member] = MEMBERS, *, leader_id: int = 0xA1, config: ClusterConfig | None = None,
         fail: Exception | None = None) -> FakeApi:
    """Member a1 of cluster c1, which removed e5 once."""
    api = FakeApi(members, leader_id=leader_id, removed={0xE5})
    api.reconfig.config = config or ClusterConfig()
    api.reconfig.fail = fail
    return api


async def call(node: FakeApi, method: str, target: str, body: bytes = b"") -> HttpResponse:
    raw_path, query = split_target(target)
    request = Request(method, target, decode_path(raw_path), raw_path, query, [(b"host", b"h")], body)
    return await PeerApp(node)(request)


async def test_members_lists_every_member_with_the_cluster_id() -> None:
    response = await call(fake(), "GET", "/members")
    assert response.status == 200
    assert response.headers == [("Content-Type", "application/json"), ("X-Etcd-Cluster-Id", "c1")]
    assert response.body == (
        b'[{"id":"a1","name":"n1","peerURLs":["http://10.0.0.1:7001"],"clientURLs":["http://10.0.0.1:4001"]},'
        b'{"id":"b2","name":"b-node","peerURLs":["http://10.0.0.2:7001","http://x:1"],"clientURLs":["http://10.0.0.2:4001"]},'
        b'{"id":"c3","name":"standby","peerURLs":["http://10.0.0.3:7001"],"clientURLs":["http://10.0.0.3:4001"]},'
        b'{"id":"d4","name":"","peerURLs":["http://10.0.0.4:7001"],"clientURLs":[]}]\n')


async def test_members_other_methods_and_sub_paths() -> None:
    response = await call(fake(), "POST", "/members")
    assert response == HttpResponse(405, [TEXT, NOSNIFF, ("Allow", "GET"), ("X-Etcd-Cluster-Id", "c1")],
                                b"Method Not Allowed\n")
    assert (await call(fake(), "GET", "/members/a1/x")) == HttpResponse(404, [TEXT, NOSNIFF], b"404 page not found\n")


async def test_one_member_and_a_removed_one() -> None:
    """A member that missed its own removal asks for itself: 410 is the proof it is out."""
    json_ct = [("Content-Type", "application/json"), ("X-Etcd-Cluster-Id", "c1")]
    assert (await call(fake(), "GET", "/members/a1")) == HttpResponse(
        200, json_ct, b'{"id":"a1","name":"n1","peerURLs":["http://10.0.0.1:7001"],'
                      b'"clientURLs":["http://10.0.0.1:4001"]}\n')
    assert (await call(fake(), "GET", "/members/e5")) == HttpResponse(
        410, json_ct, b'{"message":"Member permanently removed: e5"}')
    assert (await call(fake(), "GET", "/members/zz")) == HttpResponse(
        404, json_ct, b'{"message":"No such member: zz"}')


async def test_get_config() -> None:
    response = await call(fake(config=ClusterConfig(5, 60, 2)), "GET", "/v2/admin/config")
    assert response == HttpResponse(200, [TEXT], b'{"activeSize":5,"removeDelay":60,"syncInterval":2}\n')


async def test_put_config_merges_clamps_and_goes_through_the_node() -> None:
    node = fake(config=ClusterConfig(5, 60, 2))
    response = await call(node, "PUT", "/v2/admin/config", b'{"activeSize":1,"syncInterval":4}')
    assert response == HttpResponse(200, [TEXT], b'{"activeSize":3,"removeDelay":60,"syncInterval":4}\n')
    assert node.calls == [("config", ClusterConfig(3, 60, 4))]
    assert node.reconfig.cluster_config() == ClusterConfig(3, 60, 4)


async def test_put_config_tutorial_body() -> None:
    body = b'{"activeSize":9,"removeDelay":1800,"syncInterval":5}'
    response = await call(fake(), "PUT", "/v2/admin/config", body)
    assert response.body == body + b"\n"


async def test_put_config_bad_json_is_500_plain_text() -> None:
    node = fake()
    response = await call(node, "PUT", "/v2/admin/config", b"{oops")
    assert response == HttpResponse(500, [TEXT, NOSNIFF],
                                b"invalid character 'o' looking for beginning of object key string\n")
    assert node.calls == [] and node.reconfig.cluster_config() == ClusterConfig()


async def test_put_config_when_the_node_cannot_commit() -> None:
    node = fake(fail=V2Error(300, "timeout", 7))
    response = await call(node, "PUT", "/v2/admin/config", b"{}")
    assert response == HttpResponse(500, [("Content-Type", "application/json")],
                                b'{"errorCode":300,"message":"Raft Internal Error","cause":"timeout","index":7}\n')


@pytest.mark.parametrize("method", ["POST", "DELETE", "HEAD"])
async def test_config_other_methods(method: str) -> None:
    response = await call(fake(), method, "/v2/admin/config")
    assert response == HttpResponse(405, [TEXT, NOSNIFF, ("Allow", "GET,PUT")], b"Method Not Allowed\n")


async def test_machines_sorted_by_name_with_states() -> None:
    response = await call(fake(leader_id=0xB2), "GET", "/v2/admin/machines")
    assert response == HttpResponse(200, [TEXT], (
        b'[{"name":"b-node","state":"leader","clientURL":"http://10.0.0.2:4001","peerURL":"http://10.0.0.2:7001"},'
        b'{"name":"n1","state":"follower","clientURL":"http://10.0.0.1:4001","peerURL":"http://10.0.0.1:7001"},'
        b'{"name":"standby","state":"standby","clientURL":"http://10.0.0.3:4001","peerURL":"http://10.0.0.3:7001"}]\n'))


async def test_machines_without_a_leader_are_all_followers() -> None:
    node = fake(leader_id=0, members=[Member(1, "only", ("http://p",), ("http://c",))])
    response = await call(node, "GET", "/v2/admin/machines")
    assert response.body == b'[{"name":"only","state":"follower","clientURL":"http://c","peerURL":"http://p"}]\n'
    assert (await call(fake(members=[]), "GET", "/v2/admin/machines")).body == b"[]\n"
    assert (await call(node, "PUT", "/v2/admin/machines")).headers[2] == ("Allow", "GET")


async def test_one_machine() -> None:
    response = await call(fake(), "GET", "/v2/admin/machines/n1")
    assert response == HttpResponse(200, [TEXT], b'{"name":"n1","state":"leader","clientURL":"http://10.0.0.1:4001",'
                                             b'"peerURL":"http://10.0.0.1:7001"}\n')
    assert (await call(fake(), "GET", "/v2/admin/machines/nobody")) == HttpResponse(200, [TEXT], b"null\n")
    escaped = await call(fake(), "GET", "/v2/admin/machines/b%2Dnode")
    assert b'"name":"b-node"' in escaped.body


async def test_delete_machine_removes_the_member_and_returns_the_index() -> None:
    node = fake()
    response = await call(node, "DELETE", "/v2/admin/machines/b-node")
    # 1234 as a uvarint (0xd2 0x09), zero-padded to 8 bytes, as 0.4 wrote it
    assert response == HttpResponse(200, [("Content-Type", "application/octet-stream")], b"\xd2\x09" + b"\0" * 6)
    assert node.calls == [("remove", 0xB2)]
    assert 0xB2 in node.membership.removed


async def test_delete_unknown_machine_is_an_empty_200() -> None:
    node = fake()
    assert (await call(node, "DELETE", "/v2/admin/machines/nobody")) == HttpResponse(200, [], b"")
    assert node.calls == []


async def test_delete_machine_refused_by_the_node() -> None:
    node = fake(fail=MemberError(500, "membership change timed out"))
    response = await call(node, "DELETE", "/v2/admin/machines/n1")
    assert response == HttpResponse(500, [TEXT, NOSNIFF], b"membership change timed out\n")


@pytest.mark.parametrize("method", ["PUT", "POST", "HEAD"])
async def test_machine_other_methods(method: str) -> None:
    response = await call(fake(), method, "/v2/admin/machines/n1")
    assert response == HttpResponse(405, [TEXT, NOSNIFF, ("Allow", "GET,DELETE")], b"Method Not Allowed\n")


@pytest.mark.parametrize("target", ["/", "/v2/admin", "/v2/admin/machines/", "/v2/admin/machines/a/b",
                                    "/v2/keys/x", "/version", "/v2/admin/configx"])
async def test_everything_else_is_404(target: str) -> None:
    assert (await call(fake(), "GET", target)) == HttpResponse(404, [TEXT, NOSNIFF], b"404 page not found\n")


async def test_unclean_paths_redirect_as_gos_mux_does() -> None:
    response = await call(fake(), "GET", "/v2/admin//config")
    assert response.status == 301 and ("Location", "/v2/admin/config") in response.headers
