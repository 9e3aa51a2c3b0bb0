"""The client against real servers: a trionode node always, a reference etcd 3.4 when
`etcd` is on PATH. The same scenario runs on each; its transcript keeps the shape of
every result (which fields are present, action, values, error types and causes) and drops
what legitimately differs (index numbers, expirations), so the two must be equal.
"""

from __future__ import annotations

import re
import shutil

import pytest
import trio
from requirements import missing

from tests.compat import harness
from trionode.client import Client, EtcdError, Node, Response

KINDS = ["trionode", "etcd"]
WHY_ETCD = "the client is also checked against etcd 3.4 (apt-get install etcd-server)"


@pytest.fixture(scope="module")
def servers():
    """kind -> a started server (etcd only when installed); stopped by PID at the end."""
    started = {}
    try:
        started["trionode"] = harness.start_server("client-tn", "trionode", "tn")
        if shutil.which("etcd"):
            started["etcd"] = harness.start_server("client-ref", "etcd", "ref")
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture
def url(servers, kind: str) -> str:
    """The server of this parametrization. A missing etcd is reported here, outside trio:
    a skip raised inside an async test loses its reason (pytest-trio re-raises it bare)."""
    if kind not in servers:
        missing(f"{kind} is not on PATH: {WHY_ETCD}")
    return servers[kind].url


def shape(node: Node | None):
    if node is None:
        return None
    return (node.key, node.value, node.dir,
            None if node.nodes is None else tuple(shape(n) for n in node.nodes),
            node.created_index > 0, node.modified_index >= node.created_index,
            node.expiration is not None, node.ttl is not None and node.ttl > 0)


def outcome(result) -> tuple:
    if isinstance(result, EtcdError):
        # a compare cause may name a modifiedIndex: those differ between servers
        cause = re.sub(r"!= \d+\]", "!= N]", result.cause)
        return ("error", type(result).__name__, result.code, result.message, cause,
                result.status, result.index > 0)
    assert isinstance(result, Response)
    return (result.action, shape(result.node), shape(result.prev_node),
            result.etcd_index > 0, result.raft_index is not None, result.raft_term is not None)


async def run_keys_scenario(client: Client, p: str) -> list[tuple]:
    steps = [
        lambda: client.set(f"{p}/a", "1"),
        lambda: client.get(f"{p}/a"),
        lambda: client.set(f"{p}/a", "2", prev_value="1"),
        lambda: client.set(f"{p}/a", "3", prev_value="x"),
        lambda: client.set(f"{p}/a", "3", prev_index=1),
        lambda: client.create(f"{p}/a", "dup"),
        lambda: client.create(f"{p}/b", "b", ttl=100),
        lambda: client.update(f"{p}/b", "bb"),
        lambda: client.update(f"{p}/missing", "x"),
        lambda: client.mkdir(f"{p}/d"),
        lambda: client.mkdir(f"{p}/d"),
        lambda: client.set(f"{p}/d", dir=True),
        lambda: client.set(f"{p}/e", dir=True, ttl=50),
        lambda: client.set(f"{p}/e", dir=True, prev_exist=True, ttl=60),
        lambda: client.get(f"{p}/d"),
        lambda: client.get(f"{p}", recursive=True, sorted=True),
        lambda: client.get(f"{p}/", sorted=True),
        lambda: client.get(f"{p}/a/", quorum=True),
        lambda: client.delete(f"{p}/d", dir=True),
        lambda: client.delete(f"{p}"),
        lambda: client.delete(f"{p}/a", prev_value="9"),
        lambda: client.delete(f"{p}/a", prev_value="2"),
        lambda: client.set(f"{p}/f", "f"),
        lambda: client.set(f"{p}/f/x", "x"),
        lambda: client.get(f"{p}/nope/deeper"),
        lambda: client.delete("/"),
        lambda: client.set("/", "x"),
        lambda: client.set(f"{p}/quiet", "q", no_value_on_success=True),
        lambda: client.set(f"{p}/sp ace/ü?#%", "odd & = +"),
        lambda: client.get(f"{p}/sp ace/ü?#%"),
        lambda: client.set(f"{p}/b", "bb", ttl=30, refresh=True, prev_exist=True),
        lambda: client.delete(f"{p}", recursive=True),
    ]
    transcript = []
    for step in steps:
        try:
            transcript.append(outcome(await step()))
        except EtcdError as exc:
            transcript.append(outcome(exc))
    return transcript


@pytest.mark.parametrize("kind", KINDS)
async def test_every_keys_operation(url, kind):
    async with Client([url]) as client:
        transcript = await run_keys_scenario(client, f"/cl-keys-{kind}")
    assert transcript[0] == ("set", (f"/cl-keys-{kind}/a", "1", False, None, True, True,
                                     False, False), None, True, True, True)
    assert transcript[3][:5] == ("error", "TestFailed", 101, "Compare failed", "[x != N]")


@pytest.mark.requires_tool("etcd", WHY_ETCD)
async def test_trionode_and_etcd_give_the_same_shapes(servers):
    transcripts = {}
    for kind in KINDS:
        async with Client([servers[kind].url]) as client:
            transcripts[kind] = await run_keys_scenario(client, "/cl-same")
    for i, (ref, tgt) in enumerate(zip(transcripts["etcd"], transcripts["trionode"])):
        assert tgt == ref, f"step {i}"


async def in_order_and_root(client: Client, p: str) -> list:
    made = await client.create_in_order(f"{p}/q", "x", ttl=20)
    root = await client.get("/")
    found = [n for n in root.node.nodes if n.key == p]
    await client.delete(p, recursive=True)
    return [made.action, made.node.key.rsplit("/", 1)[1].isdigit(),
            len(made.node.key.rsplit("/", 1)[1]), made.node.ttl is not None,
            root.node.key, root.node.dir, len(found)]


@pytest.mark.parametrize("kind", KINDS)
async def test_in_order_keys_and_the_root(url, kind):
    async with Client([url]) as client:
        got = await in_order_and_root(client, f"/cl-q-{kind}")
    assert got == ["create", True, 20, True, None, True, 1]


@pytest.mark.parametrize("kind", KINDS)
async def test_wait_and_watch_with_a_concurrent_writer(url, kind):
    p = f"/cl-watch-{kind}"
    async with Client([url]) as client:
        first = await client.set(f"{p}/a", "0")
        # a wait on an index already in the history answers at once
        old = await client.wait(f"{p}/a", wait_index=first.node.modified_index)
        assert (old.action, old.node.value) == ("set", "0")
        seen = []

        async def writer():
            for value in ("1", "2", "3"):
                await client.set(f"{p}/a", value)

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                watch = client.watch(p, recursive=True,
                                     after_index=first.node.modified_index)
                nursery.start_soon(writer)
                async for event in watch:
                    seen.append((event.action, event.node.key, event.node.value))
                    if len(seen) == 3:
                        break
        await client.delete(p, recursive=True)
    assert seen == [("set", f"{p}/a", v) for v in ("1", "2", "3")]


@pytest.mark.parametrize("kind", KINDS)
async def test_sync_members_health_version(url):
    infos = []
    async with Client([url], on_request=infos.append) as client:
        assert await client.sync() == (url,)
        [member] = await client.members()
        assert member.client_urls == (url,) and member.name
        assert await client.leader() == member
        assert await client.health(url) is True
        assert set(await client.version()) == {"etcdserver", "etcdcluster"}
        await client.get("/")
        await client.get("/")
        # keep-alive: the whole session went over one connection
        assert client._pool.idle_count(client._endpoints[0]) == 1
    assert infos[0].url == url + "/v2/members"
