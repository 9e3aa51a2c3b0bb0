"""The wrk driver (--driver wrk): the key workloads from a C load generator.

wrk uses less CPU per request than any Python generator, so on this 2-core machine it
shows how much of a difference the generator makes (docs/bench.md). It has no warm-up
and no watch or CAS workload; its latencies come from its own histogram (bench.d/keys.lua).
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from . import runner
from .servers import Node
from .workloads import WRITE_SHARE

__all__ = ["WrkError", "run"]

SCRIPT = Path(__file__).resolve().parent.parent / "bench.d" / "keys.lua"


class WrkError(Exception):
    """wrk is missing, failed, or printed no summary."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(workload: str, node: Node, connections: int, window: runner.Window,
        server_pids: Sequence[int]) -> runner.Measured:
    if workload not in WRITE_SHARE:
        raise WrkError(f"wrk runs {', '.join(WRITE_SHARE)}, not {workload}")
    if shutil.which("wrk") is None:
        raise WrkError("wrk is not installed (apt-get install -y wrk)")
    seconds = max(1, round(window.duration))
    argv = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
            "--timeout", "10s", "-s", str(SCRIPT), node.url, "--", workload]
    cpu_before = _children_cpu()
    started = time.monotonic()
    before = runner.sample(server_pids, [])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=seconds + 60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    after = runner.sample(server_pids, [])
    wall = time.monotonic() - started
    generator = _children_cpu() - cpu_before
    line = next((x for x in out.splitlines() if x.startswith("{")), None)
    if proc.returncode != 0 or line is None:
        raise WrkError(f"wrk failed ({proc.returncode}): {err.strip() or out.strip()}")
    got = json.loads(line)
    counts = Counter({"2xx/3xx": got["requests"] - got["status_errors"]})
    if got["status_errors"]:
        counts["error: non-2xx"] = got["status_errors"]
    if got["socket_errors"]:
        counts["error: socket"] = got["socket_errors"]
    cpu = runner.cpu_shares(before, (after[0], after[1] + generator, after[2]), wall)
    latency = {k: round(got[k] / 1000, 3) for k in ("p50", "p99", "p999", "mean")}
    return runner.Measured(got["requests"], latency, counts, got["seconds"], cpu)
