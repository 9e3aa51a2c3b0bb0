"""Options, the machine description, and the outputs (table, JSON, plots)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tlsfiles  # scripts/tlsfiles.py: scripts/ is on the path

from . import memory, plan, report, startup, targets
from .cells import WORKLOADS
from .progress import Progress
from .runner import Window
from .servers import SERVERS, server_version

__all__ = ["main", "parse"]

QUICK = {"duration": 0.6, "warmup": 0.2, "rounds": 1, "connections": "1,16", "keys": 2000}


def _list(kind, allowed=None):
    def convert(text: str) -> list:
        values = [kind(x) for x in text.split(",") if x]
        if allowed is not None and not set(values) <= set(allowed):
            raise argparse.ArgumentTypeError(f"choose from {','.join(map(str, allowed))}")
        return values
    return convert


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench", description=(
        "Stress benchmark of trionode beside etcd: throughput and latency percentiles per "
        "workload, connections, cluster size and target; memory, disk and restart time "
        "with many keys."))
    p.add_argument("--workloads", type=_list(str, WORKLOADS), default=list(WORKLOADS),
                   help=f"comma list of {','.join(WORKLOADS)} (default: all)")
    p.add_argument("--connections", type=_list(int), default=None,
                   help="comma list (default 1,16,64,256); for watch-N the writers' connections")
    p.add_argument("--nodes", type=_list(int, (1, 3, 5)), default=[1, 3],
                   help="cluster sizes (default 1,3)")
    p.add_argument("--targets", type=_list(str, ("leader", "follower")),
                   default=["leader", "follower"],
                   help="where requests go (follower: only for clusters of 3 or more)")
    p.add_argument("--servers", type=_list(str, SERVERS), default=list(SERVERS),
                   help="trionode,etcd (etcd is skipped, with a note, when not installed)")
    p.add_argument("--duration", type=float, default=None, help="measured seconds per cell (5)")
    p.add_argument("--warmup", type=float, default=None, help="unmeasured seconds first (1)")
    p.add_argument("--rounds", type=int, default=None, help="alternating rounds per cell (3)")
    p.add_argument("--procs", type=int, default=0,
                   help="generator processes (default: 1, or 2 above 64 connections)")
    p.add_argument("--driver", choices=("raw", "client", "wrk"), default="raw",
                   help="raw: the epoll engine (all workloads); client: trionode.client; "
                        "wrk: wrk (the last two: write, read, read-quorum, mixed only)")
    p.add_argument("--tls", action="store_true",
                   help="both servers on TLS with the same throwaway certificates: https "
                        "client and peer URLs, a client certificate required on the peer "
                        "port only (wrk cannot present one); the generators talk https")
    p.add_argument("--keys", type=int, default=None,
                   help="keys for the memory/restart phase (100000; 0 skips it)")
    p.add_argument("--startup-rounds", type=int, default=None, metavar="N",
                   help="rounds of the startup phase, fresh cluster to first acknowledged write "
                        "(default: --rounds; 0 skips it)")
    p.add_argument("--json", type=Path, default=Path("bench.json"), metavar="PATH",
                   help="where the results go (default ./bench.json)")
    p.add_argument("--plot", type=Path, metavar="DIR", help="write PNG plots there (matplotlib)")
    p.add_argument("--replot", type=Path, metavar="JSON",
                   help="run nothing: print the tables of a saved JSON (and --plot them)")
    p.add_argument("--quick", action="store_true",
                   help="tiny durations, 1 round, 1 and 16 connections, 2000 keys (smoke test)")
    args = p.parse_args(argv)
    defaults = QUICK if args.quick else {"duration": 5.0, "warmup": 1.0, "rounds": 3,
                                         "connections": "1,16,64,256", "keys": 100_000}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, _list(int)(value) if name == "connections" else value)
    return args


def _machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "python": platform.python_version(), "loadavg": os.getloadavg(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}


def _commit() -> str:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"


def _servers(args: argparse.Namespace) -> list[str]:
    servers = list(dict.fromkeys(args.servers))
    if "etcd" in servers and shutil.which("etcd") is None:
        print("note: etcd is not installed; running trionode only", file=sys.stderr)
        servers.remove("etcd")
    if not servers:
        raise SystemExit("no server to run")
    return servers


def _on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def _outputs(result: dict, servers: list[str], plot_dir: Path | None) -> None:
    print(report.transport(result["meta"].get("tls", False)))
    print(report.table(result["summary"], servers))
    if result.get("startup"):
        print()
        print(report.startup_table(result["startup"]))
    if result["memory"]:
        print()
        print(report.memory_table(result["memory"]))
    checked = targets.check(result["summary"], result.get("startup", []), result["memory"])
    if any(target.passed is not None for target in checked):
        print()
        print(targets.table(checked, result["meta"]["machine"].get("loadavg")))
    if plot_dir is not None and result["summary"]:
        from . import plot
        for path in plot.write(result, plot_dir):
            print(f"plot: {path}")


def _replot(args: argparse.Namespace) -> int:
    result = json.loads(args.replot.read_text())
    if args.plot is not None:
        from . import plot
        plot.check()
    _outputs(result, list(result["meta"]["versions"]), args.plot)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.replot is not None:
        return _replot(args)
    servers = _servers(args)
    opts = plan.Options(servers=servers, sizes=args.nodes, targets=args.targets,
                        workloads=args.workloads, connections=args.connections,
                        window=Window(args.warmup, args.duration), rounds=args.rounds,
                        procs=args.procs, driver=args.driver)
    if args.plot is not None:
        from . import plot  # fails here, before the run, when matplotlib is missing
        plot.check()
    total = plan.count_cells(opts)
    if args.keys and args.driver == "raw":
        total += memory.count_cells(args.nodes, servers, args.rounds)
    startup_rounds = args.rounds if args.startup_rounds is None else args.startup_rounds
    total += startup.count_cells(args.nodes, servers, startup_rounds)
    progress = Progress(total)
    result = {"meta": {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "machine": _machine(),
                       "versions": {s: server_version(s) for s in servers},
                       "commit": _commit(), "argv": sys.argv[1:] if argv is None else argv,
                       "tls": args.tls,
                       "options": {k: (str(v) if isinstance(v, Path) else v)
                                   for k, v in vars(args).items()}},
              "cells": [], "startup": [], "memory": []}
    signal.signal(signal.SIGTERM, _on_sigterm)
    status = 0
    with tempfile.TemporaryDirectory(prefix="trionode-bench-") as tmp:
        if args.tls:        # a fresh CA per run, gone with the run's directory
            opts = dataclasses.replace(opts, tls=tlsfiles.make(Path(tmp) / "tls"))
        progress.line(report.transport(args.tls))
        try:
            plan.run(opts, Path(tmp), progress, result["cells"])
            if startup_rounds:
                result["startup"] = startup.measure(args.nodes, servers, startup_rounds, Path(tmp),
                                                    progress, opts.tls)
            if args.keys and args.driver == "raw":
                result["memory"] = memory.measure(args.nodes, servers, args.keys, args.rounds,
                                                  Path(tmp), args.procs or 1, progress, opts.tls)
        except KeyboardInterrupt:
            progress.line("interrupted: servers stopped; writing what was measured")
            status = 130
    result["meta"]["loadavg_after"] = os.getloadavg()
    result["summary"] = report.summarize(result["cells"], servers)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    _outputs(result, servers, args.plot)
    print(f"\nJSON: {args.json}")
    return status
