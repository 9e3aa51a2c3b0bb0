"""Medians over rounds, trionode/etcd ratios, and the terminal tables."""

from __future__ import annotations

import statistics
from collections import defaultdict

__all__ = ["memory_table", "summarize", "table", "transport"]

GROUP = ("nodes", "target", "workload", "connections")


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def _side(rows: list[dict]) -> dict:
    """One server's cell: medians over its rounds, sums of what must be zero."""
    side = {"rounds": len(rows),
            "throughput": _median([r["throughput"] for r in rows]),
            "errors": sum(r["errors"] for r in rows)}
    for p in ("p50", "p99", "p999"):
        side[p] = _median([r["latency_ms"][p] for r in rows])
    side["cpu_pct"] = {k: _median([r["cpu_pct"].get(k) for r in rows])
                       for k in ("servers", "generator", "other")}
    counts = [r["counts"] for r in rows]
    if rows[0]["workload"] == "cas":
        side["cas_ok_share"] = _median([c.get("cas_ok", 0) / max(c.get("cas_ok", 0) + c.get("cas_failed", 0), 1)
                                        for c in counts])
    if rows[0]["workload"].startswith("watch-"):
        side["writes_per_s"] = _median([r["writes_per_s"] for r in rows])
        side["missed"] = sum(c.get("missed", 0) for c in counts)
        side["events"] = sum(c.get("events", 0) for c in counts)
    return side


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def summarize(rows: list[dict], servers: list[str]) -> list[dict]:
    groups: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if "failed" not in row:
            groups[tuple(row[k] for k in GROUP)][row["server"]].append(row)
    summary = []
    for key, by_server in groups.items():
        entry = dict(zip(GROUP, key))
        for server in servers:
            if by_server.get(server):
                entry[server] = _side(by_server[server])
        if "trionode" in entry and "etcd" in entry:
            t, e = entry["trionode"], entry["etcd"]
            entry["ratio"] = {"throughput": _ratio(t["throughput"], e["throughput"]),
                              "p99": _ratio(t["p99"], e["p99"])}
        summary.append(entry)
    return summary


def transport(tls: bool) -> str:
    """One line saying how the servers were reached (printed above the table)."""
    if not tls:
        return "transport: plain http on both ports"
    return ("transport: TLS on both ports of both servers (https client and peer URLs, the "
            "same certificates); client certificates required on the peer port only, as wrk "
            "cannot present one")


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _note(side: dict) -> str:
    notes = []
    if "cas_ok_share" in side:
        notes.append(f"ok {side['cas_ok_share'] * 100:.0f}%")
    if "missed" in side:
        notes.append(f"wr/s {_num(side['writes_per_s'])} missed {side['missed']}")
    if side["errors"]:
        notes.append(f"ERR {side['errors']}")
    notes.append(f"gen {_num(side['cpu_pct']['generator'])}%")
    return " ".join(notes)


def table(summary: list[dict], servers: list[str]) -> str:
    head = f"{'nodes':>5} {'target':8} {'workload':11} {'conns':>5}"
    for server in servers:
        head += f" | {server + ' ops/s':>14} {'p50':>7} {'p99':>7} {'p99.9':>7}"
    both = "trionode" in servers and "etcd" in servers
    if both:
        head += " | t/e ops  t/e p99"
    lines = [head + " | notes (trionode; etcd)", "-" * (len(head) + 24)]
    for entry in summary:
        line = f"{entry['nodes']:>5} {entry['target']:8} {entry['workload']:11} {entry['connections']:>5}"
        notes = []
        for server in servers:
            side = entry.get(server)
            if side is None:
                line += f" | {'-':>14} {'-':>7} {'-':>7} {'-':>7}"
                continue
            line += (f" | {_num(side['throughput']):>14} {_num(side['p50'], 2):>7}"
                     f" {_num(side['p99'], 2):>7} {_num(side['p999'], 2):>7}")
            notes.append(_note(side))
        if both:
            ratio = entry.get("ratio", {})
            line += f" | {_num(ratio.get('throughput'), 2):>7} {_num(ratio.get('p99'), 2):>8}"
        lines.append(line + " | " + "; ".join(notes))
    lines.append("latencies in ms (median over rounds of each round's percentile); "
                 "t/e = trionode / etcd")
    return "\n".join(lines)


def startup_table(rows: list[dict]) -> str:
    """Fresh cluster, spawn to the first acknowledged write: median and every round."""
    lines = [f"{'server':9} {'nodes':>5}   fresh start to first acknowledged write, s: median (each round)"]
    for row in rows:
        runs = row["first_write_s"]
        lines.append(f"{row['server']:9} {row['nodes']:>5} {_num(_median(runs), 2):>8} "
                     f"({' '.join(_num(v, 2) for v in runs)})")
    return "\n".join(lines)


def memory_table(rows: list[dict]) -> str:
    lines = [f"{'server':9} {'nodes':>5} {'keys':>7} {'load/s':>8} {'RSS MiB per node':>24} "
             f"{'data dir MiB per node (apparent)':>34} {'restart s (median, all)':>26}"]
    for row in rows:
        rss = " ".join(_num(v, 1) for v in row["rss_mb"])
        disk = " ".join(f"{_num(a, 1)}({_num(b, 1)})"
                        for a, b in zip(row["data_dir_mb"], row["data_dir_apparent_mb"]))
        restarts = row["restart_s"]
        all_runs = " ".join(_num(v, 2) for v in restarts)
        lines.append(f"{row['server']:9} {row['nodes']:>5} {row['keys']:>7} "
                     f"{_num(row['load_throughput']):>8} {rss:>24} {disk:>34} "
                     f"{_num(_median(restarts), 2):>6} ({all_runs})")
    return "\n".join(lines)
