"""Cluster harness: N real trionode members on loopback, built on conftest's `Nodes`.

Every member is a conftest `Node` (so PIDs are tracked and killed at teardown, logs go to
files) whose extra flags name fixed peer ports and one `--initial-cluster`. Client ports
are fresh on every (re)start, as for single nodes; peers only need the peer ports.

Everything here waits with a deadline. A wait that runs out raises AssertionError with
what every member said about itself and the tail of each log, so a failure in CI can be
read without rerunning it.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import TypeVar

from .conftest import EXIT_TIMEOUT, READY_TIMEOUT, Node, NodeExited, Nodes, Response, free_port

__all__ = ["HEARTBEAT_MS", "ELECTION_MS", "Cluster", "Writer", "wait_for", "raft_headers",
           "normalised_tree"]

#: Short Raft timings so elections take well under a second (etcd's defaults are 100/1000).
HEARTBEAT_MS = 50
ELECTION_MS = 500
#: A probe of a member that may be busy electing or down: fail fast, the caller retries.
PROBE_TIMEOUT = 1.0
LOG_TAIL_LINES = 25

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float, what: str,
             explain: Callable[[], str] = lambda: "", interval: float = 0.01) -> T:
    """Poll `check` until it returns something truthy (returned); AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout}s: {what}\n{explain()}")
        time.sleep(interval)


def raft_headers(response: Response) -> tuple[int, int]:
    """(X-Raft-Term, X-Raft-Index) of a keys response."""
    return int(response.headers["X-Raft-Term"]), int(response.headers["X-Raft-Index"])


def normalised_tree(response: Response) -> dict:
    """A recursive GET's body without the "ttl" fields, which count down on each member
    independently (the expiration time itself is replicated and must agree)."""
    def strip(node: dict) -> dict:
        node = {k: v for k, v in node.items() if k != "ttl"}
        if "nodes" in node:
            node["nodes"] = [strip(child) for child in node["nodes"]]
        return node
    body = response.json()
    return {"action": body["action"], "node": strip(body["node"])}


