"""The performance targets (trionode issue 13) checked against a run: one line each, pass or fail.

Every target is a trionode/etcd comparison from the same run, so it means something only on a
quiet machine (the report prints the load average beside it). A target whose cells the run
did not measure is shown as not measured, never as passed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

__all__ = ["Target", "check", "table"]


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    measured: str = "not measured"
    passed: bool | None = None  # None: the run has no cell for it


def _cell(summary: list[dict], nodes: int, workload: str, connections: int) -> dict | None:
    for entry in summary:
        if (entry["nodes"], entry["target"], entry["workload"], entry["connections"]) == (
                nodes, "leader", workload, connections) and "ratio" in entry:
            return entry
    return None


def _throughput(summary: list[dict], name: str, nodes: int, workload: str, conns: int,
                floor: float, p50_within: float | None = None) -> Target:
    goal = f">= {floor}x" + (f", p50 within {p50_within:g}x" if p50_within else "")
    cell = _cell(summary, nodes, workload, conns)
    if cell is None or cell["ratio"]["throughput"] is None:
        return Target(name, goal)
    ratio = cell["ratio"]["throughput"]
    t, e = cell["trionode"], cell["etcd"]
    measured = f"{ratio:.2f}x ({t['throughput']:,.0f} vs {e['throughput']:,.0f}/s)"
    passed = ratio >= floor
    if p50_within is not None:
        measured += f", p50 {t['p50']:.2f} vs {e['p50']:.2f} ms"
        passed = passed and t["p50"] <= p50_within * e["p50"]
    return Target(name, goal, measured, passed)


def _missed_share(side: dict) -> float:
    total = side.get("missed", 0) + side.get("events", 0)
    return side.get("missed", 0) / total if total else 0.0


def _watch(summary: list[dict], watchers: int) -> Target:
    name, goal = f"watch, 1 member, {watchers} watchers, 1 writer", "missed <= etcd's, p99 within 3x"
    cell = _cell(summary, 1, f"watch-{watchers}", 1)
    if cell is None:
        return Target(name, goal)
    t, e = cell["trionode"], cell["etcd"]
    missed_t, missed_e = _missed_share(t), _missed_share(e)
    measured = f"missed {missed_t:.0%} vs {missed_e:.0%}, p99 {t['p99']:.1f} vs {e['p99']:.1f} ms"
    return Target(name, goal, measured, missed_t <= missed_e and t["p99"] <= 3 * e["p99"])


def _startup(rows: list[dict]) -> Target:
    name, goal = "fresh 3 members, spawn to first write", "<= etcd + 0.5 s (medians)"
    times = {row["server"]: statistics.median(row["first_write_s"]) for row in rows
             if row["nodes"] == 3 and row["first_write_s"]}
    if not {"trionode", "etcd"} <= times.keys():
        return Target(name, goal)
    measured = f"{times['trionode']:.2f} vs {times['etcd']:.2f} s"
    return Target(name, goal, measured, times["trionode"] <= times["etcd"] + 0.5)


def _memory(rows: list[dict]) -> Target:
    name, goal = "RSS with the keys loaded, per node", "<= 0.5x etcd's"
    rss = {row["server"]: statistics.median(row["rss_mb"]) for row in rows if row["rss_mb"]}
    if not {"trionode", "etcd"} <= rss.keys():
        return Target(name, goal)
    ratio = rss["trionode"] / rss["etcd"]
    return Target(name, goal, f"{ratio:.2f}x ({rss['trionode']:.0f} vs {rss['etcd']:.0f} MiB)", ratio <= 0.5)


def check(summary: list[dict], startup: list[dict], memory: list[dict]) -> list[Target]:
    return [
        _throughput(summary, "3 members, writes, 1 connection", 3, "write", 1, 0.5, p50_within=2),
        _throughput(summary, "3 members, writes, 64 connections", 3, "write", 64, 0.75),
        _throughput(summary, "3 members, reads, 64 connections", 3, "read", 64, 0.6),
        _throughput(summary, "1 member, writes, 64 connections", 1, "write", 64, 0.7),
        _watch(summary, 100),
        _watch(summary, 1000),
        _startup(startup),
        _memory(memory),
    ]


def table(targets: list[Target], loadavg: list[float] | None) -> str:
    load = f" (load average at the start {loadavg[0]:.2f})" if loadavg else ""
    lines = [f"targets, trionode vs etcd in this run{load}:"]
    for target in targets:
        verdict = {True: "PASS", False: "FAIL", None: "-"}[target.passed]
        lines.append(f"  {verdict:4}  {target.name:42} {target.measured:48} goal {target.goal}")
    return "\n".join(lines)
