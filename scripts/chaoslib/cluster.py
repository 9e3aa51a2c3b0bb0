"""The cluster under test: one OS process per node, started, killed, paused and restarted
by PID, inside the namespace (this module runs only there).

Node i (1-based) is "n<i>" on 127.0.0.(10+i), client port 2379, peer port 2380: the
namespace is private, so fixed ports cannot collide with anything. Each node runs with its
own group id (GID_BASE + i, no supplementary groups) so that firewall rules can match the
sockets of one node whatever source address they leave from (see firewall.py). Only the
group changes, not the user: the interpreter may live where other users cannot read.

With --tls every URL is https, and every client of the run (the probes and admin requests
here, the workload, the final reads) presents the run's client certificate, through the
one ssl context `Cluster.ssl_context`.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import signal
import ssl
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from trionode.client import Client, ClientError

if TYPE_CHECKING:
    from tlsfiles import TlsFiles

__all__ = ["NodeSpec", "Node", "Cluster", "node_specs", "initial_cluster", "GID_BASE",
           "CLIENT_PORT", "PEER_PORT"]

GID_BASE = 61000
CLIENT_PORT = 2379
PEER_PORT = 2380
PROBE_TIMEOUT = 0.5          # one leader/health probe of one node
KILL_WAIT = 5.0              # bound on reaping a SIGKILLed node
ADMIN_TIMEOUT = 7.0          # one members API request (a change waits for its commit)


@dataclasses.dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    host: str
    gid: int
    scheme: str = "http"        # https with --tls, on both ports

    @property
    def client_url(self) -> str:
        return f"{self.scheme}://{self.host}:{CLIENT_PORT}"

    @property
    def peer_url(self) -> str:
        return f"{self.scheme}://{self.host}:{PEER_PORT}"


def node_specs(count: int, scheme: str = "http") -> tuple[NodeSpec, ...]:
    return tuple(NodeSpec(f"n{i}", f"127.0.0.{10 + i}", GID_BASE + i, scheme)
                 for i in range(1, count + 1))


def initial_cluster(members: Sequence[tuple[str, str]]) -> str:
    """--initial-cluster from (name, peer URL) pairs: "n1=http://...,n2=http://..."."""
    return ",".join(f"{name}={url}" for name, url in members)


def node_argv(template: str, spec: NodeSpec, specs: Sequence[NodeSpec], data_dir: Path,
              token: str, *, cluster: str | None = None, state: str = "new",
              tls: TlsFiles | None = None) -> list[str]:
    """The template split like a shell would, then each word's placeholders filled in.

    A fresh cluster starts with every node in --initial-cluster and state "new"; a member
    added at run time (the members nemesis) joins with `cluster` (the current members and
    itself) and state "existing".
    """
    values = {
        "name": spec.name, "data_dir": str(data_dir), "client_url": spec.client_url,
        "peer_url": spec.peer_url, "token": token, "python": sys.executable,
        "initial_cluster": cluster if cluster is not None
                           else initial_cluster([(s.name, s.peer_url) for s in specs]),
        "initial_cluster_state": state,
        "host": spec.host, "client_port": CLIENT_PORT, "peer_port": PEER_PORT,
        "ca_file": tls.ca if tls else "", "cert_file": tls.server_cert if tls else "",
        "key_file": tls.server_key if tls else "",
    }
    return [word.format(**values) for word in shlex.split(template)]


class Node:
    """One node's process. `proc` is None before the first start."""

    def __init__(self, spec: NodeSpec, argv: list[str], log_path: Path, cwd: Path,
                 data_dir: Path) -> None:
        self.spec = spec
        self.argv = argv           # replaced when the node rejoins as a new member
        self.data_dir = data_dir
        self.log_path = log_path
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.paused = False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.alive(), f"{self.spec.name} is already running"
        with open(self.log_path, "ab") as log:
            log.write(f"=== chaos: start {self.spec.name} at {time.time():.3f}\n".encode())
            log.flush()
            # a new session: a Ctrl-C on the terminal is for the runner, not for the nodes
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.cwd, start_new_session=True, group=self.spec.gid, extra_groups=[])
        self.paused = False

    def signal(self, signum: int) -> bool:
        """Send `signum` to our child if it still runs; False when it had already ended."""
        if not self.alive():
            return False
        os.kill(self.proc.pid, signum)
        return True

    def pause(self) -> bool:
        self.paused = self.signal(signal.SIGSTOP) or self.paused
        return self.paused

    def resume(self) -> None:
        if self.paused:
            self.signal(signal.SIGCONT)
            self.paused = False

    async def kill(self) -> None:
        """SIGKILL and reap (a stopped process dies of SIGKILL too)."""
        if self.signal(signal.SIGKILL):
            with trio.move_on_after(KILL_WAIT):
                while self.proc.poll() is None:
                    await trio.sleep(0.01)
        self.paused = False

    def kill_now(self) -> None:
        """The synchronous last resort used while unwinding: no waiting beyond a short reap."""
        if self.signal(signal.SIGKILL):
            try:
                self.proc.wait(timeout=KILL_WAIT)
            except subprocess.TimeoutExpired:
                pass


