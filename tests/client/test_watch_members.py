"""The watch iterator (resume, 401 -> Resync) and the members/health/version calls,
against the in-process fake server."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import trio

from trionode.client import (
    Client,
    ClusterError,
    EndpointError,
    EventIndexCleared,
    HTTPStatusError,
    Member,
    Resync,
)

from .conftest import Reply, error_reply, keys_reply


def event(index: int, value: str) -> dict:
    return {"action": "set", "node": {"key": "/w/k", "value": value,
                                      "modifiedIndex": index, "createdIndex": index}}


def query(seen) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(seen.target).query).items()}


class History:
    """A fake history: events at 10 and 11; anything older than 8 is cleared."""

    def __init__(self):
        self.events = {10: event(10, "a"), 11: event(11, "b"), 20: event(20, "c")}
        self.gets = 0

    async def respond(self, seen):
        params = query(seen)
        if params.get("wait") != "true":
            self.gets += 1
            return keys_reply({"action": "get", "node": {"key": "/w", "dir": True}}, index=19)
        index = int(params["waitIndex"])
        if 0 < index < 8:
            return error_reply(401, "The event in requested index is outdated and cleared",
                               f"the requested history has been cleared [8/{index}]", 19, 400)
        for at in sorted(self.events):
            if at >= index:
                return keys_reply(self.events[at])
        await trio.sleep_forever()


async def test_watch_resumes_after_each_event(fake_server):
    history = History()
    server = await fake_server(history.respond)
    async with Client([server.url]) as client:
        got = []
        async for item in client.watch("/w", recursive=True, after_index=9):
            got.append(item.node.value)
            if len(got) == 3:
                break
    assert got == ["a", "b", "c"]
    assert [query(s)["waitIndex"] for s in server.seen] == ["10", "11", "12"]
    assert all(query(s)["recursive"] == "true" for s in server.seen)


async def test_watch_from_now_sends_wait_index_zero(fake_server):
    history = History()
    server = await fake_server(history.respond)
    async with Client([server.url]) as client:
        async for item in client.watch("/w"):
            assert item.node.modified_index == 10
            break
    assert query(server.seen[0])["waitIndex"] == "0"


async def test_watch_resyncs_after_401(fake_server):
    history = History()
    server = await fake_server(history.respond)
    async with Client([server.url]) as client:
        items = []
        async for item in client.watch("/w", recursive=True, after_index=2):
            items.append(item)
            if len(items) == 2:
                break
    resync, after = items
    assert isinstance(resync, Resync) and resync.index == 19
    assert resync.current.node.key == "/w"
    assert after.node.value == "c"
    targets = [s.target for s in server.seen]
    assert targets == ["/v2/keys/w?recursive=true&wait=true&waitIndex=3",
                       "/v2/keys/w?quorum=false&recursive=true&sorted=false",
                       "/v2/keys/w?recursive=true&wait=true&waitIndex=20"]


async def test_watch_resync_of_a_missing_key(fake_server):
    async def respond(seen):
        if query(seen).get("wait") == "true":
            if query(seen)["waitIndex"] == "0":
                return error_reply(401, "cleared", "gone", 30, 400)
            return keys_reply(event(31, "x"))
        return error_reply(100, "Key not found", "/w", 30, 404)
    server = await fake_server(respond)
    async with Client([server.url]) as client:
        items = []
        async for item in client.watch("/w"):
            items.append(item)
            if len(items) == 2:
                break
    assert items[0] == Resync(30, None)
    assert items[1].node.modified_index == 31
    assert query(server.seen[-1])["waitIndex"] == "31"


async def test_watch_without_resync_raises_the_401(fake_server):
    history = History()
    server = await fake_server(history.respond)
    async with Client([server.url]) as client:
        with pytest.raises(EventIndexCleared) as info:
            async for _ in client.watch("/w", after_index=2, resync=False):
                pass
    assert info.value.code == 401 and info.value.status == 400


MEMBER = {"id": "82039f3eee02bfb3", "name": "default",
          "peerURLs": ["http://127.0.0.1:25380"], "clientURLs": ["http://127.0.0.1:25379"]}


def json_reply(status: int, doc) -> Reply:
    return Reply(status, (("Content-Type", "application/json"),), json.dumps(doc).encode())


async def test_members_calls(fake_server):
    routes = {
        ("GET", "/v2/members"): json_reply(200, {"members": [MEMBER]}),
        ("GET", "/v2/members/leader"): json_reply(200, MEMBER),
        ("POST", "/v2/members"): json_reply(201, {"id": "6e", "name": "",
                                                  "peerURLs": ["http://h:1"],
                                                  "clientURLs": []}),
        ("DELETE", "/v2/members/6e"): Reply(204),
        ("PUT", "/v2/members/6e"): Reply(204),
    }
    server = await fake_server(lambda seen: routes[seen.method, seen.target])
    async with Client([server.url]) as client:
        [member] = await client.members()
        assert member == Member("82039f3eee02bfb3", "default", ("http://127.0.0.1:25380",),
                                ("http://127.0.0.1:25379",))
        assert await client.leader() == member
        added = await client.add_member("http://h:1")
        assert (added.id, added.name, added.client_urls) == ("6e", "", ())
        assert await client.remove_member("6e") is None
        assert await client.update_member("6e", ["http://h:2"]) is None
    post = [s for s in server.seen if s.method == "POST"][0]
    assert post.body == b'{"peerURLs":["http://h:1"]}'
    assert post.headers["content-type"] == "application/json"


@pytest.mark.parametrize("call, reply, text", [
    ("add", json_reply(409, {"message": "membership: peerURL exists"}),
     "membership: peerURL exists"),
    ("add", json_reply(415, {"message": "Bad Content-Type"}), "unexpected status code 415"),
    ("remove", json_reply(404, {"message": "No such member: zzz"}),
     "unexpected status code 404"),
    ("update", json_reply(404, {"message": "No such member: zzz"}), "No such member: zzz"),
    ("list", Reply(404, (), b"404 page not found\n"), "unexpected status code 404"),
])
async def test_members_errors_read_as_the_go_client_does(fake_server, call, reply, text):
    server = await fake_server(lambda seen: reply)
    async with Client([server.url]) as client:
        calls = {"add": lambda: client.add_member("http://h:1"),
                 "remove": lambda: client.remove_member("zzz"),
                 "update": lambda: client.update_member("zzz", ["http://h:1"]),
                 "list": client.members}
        with pytest.raises(HTTPStatusError) as info:
            await calls[call]()
    assert str(info.value) == text


async def test_no_leader_is_a_cluster_error(fake_server):
    server = await fake_server(lambda seen: json_reply(503, {"message": "During election"}))
    async with Client([server.url]) as client:
        with pytest.raises(ClusterError) as info:
            await client.leader()
    assert info.value.errors == (f"client: etcd member {server.url} has no leader",)


async def test_health_and_version(fake_server, dead_port):
    routes = {"/health": Reply(200, (), b'{"health":"true"}'),
              "/version?quorum=false&recursive=false&sorted=false":
                  Reply(200, (), b'{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}')}
    server = await fake_server(lambda seen: routes[seen.target])
    sick = await fake_server(lambda seen: Reply(503, (), b'{"health":"false"}'))
    seen = []
    async with Client([server.url], on_request=seen.append) as client:
        assert await client.health(server.url) is True
        assert await client.health(sick.url) is False
        with pytest.raises(EndpointError) as info:
            await client.health(f"http://127.0.0.1:{dead_port}")
        assert str(info.value) == f"dial tcp 127.0.0.1:{dead_port}: connect: connection refused"
        assert await client.version() == {"etcdserver": "3.4.23", "etcdcluster": "3.4.0"}
    assert [i.url for i in seen] == [server.url + "/version?quorum=false&recursive=false&sorted=false"]
