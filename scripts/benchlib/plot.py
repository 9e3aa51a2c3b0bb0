"""PNG plots (--plot DIR): per workload, throughput and latency percentiles by connections.

matplotlib is an optional extra (pip install -e '.[bench]'): only --plot needs it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["check", "write"]

STYLES = {"trionode": "-", "etcd": "--"}
PERCENTILES = {"p50": "p50", "p99": "p99", "p999": "p99.9"}


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


def _draw(axes: dict, series: dict, servers: list[str]) -> None:
    """Colour: cluster size and target; line style: server."""
    for index, ((nodes, target), entries) in enumerate(sorted(series.items())):
        for server in servers:
            points = [(e["connections"], e[server]) for e in entries if server in e]
            if not points:
                continue
            conns = [c for c, _ in points]
            for field, ax in axes.items():
                ax.plot(conns, [side[field] for _, side in points], STYLES[server],
                        color=f"C{index}", marker="o", label=f"{server} {nodes}n {target}")


def write(result: dict, directory: Path) -> list[Path]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    servers = [s for s in ("trionode", "etcd") if s in result["meta"]["versions"]]
    paths = []
    for workload in dict.fromkeys(e["workload"] for e in result["summary"]):
        watch = workload.startswith("watch")
        fig, grid = plt.subplots(2, 2, figsize=(11, 7.5))
        axes = dict(zip(("throughput", "p50", "p99", "p999"), grid.flat))
        series = _series(result["summary"], workload)
        _draw(axes, series, servers)
        conns = sorted({e["connections"] for entries in series.values() for e in entries})
        for field, ax in axes.items():
            ax.set_xscale("log", base=2)
            ax.set_xticks(conns, [str(c) for c in conns])
            ax.set_xlabel("writer connections" if watch else "connections")
            ax.grid(True, alpha=0.3)
            if field == "throughput":
                ax.set_title("notifications/s" if watch else "requests/s")
            else:
                ax.set_yscale("log")
                what = "notify latency" if watch else "latency"
                ax.set_title(f"{what} {PERCENTILES[field]} (ms)")
        axes["throughput"].legend(fontsize=7)
        fig.suptitle(f"{workload} (median of rounds; solid trionode, dashed etcd)")
        fig.tight_layout()
        path = directory / f"{workload}.png"
        fig.savefig(path, dpi=72)
        plt.close(fig)
        _shrink(path)
        paths.append(path)
    return paths


def _shrink(path: Path) -> None:
    """64-colour palette PNG: a third of the bytes, for plots committed to the repo."""
    from PIL import Image  # matplotlib depends on pillow

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64)
    small.save(path, optimize=True)
