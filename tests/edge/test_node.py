"""node.py in process: `serve(config, log)` under the test's own trio run, on real loopback
sockets (OS-assigned ports, read back from the "ready" log line) and a tmp data dir. A
write goes in through the client port, the node is cancelled, and a second serve() on the
same data dir answers it from the log it recovered: a restart without a subprocess.

Times are real (the replica fsyncs in a worker thread, which trio's autojump clock would
not wait for); a lone member campaigns at once, so a start takes a few tens of ms.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import trio

from trionode.client import Client, KeyNotFound
from trionode.config.flags import Config, parse_config
from trionode.http import api
from trionode.node import _STATE_NAMES, serve
from trionode.raft import Role

#: How long a start may take to log "ready" (recovery, election, publish).
READY_TIMEOUT = 10.0


class RecordingLog:
    """The Logger of telemetry/logger.py, keeping (level, event, key=values) in order."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def _record(self, level: str, event: str, *args: Any, **kw: Any) -> None:
        self.lines.append((level, event, kw))  # list.append is safe from the storage thread too

    def debug(self, event: str, *args: Any, **kw: Any) -> None:
        self._record("debug", event, *args, **kw)

    def info(self, event: str, *args: Any, **kw: Any) -> None:
        self._record("info", event, *args, **kw)

    def warning(self, event: str, *args: Any, **kw: Any) -> None:
        self._record("warning", event, *args, **kw)

    def error(self, event: str, *args: Any, **kw: Any) -> None:
        self._record("error", event, *args, **kw)

    def exception(self, event: str, *args: Any, **kw: Any) -> None:
        self._record("exception", event, *args, **kw)

    def bind(self, **kw: Any) -> RecordingLog:
        return self

    def events(self) -> list[str]:
        return [event for _, event, _ in self.lines]

    async def wait_for(self, event: str) -> dict[str, Any]:
        """The key=values of the first line logging `event`, once there is one."""
        with trio.fail_after(READY_TIMEOUT):
            while True:
                for _, name, kw in self.lines:
                    if name == event:
                        return kw
                await trio.sleep(0.005)


def node_config(data_dir: Path, *extra: str) -> Config:
    """A lone member on 127.0.0.1 with every port left to the OS."""
    any_port = "http://127.0.0.1:0"
    return parse_config(["--name", "n1", "--data-dir", str(data_dir),
                         "--listen-client-urls", any_port, "--advertise-client-urls", any_port,
                         "--listen-peer-urls", any_port, "--initial-advertise-peer-urls", any_port,
                         "--initial-cluster", f"n1={any_port}", *extra], {})


async def http(url: str, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection: status, headers (lower-case names), body."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    async with await trio.open_tcp_stream(host, int(port)) as stream:
        await stream.send_all(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := await stream.receive_some():
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), headers, body


class Running:
    """One life of a node: serve() in a nursery of its own, cancelled on leaving."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.log = RecordingLog()
        self.client_url = self.peer_url = ""
        self.member = self.cluster = ""

    async def __aenter__(self) -> Running:
        self._nursery_manager = trio.open_nursery()
        nursery = await self._nursery_manager.__aenter__()
        self._scope = nursery.cancel_scope
        nursery.start_soon(serve, self.config, self.log)
        ready = await self.log.wait_for("ready")
        self.client_url, self.peer_url = ready["client_urls"], ready["peer_urls"]
        self.member, self.cluster = ready["member"], ready["cluster"]
        return self

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        self._scope.cancel()
        return await self._nursery_manager.__aexit__(*exc_info)


async def test_put_get_then_restart_in_process(tmp_path: Path) -> None:
    config = node_config(tmp_path / "n1")
    async with Running(config) as first:
        assert first.client_url.startswith("http://127.0.0.1:") and not first.client_url.endswith(":0")
        async with Client([first.client_url]) as client:
            created = await client.set("/greeting", "hello")
            assert created.action == "set" and created.node.value == "hello"
            assert (await client.get("/greeting")).node.value == "hello"
        member = first.member
    assert "published" in first.log.events()
    assert (tmp_path / "n1" / "member" / "wal").is_dir()

    async with Running(config) as second:
        assert second.member == member  # the same member, from its data dir
        async with Client([second.client_url]) as client:
            reply = await client.get("/greeting")
            assert reply.node.value == "hello"
            assert reply.node.modified_index == created.node.modified_index
            with pytest.raises(KeyNotFound):
                await client.get("/missing")
    recovered = next(kw for _, event, kw in second.log.lines if event == "recovered")
    assert recovered["entries"] > 0


async def test_the_node_api_seen_over_the_wire(tmp_path: Path) -> None:
    """What node.HttpView answers reaches each endpoint: identity, Raft's view, the stats, the
    membership, on the client port and the peer port."""
    async with Running(node_config(tmp_path / "n1")) as node:
        status, headers, body = await http(node.client_url, "PUT", "/v2/keys/a?value=1")
        assert status == 201
        raft_index, raft_term = int(headers["x-raft-index"]), int(headers["x-raft-term"])
        # after our election's empty entry (1) and our publish (2), the PUT is entry 3
        assert (raft_index, raft_term) == (3, 1), headers
        assert headers["x-etcd-cluster-id"] == node.cluster
        status, _, body = await http(node.client_url, "GET", "/v2/stats/self")
        stats = json.loads(body)
        assert status == 200
        assert (stats["name"], stats["id"], stats["state"]) == ("n1", node.member, "StateLeader")
        assert stats["leaderInfo"]["leader"] == node.member
        status, _, body = await http(node.client_url, "GET", "/v2/stats/leader")
        assert (status, json.loads(body)) == (200, {"leader": node.member, "followers": {}})
        assert (await http(node.client_url, "GET", "/health"))[:3:2] == (200, b'{"health":"true"}')
        status, _, body = await http(node.client_url, "GET", "/v2/members")
        (member,) = json.loads(body)["members"]
        assert (member["id"], member["name"]) == (node.member, "n1")
        status, _, body = await http(node.peer_url, "GET", f"/members/{node.member}")
        assert status == 200 and json.loads(body)["name"] == "n1"
        status, _, body = await http(node.peer_url, "GET", "/v2/admin/config")
        assert (status, json.loads(body)) == (200, {"activeSize": 9, "removeDelay": 1800, "syncInterval": 5})


async def test_a_ttl_expires_through_the_log(tmp_path: Path) -> None:
    """The leader's expiry ticker reads the node's store and clock and proposes Sync."""
    async with Running(node_config(tmp_path / "n1")) as node:
        async with Client([node.client_url]) as client:
            await client.set("/short", "x", ttl=1)
            with trio.fail_after(5):
                while True:
                    try:
                        await client.get("/short")
                    except KeyNotFound:
                        break
                    await trio.sleep(0.1)
            status, _, body = await http(node.client_url, "GET", "/v2/stats/store")
            assert json.loads(body)["expireCount"] == 1


def test_every_raft_role_has_etcds_name() -> None:
    """raft_status() names the role as etcd does; a role without a name would be a KeyError
    on every keys request."""
    assert set(_STATE_NAMES) == set(Role)
    assert sorted(_STATE_NAMES.values()) == sorted([api.CANDIDATE, api.FOLLOWER, api.LEADER, api.PRE_CANDIDATE])
