"""scripts/cluster never rots: start three members, add a fourth, remove one, stop; and
nothing it started outlives the test (it signals only PIDs it recorded)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CLUSTER = Path(__file__).resolve().parents[2] / "scripts" / "cluster"


def run(directory: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(CLUSTER), *args, "--dir", str(directory)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_start_add_remove_stop(tmp_path: Path) -> None:
    try:
        run(tmp_path, "start", "3")
        assert run(tmp_path, "add", "node4").startswith("added node4 (id ")
        assert run(tmp_path, "remove", "node2").startswith("removed node2 (id ")
        # node2 may have been the leader: it hands over, and the others elect one
        deadline = time.monotonic() + 10
        shown = run(tmp_path, "show")
        while "StateLeader" not in shown and time.monotonic() < deadline:
            time.sleep(0.2)
            shown = run(tmp_path, "show")
        assert [line.split()[0] for line in shown.splitlines()] == ["node1", "node3", "node4"]
        assert shown.count(" running ") == 3 and "StateLeader" in shown
        assert not (tmp_path / "node2").exists()
        assert run(tmp_path, "stop") == "stopped 3 members\n"
    finally:
        state = tmp_path / "cluster.json"
        for member in json.loads(state.read_text())["members"] if state.exists() else []:
            try:
                os.kill(member["pid"], signal.SIGKILL)  # only what the script recorded
            except ProcessLookupError:
                pass
