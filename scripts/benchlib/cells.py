"""The workloads by name: what to prepare on the server and how to build each process's part.

A cell is one (server, nodes, target, workload, connections, round). `measure()` runs it
and returns one JSON-ready row.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass

from . import runner, wrk
from .clientjob import ClientJob
from .servers import Cluster, Node
from .watch import MAX_EVENTS, Watch
from .workloads import KEYS, PREFIX, WRITE_SHARE, Cas, KeyRequests, Load, value_of

__all__ = ["KEYS", "WORKLOADS", "Cell", "measure", "preload", "put"]

WORKLOADS = ("write", "read", "read-quorum", "mixed", "cas", "watch-100", "watch-1000")
WATCH_DRAIN = 1.0               # least seconds the watchers get to catch up after the writes


@dataclass(frozen=True, slots=True)
class Cell:
    server: str
    nodes: int
    target: str                 # "leader" | "follower"
    workload: str
    connections: int
    round: int

    def label(self) -> str:
        return (f"{self.server} {self.nodes}n {self.target} {self.workload} "
                f"c={self.connections} r{self.round}")


def put(node: Node, path: str, value: bytes, context=None) -> dict:
    """One PUT through urllib (preparation only, never measured); the JSON reply."""
    body = urllib.parse.urlencode({"value": value}).encode()
    request = urllib.request.Request(node.url + path, data=body, method="PUT", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=10, context=context) as reply:
        return json.loads(reply.read())


def _workload(cell: Cell, node: Node, procs: int, window: runner.Window, context=None):
    """(make(process) -> Workload, slots, drain) for the cell's workload."""
    host = f"127.0.0.1:{node.client_port}"
    name, conns = cell.workload, cell.connections
    if name in WRITE_SHARE:
        return (lambda p: KeyRequests(host, write_share=WRITE_SHARE[name],
                                      quorum=name == "read-quorum", seed=p + 1),
                conns, 0.0)
    if name == "cas":
        put(node, Cas.KEY, value_of("c-init"), context)
        return (lambda p: Cas(host)), conns, 0.0
    if name.startswith("watch-"):
        watchers = int(name.split("-")[1])
        base = put(node, PREFIX + "/watch", value_of("x-init"), context)["node"]["modifiedIndex"]
        acks = mp.get_context("fork").RawArray("d", MAX_EVENTS)
        last = mp.get_context("fork").RawArray("q", procs)
        stopped = mp.get_context("fork").RawArray("b", conns)
        return (lambda p: Watch(host, watchers=watchers, base=base, acks=acks, last=last,
                                stopped=stopped, process=p),
                watchers + conns, max(WATCH_DRAIN, window.duration))
    raise ValueError(f"unknown workload {name!r}")


def measure(cell: Cell, cluster: Cluster, window: runner.Window, procs: int,
            show, driver: str = "raw") -> dict:
    """Run one cell with the epoll engine ("raw"), trionode.client ("client") or wrk."""
    node = cluster.target(cell.target)
    if driver == "wrk":
        return _row(cell, wrk.run(cell.workload, node, cell.connections, window, cluster.pids()))
    if driver == "client":
        factory = lambda p, mine: ClientJob(node.url, cell.workload, mine, seed=p + 1,  # noqa: E731
                                            tls=cluster.tls)
        got = runner.run(factory, cell.connections, procs, window, cluster.pids(), show)
        return _row(cell, got)
    make, slots, drain = _workload(cell, node, procs, window, cluster.context)
    factory = lambda p, mine: runner.EngineJob(  # noqa: E731
        make(p), mine, [node.address], cluster.tls)
    got = runner.run(factory, slots, procs,
                     runner.Window(window.warmup, window.duration, drain), cluster.pids(), show)
    return _row(cell, got, window.duration)


def _row(cell: Cell, got: runner.Measured, write_seconds: float = 0.0) -> dict:
    counts = dict(sorted(got.counts.items()))
    ok_statuses = {"200", "201", "412"} if cell.workload == "cas" else {"200", "201"}
    errors = sum(n for k, n in counts.items()
                 if (k.isdigit() and k not in ok_statuses) or k.startswith(("error", "read ", "watch ", "write ")))
    row = {**asdict(cell), "seconds": round(got.seconds, 3), "ops": got.ops,
           "throughput": round(got.ops / got.seconds, 1), "latency_ms": got.latency_ms,
           "errors": errors, "counts": counts, "cpu_pct": got.cpu}
    if cell.workload.startswith("watch-"):     # events/s are over writes + catching up
        row["writes_per_s"] = round(counts.get("writes", 0) / write_seconds, 1)
    return row


def preload(cluster: Cluster, procs: int, show, total: int = KEYS,
            prefix: str = PREFIX + "/k", connections: int = 64) -> runner.Measured:
    """Write keys prefix0 .. prefix{total-1} once each through the leader."""
    node = cluster.target("leader")
    host = f"127.0.0.1:{node.client_port}"
    factory = lambda p, mine: runner.EngineJob(  # noqa: E731
        Load(host, total, connections, mine, prefix), mine, [node.address], cluster.tls)
    return runner.run(factory, connections, procs, runner.Window(0.0, 3600.0),
                      cluster.pids(), show)
