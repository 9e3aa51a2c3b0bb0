"""scripts/bench never rots: a second or so of every workload against a 1-node trionode
(and, when etcd is installed, a cell against both), with the JSON checked for sane numbers;
with --tls, 3-node clusters of both servers (so the peer ports talk TLS too), and a 1-node
trionode driven over https by the epoll engine, wrk and trionode.client. The pure pieces of
the generator (reply parser, histogram) are checked directly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from benchlib.cells import WORKLOADS
from benchlib.hist import Histogram
from benchlib.wire import ProtocolError, ReplyParser

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench"


def run_bench(tmp_path: Path, *args: str, timeout: float = 60) -> dict:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--json", str(out), *args],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "p99" in proc.stdout                     # the table was printed
    transport = "transport: TLS on both ports" if "--tls" in args else "transport: plain http"
    assert transport in proc.stdout                 # the report says how servers were reached
    return json.loads(out.read_text())


def check_row(row: dict) -> None:
    assert "failed" not in row, row
    assert row["ops"] > 0 and row["throughput"] > 0, row
    ms = row["latency_ms"]
    assert 0 < ms["p50"] <= ms["p99"] <= ms["p999"] < 30_000, row
    assert row["errors"] == 0, row
    assert 0 <= row["cpu_pct"]["generator"] <= 100 and row["cpu_pct"]["servers"] > 0, row
    counts = row["counts"]
    if row["workload"] == "cas":
        assert counts["cas_ok"] > 0
        assert counts["cas_ok"] + counts.get("cas_failed", 0) == row["ops"]
    elif row["workload"].startswith("watch-"):
        watchers = int(row["workload"].split("-")[1])
        assert counts["acked"] > 0 and counts["events"] == row["ops"]
        assert counts["events"] + counts["missed"] == counts["acked"] * watchers
    else:
        assert counts.get("200", 0) + counts.get("201", 0) == row["ops"]


@pytest.mark.system
def test_every_workload_against_trionode(tmp_path: Path) -> None:
    result = run_bench(tmp_path, "--servers", "trionode", "--nodes", "1",
                       "--connections", "4", "--keys", "1000")
    rows = result["cells"]
    assert sorted(r["workload"] for r in rows) == sorted(WORKLOADS)
    for row in rows:
        check_row(row)
    [memory] = result["memory"]
    assert memory["keys"] == 1000 and memory["load_errors"] == 0
    assert memory["rss_mb"][0] > memory["rss_before_mb"][0] > 5
    assert memory["data_dir_mb"][0] > 0
    assert 0 < memory["restart_s"][0] < 30
    [startup] = result["startup"]  # --quick: one round of the startup phase
    assert startup["server"] == "trionode" and startup["nodes"] == 1
    assert 0 < startup["first_write_s"][0] < 30
    assert result["meta"]["machine"]["nproc"] >= 1
    assert {s["workload"] for s in result["summary"]} == set(WORKLOADS)
    replot = subprocess.run([sys.executable, str(BENCH), "--replot", str(tmp_path / "bench.json")],
                            capture_output=True, text=True, timeout=30)
    assert replot.returncode == 0 and "watch-1000" in replot.stdout, replot.stderr


@pytest.mark.system
@pytest.mark.requires_tool("etcd", "bench alternates rounds of trionode and etcd 3.4")
def test_alternating_rounds_with_etcd(tmp_path: Path) -> None:
    result = run_bench(tmp_path, "--nodes", "1", "--workloads", "read,watch-100",
                       "--connections", "4", "--keys", "0")
    assert [r["server"] for r in result["cells"]] == ["trionode", "etcd"] * 2
    for row in result["cells"]:
        check_row(row)
    for entry in result["summary"]:
        assert entry["ratio"]["throughput"] > 0


@pytest.mark.system
@pytest.mark.requires_tool("etcd", "bench --tls runs trionode and etcd 3.4 on TLS")
def test_tls_both_servers_three_nodes(tmp_path: Path) -> None:
    result = run_bench(tmp_path, "--tls", "--nodes", "3", "--targets", "leader",
                       "--workloads", "write,read", "--connections", "4",
                       "--keys", "0")
    assert result["meta"]["tls"] is True
    assert [r["server"] for r in result["cells"]] == ["trionode", "etcd"] * 2
    assert [(s["server"], s["nodes"]) for s in result["startup"]] == [("trionode", 3), ("etcd", 3)]
    assert all(0 < s["first_write_s"][0] < 30 for s in result["startup"])  # over https
    for row in result["cells"]:
        check_row(row)


@pytest.mark.system
@pytest.mark.requires_tool("wrk", "bench --driver wrk --tls drives https with wrk")
def test_tls_every_driver(tmp_path: Path) -> None:
    """The epoll engine (with a watch and the memory phase's load and restarts), wrk and
    trionode.client, each against a 1-node trionode on TLS."""
    result = run_bench(tmp_path, "--tls", "--servers", "trionode", "--nodes", "1",
                       "--workloads", "read,watch-100", "--connections", "4", "--keys", "300")
    for row in result["cells"]:
        check_row(row)
    [memory] = result["memory"]
    assert memory["keys"] == 300 and memory["load_errors"] == 0 and memory["restart_s"][0] > 0
    for driver in ("wrk", "client"):
        result = run_bench(tmp_path, "--tls", "--driver", driver, "--servers", "trionode",
                           "--nodes", "1", "--workloads", "read,write", "--connections", "4")
        assert [r["workload"] for r in result["cells"]] == ["read", "write"], driver
        for row in result["cells"]:
            assert "failed" not in row and row["errors"] == 0 and row["ops"] > 0, row


def test_reply_parser_content_length_and_chunked() -> None:
    parser = ReplyParser()
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello"
    assert parser.feed(reply[:20]) is None
    got = parser.feed(reply[20:])
    assert (got.status, got.body) == (200, b"hello") and not parser.pending()
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    for cut in range(1, len(chunked)):            # any split of the bytes
        parser = ReplyParser()
        assert parser.feed(chunked[:cut]) is None
        got = parser.feed(chunked[cut:])
        assert (got.status, got.body) == (200, b"abcde")
    with pytest.raises(ProtocolError):
        ReplyParser().feed(b"SSH-2.0-OpenSSH\r\n\r\n")


def test_histogram_percentiles_within_one_percent() -> None:
    hist = Histogram()
    samples = [i / 10_000 for i in range(1, 10_001)]     # 0.1 ms .. 1 s
    for s in samples:
        hist.add(s)
    for p in (50, 99, 99.9):
        exact = samples[int(len(samples) * p / 100) - 1]
        assert exact <= hist.percentile(p) <= exact * 1.0101
    merged = Histogram()
    merged.merge(Histogram.from_wire(hist.to_wire()))
    assert merged.total == hist.total and merged.percentile(50) == hist.percentile(50)
