"""Crash safety: kill -9 under load, torn and corrupt WAL files, TTLs across a restart.

What is checked is the contract in commit.py and wal.py: nothing is acknowledged before it
is on disk, a torn tail is dropped with a warning, and any other damage stops the node
(exit 1, file and offset named) without touching the data dir.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import urllib.parse

import pytest

from .walfiles import HEADER, tree_bytes, wal_records, wal_segments

pytestmark = pytest.mark.system

WRITERS = 16
LOAD_SECONDS = 1.5


class Writer(threading.Thread):
    """PUTs /load/w<i>/<n> = "<i>-<n>" for n = 0, 1, ... on one keep-alive connection
    and records each acknowledged write's modifiedIndex, until stopped or the node dies."""

    def __init__(self, i: int, port: int, stop: threading.Event) -> None:
        super().__init__(name=f"writer-{i}", daemon=True)
        self.i, self.port, self.stop = i, port, stop
        self.acked: dict[int, int] = {}  # n -> modifiedIndex
        self.error: BaseException | None = None
        self.unexpected: list[str] = []

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        n = 0
        try:
            while not self.stop.is_set():
                conn.request("PUT", f"/v2/keys/load/w{self.i}/{n}",
                             body=urllib.parse.urlencode({"value": f"{self.i}-{n}"}), headers=headers)
                reply = conn.getresponse()
                body = reply.read()
                if reply.status in (200, 201):
                    self.acked[n] = int(json.loads(body)["node"]["modifiedIndex"])
                else:
                    self.unexpected.append(f"{reply.status} {body[:200]!r}")
                n += 1
        except (OSError, http.client.HTTPException) as exc:  # the node was killed
            self.error = exc
        finally:
            conn.close()


def test_acknowledged_writes_survive_kill_9(nodes):
    node = nodes.start("load")
    stop = threading.Event()
    writers = [Writer(i, node.port, stop) for i in range(WRITERS)]
    for w in writers:
        w.start()
    time.sleep(LOAD_SECONDS)
    node.kill()  # mid-load: every writer has a request in flight or about to be
    stop.set()
    for w in writers:
        w.join(15)
        assert not w.is_alive(), f"{w.name} hung after the kill"
    assert not any(w.unexpected for w in writers), [w.unexpected[:3] for w in writers]
    assert all(w.acked for w in writers), "every writer got writes acknowledged before the kill"
    assert sum(w.error is not None for w in writers) >= 1, "the kill interrupted the load"
    acked = {(w.i, n): index for w in writers for n, index in w.acked.items()}
    max_index = max(acked.values())

    node.restart()
    tree = node.get("/load", "recursive=true&sorted=true")
    assert tree.status == 200
    assert tree.etcd_index >= max_index
    found = {}
    for wdir in tree.json()["node"]["nodes"]:
        for leaf in wdir.get("nodes", []):
            found[leaf["key"]] = (leaf["value"], leaf["modifiedIndex"])
    for (i, n), index in acked.items():
        assert found.get(f"/load/w{i}/{n}") == (f"{i}-{n}", index), f"acknowledged /load/w{i}/{n} lost"
    # The newest acknowledged write of each writer, one GET at a time.
    for w in writers:
        last = max(w.acked)
        reply = node.get(f"/load/w{w.i}/{last}")
        assert reply.status == 200 and reply.json()["node"]["value"] == f"{w.i}-{last}"
    after = node.put("/load/after", value="ok")
    assert after.status == 201 and after.json()["node"]["modifiedIndex"] > max_index
    assert not node.error_lines(), node.log()
    print(f"\nkill -9 under load: {len(acked)} acknowledged writes by {WRITERS} writers "
          f"in {LOAD_SECONDS}s, max index {max_index}, index after restart {tree.etcd_index}")


def _write_keys(node, count: int, prefix: str = "/k") -> dict[str, str]:
    written = {}
    for n in range(count):
        key, value = f"{prefix}/{n}", f"v{n}"
        assert node.put(key, value=value).status in (200, 201)
        written[key] = value
    return written


def _assert_keys(node, written: dict[str, str]) -> None:
    for key, value in written.items():
        reply = node.get(key)
        assert reply.status == 200, (key, reply)
        assert reply.json()["node"]["value"] == value


@pytest.mark.parametrize("tail", ["half-record", "short-garbage"])
def test_torn_tail_is_truncated_with_a_warning(nodes, tail):
    node = nodes.start("torn")
    written = _write_keys(node, 20)
    node.kill()
    segment = wal_segments(node.wal_dir)[-1]
    data = segment.read_bytes()
    last_offset = wal_records(data)[-1][0]
    if tail == "half-record":
        torn = data[last_offset:last_offset + (len(data) - last_offset) // 2]
    else:
        torn = os.urandom(HEADER - 5)  # shorter than a header
    with open(segment, "ab") as f:
        f.write(torn)

    node.restart()
    warnings = [line for line in node.log_lines(level="warning") if "torn" in line]
    assert len(warnings) == 1, node.log()
    assert str(segment) in warnings[0] and f"offset={len(data)}" in warnings[0]
    _assert_keys(node, written)
    node.terminate()
    repaired = segment.read_bytes()
    assert repaired.startswith(data)
    wal_records(repaired)  # the torn bytes are gone: every record checks out again


def test_corrupt_record_in_the_middle_refuses_to_start(nodes):
    node = nodes.start("corrupt")
    _write_keys(node, 200)
    assert node.terminate() == 0
    [segment] = wal_segments(node.wal_dir)
    data = bytearray(segment.read_bytes())
    records = wal_records(bytes(data))
    # The record that holds the middle of the file: far from the tail, with data after it.
    offset, _, length = next(r for r in records if r[0] + HEADER + r[2] > len(data) // 2)
    assert offset + HEADER + length < len(data)
    data[offset + HEADER + length // 2] ^= 0x5A
    segment.write_bytes(bytes(data))
    before = tree_bytes(node.data_dir)

    proc = node.spawn()
    assert node.wait_exit() == 1, node.log()
    [line] = [line for line in node.log().splitlines() if "cannot start" in line]
    assert str(segment) in line and f"offset {offset}" in line, line
    assert proc.returncode == 1
    assert tree_bytes(node.data_dir) == before, "a refused start modified the data dir"


def test_ttl_expires_after_restart(nodes):
    node = nodes.start("ttl")
    set_at = time.monotonic()
    reply = node.put("/ttl/short", value="x", ttl=2)
    assert reply.status == 201 and reply.json()["node"]["ttl"] == 2
    node.kill()
    node.restart()
    deadline = set_at + 6.0
    while node.get("/ttl/short").status == 200:
        assert time.monotonic() < deadline, "the key outlived its TTL by seconds"
        time.sleep(0.1)
    gone_after = time.monotonic() - set_at
    assert gone_after >= 1.9, f"expired after {gone_after:.2f}s, before its TTL"
    missing = node.get("/ttl/short")
    assert missing.status == 404 and missing.json()["errorCode"] == 100
    assert node.store_stats()["expireCount"] >= 1
