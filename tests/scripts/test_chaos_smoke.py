"""Smoke test of scripts/chaos: a few seconds of faults against a 3-node trionode cluster.

One run must pass (kill and partition nemeses), so must one of the members nemesis (a
node removed through the members API, wiped, added back under a new id and restarted as
a joining member), and the deliberately broken mode (reads
without quorum sent to followers, under partitions) must be flagged as not linearizable:
that second run is also what shows the iptables partitions really cut a node off, since a
follower only serves stale values when it stops hearing from the leader. Faults are short
and frequent here (--quiet/--fault) so that a few seconds hold several of them.
Needs root, `ip` and `iptables` (it creates and deletes its own network namespace).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from requirements import require

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "chaos"

pytestmark = [
    pytest.mark.system,
    pytest.mark.requires_tool("ip", "scripts/chaos runs the cluster in its own network namespace"),
    pytest.mark.requires_tool("iptables", "scripts/chaos partitions nodes with iptables"),
]


@pytest.fixture(autouse=True)
def _root() -> None:
    require(os.geteuid() == 0, "scripts/chaos needs root (a network namespace, iptables rules)")

FAST = ["--nodes", "3", "--seed", "1", "--quiet", "0.7,1", "--fault", "1.5,2.5",
        "--clients", "6", "--rate", "150", "--converge-timeout", "15", "--check-timeout", "10"]


def _chaos(out: Path, *args: str) -> tuple[int, str, str]:
    proc = subprocess.Popen([sys.executable, str(SCRIPT), *FAST, *args, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=90)
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert f"trionode-chaos-{proc.pid}" not in namespaces, "the namespace was left behind"
    return proc.returncode, stdout, stderr


def test_kill_and_partition_pass(tmp_path: Path) -> None:
    code, stdout, stderr = _chaos(tmp_path, "--duration", "7", "--nemesis", "kill,partition")
    summary = stdout.strip().splitlines()[-1]
    assert code == 0, stdout + stderr
    assert summary.startswith("chaos trionode nodes=3 nemesis=kill,partition seed=1 7s: ops=")
    for part in ("linearizable 4/4 registers", "queue ok", "nodes identical", "PASS"):
        assert part in summary, summary
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["passed"] and report["ops"]["ok"] > 50
    started = [e["detail"] for e in report["nemesis"] if e["event"] == "start"]
    assert started and all(d.split()[0] in ("kill", "partition") for d in started)
    history = (tmp_path / "history.jsonl").read_text().splitlines()
    assert len(history) == report["ops"]["total"]
    assert {json.loads(line)["kind"] for line in history} == {"read", "write", "cas", "enqueue"}
    assert "linearizable" in (tmp_path / "report.txt").read_text()
    assert all((tmp_path / f"n{i}.log").stat().st_size > 0 for i in (1, 2, 3))


def test_unsafe_reads_are_caught(tmp_path: Path) -> None:
    code, stdout, stderr = _chaos(tmp_path, "--duration", "8", "--nemesis", "partition",
                                  "--fault", "3,4", "--unsafe-reads")
    summary = stdout.strip().splitlines()[-1]
    assert code == 1, stdout + stderr
    assert "NOT LINEARIZABLE" in summary and summary.endswith("FAIL"), summary
    report = json.loads((tmp_path / "report.json").read_text())
    bad = [v for v in report["registers"] if v["status"] == "not linearizable"]
    assert bad and all(v["detail"] for v in bad)


def test_tls_pass(tmp_path: Path) -> None:
    """--tls: https on both ports with client certificates required; the workload, the
    probes and the final reads present the run's client certificate, and a member removed
    and added back joins over TLS."""
    code, stdout, stderr = _chaos(tmp_path, "--duration", "6", "--nemesis", "kill,members",
                                  "--tls")
    summary = stdout.strip().splitlines()[-1]
    assert code == 0, stdout + stderr
    assert summary.startswith("chaos trionode nodes=3 nemesis=kill,members seed=1 tls 6s: ops=")
    for part in ("linearizable 4/4 registers", "queue ok", "nodes identical", "PASS"):
        assert part in summary, summary
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["ops"]["ok"] > 50
    assert {"ca.pem", "server.pem", "client.pem"} <= {p.name for p in (tmp_path / "tls").iterdir()}
    for i in (1, 2, 3):     # each node served https on both ports
        log = (tmp_path / f"n{i}.log").read_text()
        assert f"client_urls=https://127.0.0.{10 + i}:2379" in log, log[-2000:]
        assert f"peer_urls=https://127.0.0.{10 + i}:2380" in log, log[-2000:]
    events = [e["event"] for e in report["nemesis"]]     # seeded: a kill, then members
    assert {"remove", "add", "join"} <= set(events), report["nemesis"]
    assert not report["crashes"], report["crashes"]


def test_members_pass(tmp_path: Path) -> None:
    code, stdout, stderr = _chaos(tmp_path, "--duration", "6", "--nemesis", "members")
    summary = stdout.strip().splitlines()[-1]
    assert code == 0, stdout + stderr
    for part in ("linearizable 4/4 registers", "queue ok", "nodes identical", "PASS"):
        assert part in summary, summary
    report = json.loads((tmp_path / "report.json").read_text())
    events = [(e["event"], e["detail"]) for e in report["nemesis"]]
    removed = [d for e, d in events if e == "remove"]
    assert removed, events
    # every removed member stopped by itself, cleanly, and came back as a new member
    assert [d for e, d in events if e == "exit"], events
    assert all(d.endswith("status 0") for e, d in events if e == "exit"), events
    assert not [d for e, d in events if e in ("kill", "stuck", "crash")], events
    added = [d for e, d in events if e == "add"]
    assert added and all("new id" in d for d in added), events
    assert len([d for e, d in events if e == "join"]) == len(added), events
    assert not report["crashes"]
