"""The grid: cluster sizes x targets x workloads x connections x rounds x servers.

Both servers' clusters of one size run side by side, and each cell is measured in
alternating rounds (trionode, etcd, trionode, etcd ...): on a noisy 2-core machine a
burst of someone else's load then hits both servers' rounds rather than one server's
whole run, and the medians over rounds compare like with like. The cluster that is not
being measured idles meanwhile; its share of the CPU shows up as "other".
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import cells
from .engine import EngineError
from .progress import Progress
from .runner import RunError, Window
from .servers import Cluster, cpu_seconds
from .wrk import WrkError

__all__ = ["Options", "count_cells", "procs_for", "run", "settle"]

SETTLE_TIMEOUT = 10.0
SETTLE_SAMPLE = 0.25
SETTLE_BUSY = 0.1               # CPU seconds per second (all nodes together) counted as idle


@dataclass(frozen=True, slots=True)
class Options:
    servers: list[str]
    sizes: list[int]
    targets: list[str]
    workloads: list[str]
    connections: list[int]
    window: Window
    rounds: int
    procs: int                  # generator processes; 0 = by connection count
    driver: str
    tls: object = None          # tlsfiles.TlsFiles with --tls: https on both ports


def _combos(opts: Options, size: int) -> list[tuple[str, str, int]]:
    targets = [t for t in opts.targets if size > 1 or t == "leader"]
    return [(t, w, c) for t in targets for w in opts.workloads for c in opts.connections]


def count_cells(opts: Options) -> int:
    per_size = [len(_combos(opts, s)) * opts.rounds * len(opts.servers) for s in opts.sizes]
    return sum(per_size) + len(opts.sizes) * len(opts.servers)       # + the preloads


def procs_for(opts: Options, connections: int, workload: str) -> int:
    """Generator processes: one unless there are many connections to serve (see docs)."""
    if opts.procs:
        return opts.procs
    slots = connections + (int(workload.split("-")[1]) if workload.startswith("watch-") else 0)
    return 1 if slots <= 64 else 2


def settle(cluster: Cluster, timeout: float = SETTLE_TIMEOUT) -> None:
    """Wait (bounded) until the nodes are nearly idle: a cell must not pay for the backlog
    of the one before it (watchers of a flooded key, a snapshot being written)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(pid) for pid in cluster.pids())
        time.sleep(SETTLE_SAMPLE)
        if sum(cpu_seconds(pid) for pid in cluster.pids()) - before < SETTLE_BUSY * SETTLE_SAMPLE:
            return


def _cell(opts: Options, cluster: Cluster, cell: cells.Cell, progress: Progress) -> dict:
    progress.cell(cell.label())
    settle(cluster)
    procs = procs_for(opts, cell.connections, cell.workload)
    try:
        row = cells.measure(cell, cluster, opts.window, procs, progress.show, opts.driver)
    except (RunError, EngineError, WrkError, ValueError) as exc:
        progress.line(f"  {cell.label()}: FAILED: {exc}")
        return {**asdict(cell), "failed": str(exc)}
    row["procs"] = procs
    return row


def _line(rows: list[dict]) -> str:
    parts = []
    for row in rows:
        if "failed" in row:
            parts.append(f"{row['server']} r{row['round']} failed")
            continue
        p99 = row["latency_ms"]["p99"]
        parts.append(f"{row['server']} {row['throughput']:,.0f}/s p99 "
                     f"{'-' if p99 is None else f'{p99:.1f}'} ms")
    first = rows[0]
    return (f"  {first['nodes']}n {first['target']:8} {first['workload']:11} "
            f"c={first['connections']:<4} " + " | ".join(parts))


def run(opts: Options, workdir: Path, progress: Progress, rows: list[dict]) -> None:
    """Append one row per cell to `rows` (kept by the caller if this is interrupted)."""
    for size in opts.sizes:
        clusters: dict[str, Cluster] = {}
        try:
            for server in opts.servers:
                progress.cell(f"{server} {size}n: start, write {cells.KEYS:,} keys")
                clusters[server] = Cluster(server, size, workdir / f"{server}-{size}n",
                                           opts.tls).start()
                cells.preload(clusters[server], 1, progress.show)
            for target, workload, conns in _combos(opts, size):
                done = []
                for r in range(1, opts.rounds + 1):
                    for server in opts.servers:
                        cell = cells.Cell(server, size, target, workload, conns, r)
                        done.append(_cell(opts, clusters[server], cell, progress))
                rows.extend(done)
                progress.line(_line(done))
        finally:
            for cluster in clusters.values():
                cluster.stop()
