"""scripts/cluster never rots: start three members, add a fourth, remove one, stop; and
nothing it started outlives the test (it signals only PIDs it recorded). Once on plain
HTTP, once with --tls (https on both ports, client certificates required)."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CLUSTER = Path(__file__).resolve().parents[2] / "scripts" / "cluster"


def run(directory: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, str(CLUSTER), *args, "--dir", str(directory)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def check_tls(directory: Path) -> None:
    """Every member serves https with the run's CA, and only to a client certificate."""
    tls = directory / "tls"
    state = json.loads((directory / "cluster.json").read_text())
    trusting = ssl.create_default_context(cafile=str(tls / "ca.pem"))
    presenting = ssl.create_default_context(cafile=str(tls / "ca.pem"))
    presenting.load_cert_chain(str(tls / "client.pem"), str(tls / "client-key.pem"))
    for member in state["members"]:
        url = f"https://127.0.0.1:{member['client']}/v2/members"
        with urllib.request.urlopen(url, timeout=5, context=presenting) as reply:
            peers = [u for m in json.loads(reply.read())["members"] for u in m["peerURLs"]]
        assert peers and all(u.startswith("https://127.0.0.1:") for u in peers), peers
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(url, timeout=5, context=trusting).read()


@pytest.mark.parametrize("tls", [False, True], ids=["http", "tls"])
def test_start_add_remove_stop(tmp_path: Path, tls: bool) -> None:
    try:
        started = run(tmp_path, "start", "3", *(["--tls"] if tls else []))
        if tls:
            # what it prints for the user names the run's CA and client certificate
            assert " on TLS\n" in started and "ETCDCTL_ENDPOINTS=https://" in started
            assert f"--cacert {tmp_path / 'tls' / 'ca.pem'} --cert " in started
            assert "etcdctl --ca-file " in started
            check_tls(tmp_path)
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
        assert shown.count("client=https://") == (3 if tls else 0)
        assert not (tmp_path / "node2").exists()
        assert run(tmp_path, "stop") == "stopped 3 members\n"
    finally:
        state = tmp_path / "cluster.json"
        for member in json.loads(state.read_text())["members"] if state.exists() else []:
            try:
                os.kill(member["pid"], signal.SIGKILL)  # only what the script recorded
            except ProcessLookupError:
                pass
