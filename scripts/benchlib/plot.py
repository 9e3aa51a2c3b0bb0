"""PNG plots (--plot DIR): per workload, throughput and latency percentiles by connections.

matplotlib is an optional extra (pip install -e '.[bench]'): only --plot needs it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["check", "write"]

STYLES = {"trionode": "-", "etcd": "--"}
PERCENTILES = (("p50", "o"), ("p99", "s"), ("p999", "^"))


def check() -> None:
    if importlib.util.find_spec("matplotlib") is None:
        raise SystemExit("--plot needs matplotlib: pip install -e '.[bench]'")


def _series(summary: list[dict], workload: str) -> dict[tuple, list[dict]]:
    """(nodes, target) -> entries by connections, for one workload."""
    series: dict[tuple, list[dict]] = {}
    for entry in summary:
        if entry["workload"] == workload:
            series.setdefault((entry["nodes"], entry["target"]), []).append(entry)
    for entries in series.values():
        entries.sort(key=lambda e: e["connections"])
    return series


def _draw(ax_ops, ax_lat, series: dict, servers: list[str]) -> None:
    for index, ((nodes, target), entries) in enumerate(sorted(series.items())):
        color = f"C{index}"
        for server in servers:
            points = [(e["connections"], e[server]) for e in entries if server in e]
            if not points:
                continue
            conns = [c for c, _ in points]
            label = f"{server} {nodes}n {target}"
            ax_ops.plot(conns, [s["throughput"] for _, s in points], STYLES[server],
                        color=color, marker="o", label=label)
            for p, marker in PERCENTILES:
                ax_lat.plot(conns, [s[p] for _, s in points], STYLES[server], color=color,
                            marker=marker, label=f"{label} {p}")


def write(result: dict, directory: Path) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    servers = [s for s in ("trionode", "etcd") if s in result["meta"]["versions"]]
    paths = []
    for workload in dict.fromkeys(e["workload"] for e in result["summary"]):
        fig, (ax_ops, ax_lat) = plt.subplots(1, 2, figsize=(13, 4.8))
        _draw(ax_ops, ax_lat, _series(result["summary"], workload), servers)
        for ax in (ax_ops, ax_lat):
            ax.set_xscale("log", base=2)
            ax.set_xlabel("connections" + (" (writers)" if workload.startswith("watch") else ""))
            ax.grid(True, alpha=0.3)
        ax_ops.set_ylabel("notifications/s" if workload.startswith("watch") else "requests/s")
        ax_ops.set_title(f"{workload}: throughput (median of rounds)")
        ax_ops.legend(fontsize=7)
        ax_lat.set_yscale("log")
        ax_lat.set_ylabel("ms")
        ax_lat.set_title(f"{workload}: latency p50 (o) p99 (s) p99.9 (^)")
        fig.tight_layout()
        path = directory / f"{workload}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths
