"""Local clusters of trionode or etcd on free loopback ports, each node with a fresh data dir.

Only processes started here are ever signalled, by PID: stop() sends SIGTERM, waits, then
SIGKILL. Nodes run in their own session, so a Ctrl-C on the terminal reaches the bench,
which stops them in order, and not the nodes directly.

With `tls` (bench --tls) both ports are https with the same certificates for both servers:
the peer port requires a certificate of the run's CA, the client port requires none (wrk
cannot present one, so no generator does, and no --trusted-ca-file is given either: in etcd
3.4 a CA file alone already requires client certificates).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tlsfiles import TlsFiles

__all__ = ["SERVERS", "CLOCK_TICKS", "Cluster", "ClusterError", "Node", "client_context",
           "cpu_seconds", "server_version"]

SERVERS = ("trionode", "etcd")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
PROBE_TIMEOUT = 1.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ClusterError(Exception):
    """A cluster did not come up (or back) in time."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (0.0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def server_version(server: str) -> str:
    argv = ["etcd", "--version"] if server == "etcd" else [sys.executable, "-m", "trionode", "--version"]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.splitlines()[0].strip() if out.strip() else "unknown"


def client_context(tls: TlsFiles | None) -> ssl.SSLContext | None:
    """What a client of the bench's servers talks TLS with: trust the run's CA, check the
    host; no client certificate (the client ports ask for none). None: plain http."""
    return tls.client_context(client_cert=False) if tls is not None else None


def http_get(url: str, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    """(status, body); (0, b"") when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT, context=context) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (OSError, ValueError):
        return 0, b""


@dataclass
class Node:
    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    proc: subprocess.Popen | None = None
    scheme: str = "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.client_port}"

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.client_port)

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kb / 1024

    def disk_mb(self) -> tuple[float, float]:
        """(allocated, apparent) MiB of the data dir: etcd preallocates its WAL files."""
        allocated = apparent = 0
        for root, _, files in os.walk(self.data_dir):
            for name in files:
                try:
                    st = os.stat(os.path.join(root, name))
                except OSError:
                    continue
                allocated += st.st_blocks * 512
                apparent += st.st_size
        return allocated / 2**20, apparent / 2**20


@dataclass
class Cluster:
    server: str
    size: int
    workdir: Path
    tls: TlsFiles | None = None
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        tag = f"{self.server}-{self.size}n"
        self.token = f"bench-{tag}-{os.getpid()}"
        self.scheme = "https" if self.tls is not None else "http"
        self.context = client_context(self.tls)
        for i in range(self.size):
            name = f"{tag}-{i}"
            self.nodes.append(Node(name, free_port(), free_port(), self.workdir / name,
                                   scheme=self.scheme))

    def get(self, node: Node, path: str) -> tuple[int, bytes]:
        return http_get(node.url + path, self.context)

    def _argv(self, node: Node) -> list[str]:
        peers = ",".join(f"{n.name}={self.scheme}://127.0.0.1:{n.peer_port}" for n in self.nodes)
        peer = f"{self.scheme}://127.0.0.1:{node.peer_port}"
        flags = ["--name", node.name, "--data-dir", str(node.data_dir),
                 "--listen-client-urls", node.url, "--advertise-client-urls", node.url,
                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                 "--initial-cluster", peers, "--initial-cluster-token", self.token]
        if self.tls is not None:
            flags += self.tls.server_flags(client_cert_auth=False)
        if self.server == "etcd":
            return ["etcd", "--enable-v2", *flags]
        return [sys.executable, "-m", "trionode", *flags]

    def spawn(self) -> float:
        """Start every node (data dirs are reused); returns the monotonic start time."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        for node in self.nodes:
            log = open(self.workdir / f"{node.name}.log", "ab")
            try:
                node.proc = subprocess.Popen(self._argv(node), stdout=log, stderr=log,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
            finally:
                log.close()
        return started

    def start(self) -> Cluster:
        """Spawn and wait until every node serves a quorum read (so a leader is known)."""
        self.spawn()
        self.wait(lambda node: self.get(node, "/v2/keys/?quorum=true")[0] == 200)
        return self

    def wait(self, ready, timeout: float = START_TIMEOUT) -> dict[str, float]:
        """Poll until ready(node) holds for every node; returns when each first did."""
        deadline = time.monotonic() + timeout
        when: dict[str, float] = {}
        while time.monotonic() < deadline:
            for node in self.nodes:
                if node.proc.poll() is not None:
                    raise ClusterError(f"{node.name} exited ({node.proc.returncode}); "
                                       f"see {self.workdir / node.name}.log")
                if node.name not in when and ready(node):
                    when[node.name] = time.monotonic()
            if len(when) == len(self.nodes):
                return when
            time.sleep(0.02)
        raise ClusterError(f"{self.server} cluster not ready after {timeout:.0f} s; "
                           f"logs in {self.workdir}")

    def leader(self) -> Node | None:
        for node in self.nodes:
            status, body = self.get(node, "/v2/stats/self")
            if status == 200 and json.loads(body).get("state") == "StateLeader":
                return node
        return None

    def target(self, which: str) -> Node:
        """The leader, or the first node that is not the leader."""
        leader = self.leader()
        if leader is None:
            raise ClusterError(f"{self.server}: no leader")
        if which == "leader":
            return leader
        followers = [n for n in self.nodes if n is not leader]
        if not followers:
            raise ClusterError("a 1-node cluster has no follower")
        return followers[0]

    def pids(self) -> list[int]:
        return [n.proc.pid for n in self.nodes if n.proc is not None]

    def stop(self) -> None:
        """SIGTERM every node we started, then SIGKILL what is left after STOP_TIMEOUT.

        A second Ctrl-C while this runs is ignored: it must not leave nodes behind.
        """
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self._stop()
        finally:
            signal.signal(signal.SIGINT, previous)

    def _stop(self) -> None:
        live = [n.proc for n in self.nodes if n.proc is not None and n.proc.poll() is None]
        for proc in live:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in live:
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for node in self.nodes:
            node.proc = None