class Cluster:
    """All nodes, plus one single-endpoint probe client per node. `tls`: the run's
    certificates (the specs' URLs are then https)."""

    def __init__(self, specs: Sequence[NodeSpec], template: str, out: Path, token: str,
                 tls: TlsFiles | None = None) -> None:
        data = out / "data"
        data.mkdir(parents=True, exist_ok=True)
        self.specs = tuple(specs)
        self._template, self._token, self._tls = template, token, tls
        #: what every client of the run talks TLS with (None: plain http)
        self.ssl_context: ssl.SSLContext | None = tls.client_context() if tls else None
        self.nodes = [Node(s, node_argv(template, s, specs, data / s.name, token, tls=tls),
                           out / f"{s.name}.log", data, data / s.name) for s in specs]
        self._probes = {s.name: self.client(s, PROBE_TIMEOUT) for s in specs}
        self._admins = {s.name: self.client(s, ADMIN_TIMEOUT) for s in specs}

    def client(self, spec: NodeSpec, timeout: float) -> Client:
        """A client of that node alone (never failing over: see workload.py)."""
        return Client([spec.client_url], timeout=timeout, ssl_context=self.ssl_context)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.spec.name == name)

    def admin(self, name: str) -> Client:
        """A client of node `name` alone, for the members API (longer timeout than probes)."""
        return self._admins[name]

    def set_join_argv(self, name: str, cluster: str) -> None:
        """From now on `name` starts as a member joining the running cluster `cluster`."""
        node = self.node(name)
        node.argv = node_argv(self._template, node.spec, self.specs, node.data_dir,
                              self._token, cluster=cluster, state="existing", tls=self._tls)

    def start_all(self) -> None:
        for node in self.nodes:
            if not node.alive():
                node.start()

    def kill_all_now(self) -> None:
        for node in self.nodes:
            node.kill_now()

    async def aclose(self) -> None:
        for probe in (*self._probes.values(), *self._admins.values()):
            await probe.aclose()

    async def leader_view(self, name: str) -> str | None:
        """Whom node `name` calls leader (None: down, paused, or no leader)."""
        with trio.move_on_after(PROBE_TIMEOUT * 2):
            try:
                return (await self._probes[name].leader()).name or None
            except ClientError:
                return None
        return None

    async def views(self) -> dict[str, str | None]:
        views: dict[str, str | None] = {}

        async def ask(name: str) -> None:
            views[name] = await self.leader_view(name)

        async with trio.open_nursery() as nursery:
            for spec in self.specs:
                nursery.start_soon(ask, spec.name)
        return views

    async def leader(self) -> str | None:
        """The leader a majority of nodes agree on (None when no majority agrees).

        A deposed leader cut off from the rest may still believe in itself; the majority's
        view is the one that elects, so it is the one that counts.
        """
        named = Counter(v for v in (await self.views()).values() if v)
        if named:
            name, votes = named.most_common(1)[0]
            if votes > len(self.specs) // 2:
                return name
        return None

    async def wait_agreed(self, timeout: float) -> bool:
        """Every node up and naming the same leader, within `timeout` seconds."""
        with trio.move_on_after(timeout):
            while True:
                views = await self.views()
                if None not in views.values() and len(set(views.values())) == 1:
                    return True
                await trio.sleep(0.2)
        return False
