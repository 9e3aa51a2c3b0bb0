"""The bench's target lines: computed from the same-run cells, never passed when unmeasured."""

from __future__ import annotations

from benchlib import targets


def cell(nodes: int, workload: str, conns: int, t: dict, e: dict) -> dict:
    ratio = {"throughput": round(t["throughput"] / e["throughput"], 3), "p99": t["p99"] / e["p99"]}
    return {"nodes": nodes, "target": "leader", "workload": workload, "connections": conns,
            "trionode": t, "etcd": e, "ratio": ratio}


def side(throughput: float, p50: float = 1.0, p99: float = 2.0, **extra: float) -> dict:
    return {"throughput": throughput, "p50": p50, "p99": p99, **extra}


def test_each_target_passes_or_fails_on_its_own_cell() -> None:
    summary = [
        cell(3, "write", 1, side(600, p50=1.5), side(1000, p50=0.8)),   # 0.6x, p50 1.9x: pass
        cell(3, "write", 64, side(7000), side(10000)),                  # 0.7x: fail
        cell(3, "read", 64, side(30000), side(40000)),                  # 0.75x: pass
        cell(1, "watch-100", 1, side(5000, p99=4.0, missed=0, events=100),
             side(9000, p99=2.0, missed=10, events=90)),                 # pass
        cell(1, "watch-1000", 1, side(5000, p99=9.0, missed=1, events=99),
             side(9000, p99=2.0, missed=0, events=100)),                 # more missed, p99 4.5x: fail
    ]
    startup = [{"server": "trionode", "nodes": 3, "first_write_s": [1.0, 1.2, 1.1]},
               {"server": "etcd", "nodes": 3, "first_write_s": [0.5, 0.6, 0.7]}]   # 1.1 <= 1.1: pass
    memory = [{"server": "trionode", "rss_mb": [60, 62, 61]}, {"server": "etcd", "rss_mb": [130, 120, 125]}]
    got = {t.name: t.passed for t in targets.check(summary, startup, memory)}
    assert got == {
        "3 members, writes, 1 connection": True,
        "3 members, writes, 64 connections": False,
        "3 members, reads, 64 connections": True,
        "1 member, writes, 64 connections": None,
        "watch, 1 member, 100 watchers, 1 writer": True,
        "watch, 1 member, 1000 watchers, 1 writer": False,
        "fresh 3 members, spawn to first write": True,
        "RSS with the keys loaded, per node": True,
    }


def test_a_slow_p50_fails_even_with_the_throughput() -> None:
    summary = [cell(3, "write", 1, side(600, p50=2.0), side(1000, p50=0.8))]  # p50 2.5x
    [first] = targets.check(summary, [], [])[:1]
    assert first.passed is False and "p50 2.00 vs 0.80 ms" in first.measured


def test_nothing_measured_is_never_a_pass() -> None:
    checked = targets.check([], [], [])
    assert all(t.passed is None and t.measured == "not measured" for t in checked)
    assert "-     3 members, writes, 1 connection" in targets.table(checked, [0.5, 0.4, 0.3])
