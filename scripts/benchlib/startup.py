"""Startup: a fresh cluster, from spawning its processes to the first acknowledged write.

For each cluster size, in alternating rounds over the servers: new data dirs, every node
spawned at once, then a PUT to the first node retried every 10 ms until it is answered
2xx (a follower forwards it, so this waits for an election and, on trionode, for the
member's publish, after which it serves clients). The time includes interpreter start-up:
that is what a user waits for.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

from .progress import Progress
from .servers import PROBE_TIMEOUT, START_TIMEOUT, Cluster, ClusterError

__all__ = ["count_cells", "measure"]

RETRY_S = 0.01


def count_cells(sizes: list[int], servers: list[str], rounds: int) -> int:
    return len(sizes) * len(servers) * rounds


def _first_write(cluster: Cluster) -> float:
    started = cluster.spawn()
    url = cluster.nodes[0].url + "/v2/keys/bench/first"
    deadline = started + START_TIMEOUT
    try:
        while time.monotonic() < deadline:
            request = urllib.request.Request(url, b"value=1", method="PUT", headers={
                "Content-Type": "application/x-www-form-urlencoded"})
            try:
                with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT, context=cluster.context) as reply:
                    if reply.status // 100 == 2:
                        return round(time.monotonic() - started, 3)
            except (urllib.error.HTTPError, OSError, ValueError):
                pass
            time.sleep(RETRY_S)
        raise ClusterError(f"{cluster.server}: no write acknowledged within {START_TIMEOUT:.0f} s; "
                           f"logs in {cluster.workdir}")
    finally:
        cluster.stop()


def measure(sizes: list[int], servers: list[str], rounds: int, workdir: Path,
            progress: Progress, tls=None) -> list[dict]:
    """One row per size and server: `first_write_s`, one value per round."""
    rows = {(size, server): {"server": server, "nodes": size, "first_write_s": []}
            for size in sizes for server in servers}
    for size in sizes:
        for r in range(1, rounds + 1):
            for server in servers:
                progress.cell(f"{server} {size}n: fresh start to first write r{r}")
                where = workdir / f"startup-{server}-{size}n-r{r}"
                cluster = Cluster(server, size, where, tls)
                rows[size, server]["first_write_s"].append(_first_write(cluster))
                shutil.rmtree(where, ignore_errors=True)
        for server in servers:
            progress.line(f"  {server} {size}n: first write after {rows[size, server]['first_write_s']} s")
    return list(rows.values())
