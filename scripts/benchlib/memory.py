"""Memory, disk and restart time with many keys (100k by default).

For each cluster size and server: a fresh cluster, every key written once (256-byte
values, through the leader, 64 connections), then RSS per node and the data dir per node.
Then restarts, in alternating rounds over the servers: SIGTERM every node, start them all
again on the same data dirs, and time from the first spawn until every node serves a
quorum read of the last key written (so its data is back and a leader is elected).
"""

from __future__ import annotations

from pathlib import Path

from . import cells
from .progress import Progress
from .servers import Cluster

__all__ = ["LOAD_PREFIX", "count_cells", "measure"]

LOAD_PREFIX = "/v2/keys/load/k"
LOAD_CONNECTIONS = 64


def count_cells(sizes: list[int], servers: list[str], rounds: int) -> int:
    return len(sizes) * len(servers) * (1 + rounds)


def _load(server: str, size: int, keys: int, workdir: Path, procs: int,
          progress: Progress, tls) -> tuple[dict, Cluster]:
    progress.cell(f"{server} {size}n: writing {keys:,} keys")
    cluster = Cluster(server, size, workdir / f"mem-{server}-{size}n", tls).start()
    try:
        rss_before = [round(n.rss_mb(), 1) for n in cluster.nodes]
        got = cells.preload(cluster, procs, progress.show, total=keys, prefix=LOAD_PREFIX,
                            connections=LOAD_CONNECTIONS)
        disks = [n.disk_mb() for n in cluster.nodes]
        row = {"server": server, "nodes": size, "keys": keys,
               "load_seconds": round(got.seconds, 2),
               "load_throughput": round(got.ops / got.seconds, 1),
               "load_errors": sum(n for k, n in got.counts.items()
                                  if not k.startswith("2")),
               "rss_before_mb": rss_before,
               "rss_mb": [round(n.rss_mb(), 1) for n in cluster.nodes],
               "data_dir_mb": [round(a, 1) for a, _ in disks],
               "data_dir_apparent_mb": [round(b, 1) for _, b in disks],
               "restart_s": []}
    finally:
        cluster.stop()
    return row, cluster


def _restart(cluster: Cluster, keys: int) -> float:
    started = cluster.spawn()
    try:
        path = f"{LOAD_PREFIX}{keys - 1}?quorum=true"
        when = cluster.wait(lambda node: cluster.get(node, path)[0] == 200)
    finally:
        cluster.stop()
    return round(max(when.values()) - started, 3)


def measure(sizes: list[int], servers: list[str], keys: int, rounds: int, workdir: Path,
            procs: int, progress: Progress, tls=None) -> list[dict]:
    """`tls`: the run's certificates (bench --tls), or None."""
    rows = []
    for size in sizes:
        loaded = [_load(server, size, keys, workdir, procs, progress, tls) for server in servers]
        for row, _ in loaded:
            progress.line(f"  {row['server']} {size}n: {keys:,} keys at "
                          f"{row['load_throughput']:,.0f}/s, RSS {row['rss_mb']} MiB, "
                          f"data dir {row['data_dir_mb']} MiB")
        for r in range(1, rounds + 1):
            for row, cluster in loaded:
                progress.cell(f"{row['server']} {size}n: restart with {keys:,} keys r{r}")
                row["restart_s"].append(_restart(cluster, keys))
        for row, _ in loaded:
            progress.line(f"  {row['server']} {size}n: restart {row['restart_s']} s")
            rows.append(row)
    return rows