class Cluster:
    """`size` members node1..nodeN sharing one token; `start()` spawns them all."""

    def __init__(self, nodes: Nodes, size: int = 3, *extra: str, tls: ssl.SSLContext | None = None) -> None:
        self.nodes = nodes
        self.token = f"trionode-test-{os.getpid()}-{len(nodes.nodes)}-{time.monotonic_ns()}"
        names = [f"node{i + 1}" for i in range(size)]
        scheme = "http" if tls is None else "https"  # https: `extra` holds both ports' TLS flags
        peers = {name: f"{scheme}://127.0.0.1:{free_port()}" for name in names}
        initial = ",".join(f"{name}={url}" for name, url in peers.items())
        self.peer_urls = peers  # member name -> peer URL
        self.members: list[Node] = [
            nodes.node(name, "--listen-peer-urls", peers[name], "--initial-advertise-peer-urls", peers[name],
                       "--initial-cluster", initial, "--initial-cluster-token", self.token,
                       "--heartbeat-interval", str(HEARTBEAT_MS), "--election-timeout", str(ELECTION_MS),
                       *extra, tls=tls)
            for name in names]
        self.ids: dict[str, str] = {}  # member name -> hex id, learned from /v2/stats/self

    # --- processes ---------------------------------------------------------------------------

    def start(self, members: list[Node] | None = None) -> Cluster:
        """Spawn `members` (default all) together, then wait for each /health: a member
        becomes healthy only once a quorum is up, so none may be waited for alone."""
        members = self.members if members is None else members
        for member in members:
            member.spawn()
        for member in members:
            self._wait_ready(member)
        return self

    def _wait_ready(self, member: Node) -> None:
        for attempt in range(3):
            try:
                member.wait_ready(READY_TIMEOUT)
                return
            except NodeExited:
                # The OS gave the client port to someone else meanwhile (see Node.start).
                if "address already in use" not in member.log().lower() or attempt == 2:
                    raise
                member.spawn()

    def running(self) -> list[Node]:
        return [m for m in self.members if m.proc is not None and m.proc.poll() is None]

    def kill_all(self) -> None:
        """SIGKILL every running member (by PID) before reaping any: one simultaneous crash."""
        victims = self.running()
        for member in victims:
            member.close_client()
            os.kill(member.pid, signal.SIGKILL)
        for member in victims:
            member.wait_exit(EXIT_TIMEOUT)

    # --- what the members say ----------------------------------------------------------------

    def self_stats(self, member: Node) -> dict | None:
        """/v2/stats/self, or None while the member does not answer."""
        try:
            reply = member.request("GET", "/v2/stats/self", timeout=PROBE_TIMEOUT)
        except (OSError, http.client.HTTPException):
            return None
        if reply.status != 200:
            return None
        stats = reply.json()
        self.ids[member.name] = stats["id"]
        return stats

    def agreed_leader(self, members: list[Node] | None = None) -> Node | None:
        """The leader if exactly one of `members` (default: the running ones) says it leads
        and every one of them names it as leader; else None."""
        members = self.running() if members is None else members
        stats = [self.self_stats(m) for m in members]
        if any(s is None for s in stats):
            return None
        leaders = [m for m, s in zip(members, stats) if s["state"] == "StateLeader"]
        if len(leaders) != 1:
            return None
        leader_id = self.ids[leaders[0].name]
        if all(s["leaderInfo"]["leader"] == leader_id for s in stats):
            return leaders[0]
        return None

    def leader(self, timeout: float = 10.0, members: list[Node] | None = None) -> Node:
        return wait_for(lambda: self.agreed_leader(members), timeout, "one leader all members agree on",
                        self.describe)

    def followers(self, leader: Node) -> list[Node]:
        return [m for m in self.running() if m is not leader]

    def member_list(self, member: Node) -> list[dict]:
        return member.request("GET", "/v2/members", timeout=PROBE_TIMEOUT).json()["members"]

    def published(self, timeout: float = 10.0) -> None:
        """Wait until every member's /v2/members shows each member's current client URL
        (members publish them through the log after they start)."""
        def check() -> bool:
            wanted = {m.name: [m.url] for m in self.members}
            for member in self.running():
                try:
                    listed = {m["name"]: m["clientURLs"] for m in self.member_list(member)}
                except (OSError, http.client.HTTPException, ValueError, KeyError):
                    return False
                if listed != wanted:
                    return False
            return True
        wait_for(check, timeout, "every member's client URLs published to every member", self.describe)

    def tree(self, member: Node, key: str = "/") -> dict | None:
        """The normalised recursive, sorted listing of `key` on `member` (a local read)."""
        try:
            reply = member.get(key, "recursive=true&sorted=true")
        except (OSError, http.client.HTTPException):
            return None
        return normalised_tree(reply) if reply.status == 200 else None

    def error_lines(self) -> dict[str, list[str]]:
        """Error-level lines of each member's current run, for members that have any."""
        found = {member.name: member.error_lines() for member in self.members}
        return {name: lines for name, lines in found.items() if lines}

    def describe(self) -> str:
        """Each member's pid, state and leader, then its log tail: for failure messages."""
        lines = []
        for member in self.members:
            alive = member.proc is not None and member.proc.poll() is None
            stats = self.self_stats(member) if alive else None
            state = f"{stats['state']} id={stats['id']} leader={stats['leaderInfo']['leader']}" if stats else "-"
            pid = member.proc.pid if member.proc is not None else "-"
            lines.append(f"{member.name} pid={pid} alive={alive} port={member.port} {state}")
        for member in self.members:
            tail = member.log().splitlines()[-LOG_TAIL_LINES:]
            lines.append(f"--- {member.name} log ({member.log_path}), last {len(tail)} lines:")
            lines.extend(tail)
        return "\n".join(lines)


class Writer(threading.Thread):
    """PUTs {prefix}/{n} = "{prefix}-{n}" for n = 0, 1, ... on one keep-alive connection to
    one member, recording each acknowledged write's modifiedIndex, until stopped or the
    member dies."""

    def __init__(self, prefix: str, port: int, stop: threading.Event) -> None:
        super().__init__(name=f"writer{prefix}", daemon=True)
        self.prefix, self.port, self.stop = prefix, port, stop
        self.acked: dict[str, tuple[str, int]] = {}  # key -> (value, modifiedIndex)
        self.unexpected: list[str] = []

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        n = 0
        try:
            while not self.stop.is_set():
                key, value = f"{self.prefix}/{n}", f"{self.prefix}-{n}"
                conn.request("PUT", f"/v2/keys{key}", body=urllib.parse.urlencode({"value": value}),
                             headers=headers)
                reply = conn.getresponse()
                body = reply.read()
                if reply.status in (200, 201):
                    self.acked[key] = (value, int(json.loads(body)["node"]["modifiedIndex"]))
                else:
                    self.unexpected.append(f"{key}: {reply.status} {body[:200]!r}")
                n += 1
        except (OSError, http.client.HTTPException):
            pass  # the member was killed under us: writes not acknowledged do not count
        finally:
            conn.close()
