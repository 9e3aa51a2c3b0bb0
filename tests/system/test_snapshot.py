"""Snapshots and log compaction across a restart (--snapshot-count 100)."""

from __future__ import annotations

import re

import pytest

from .walfiles import wal_segments

pytestmark = pytest.mark.system

WRITES = 1000
SNAPSHOT_COUNT = 100
_SNAP = re.compile(r"([0-9a-f]{16})-([0-9a-f]{16})\.snap")
_WAL = re.compile(r"([0-9a-f]{16})-([0-9a-f]{16})\.wal")


def _write(node, n: int) -> None:
    """Write number n of a fixed mix: dirs, keys in dirs, TTL keys, plain keys, deletes."""
    if n % 50 == 0:
        reply = node.put(f"/snap/d{n}", dir="true")
    elif n % 10 == 5:
        reply = node.put(f"/snap/d{n // 50 * 50}/k{n}", value=f"in-dir-{n}")
    elif n % 10 == 3:
        reply = node.put(f"/snap/t{n}", value=f"ttl-{n}", ttl=86_400)
    elif n % 10 == 7:
        reply = node.request("DELETE", f"/v2/keys/snap/k{n - 5}")  # n - 5 is a plain key
    else:
        reply = node.put(f"/snap/k{n}", value=f"v{n}")
    assert reply.status in (200, 201), (n, reply)


def _split_ttls(node_json: dict, ttls: dict[str, int]) -> dict:
    """The tree without its `ttl` fields (they count down); those go to `ttls` by key."""
    out = {k: v for k, v in node_json.items() if k not in ("ttl", "nodes")}
    if "ttl" in node_json:
        ttls[node_json["key"]] = node_json["ttl"]
    if "nodes" in node_json:
        out["nodes"] = [_split_ttls(child, ttls) for child in node_json["nodes"]]
    return out


def _snapshot_indexes(node) -> list[int]:
    found = [_SNAP.fullmatch(p.name) for p in node.snap_dir.iterdir()]
    assert all(found), sorted(p.name for p in node.snap_dir.iterdir())
    return sorted(int(m[2], 16) for m in found)


def test_tree_and_index_survive_snapshots_and_restart(nodes):
    node = nodes.start("snap", "--snapshot-count", str(SNAPSHOT_COUNT))
    base = node.get("/").etcd_index  # the node's own writes (/_etcd/machines, /_etcd/config)
    for n in range(WRITES):
        _write(node, n)
    before = node.get("/", "recursive=true&sorted=true")
    raft_index = int(before.headers["X-Raft-Index"])
    assert before.etcd_index == base + WRITES
    assert node.terminate() == 0

    snaps = _snapshot_indexes(node)
    # One write per fsync here, so a snapshot follows every SNAPSHOT_COUNT entries; only the
    # newest ones are kept (storage.py keeps two).
    assert snaps and raft_index - SNAPSHOT_COUNT < snaps[-1] <= raft_index, (snaps, raft_index)
    assert len(snaps) <= 2, snaps
    segments = [_WAL.fullmatch(p.name) for p in wal_segments(node.wal_dir)]
    seqs, firsts = [int(m[1], 16) for m in segments], [int(m[2], 16) for m in segments]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    if seqs[0] > 0:  # rotation happened and the oldest segments were compacted away
        assert firsts[0] <= snaps[-1] + 1
    # A segment that survived compaction still holds entries the snapshot does not cover.
    assert all(first > snaps[-1] + 1 for first in firsts[1:]), (firsts, snaps)

    node.restart()
    [recovered] = node.log_lines(event="recovered")
    assert f"snapshot_index={snaps[-1]}" in recovered.split()
    after = node.get("/", "recursive=true&sorted=true")
    # The one write since: /_etcd/machines/snap, with the client port this run was given.
    assert after.etcd_index == before.etcd_index + 1
    ttls_before: dict[str, int] = {}
    ttls_after: dict[str, int] = {}
    assert _split_ttls(after.json()["node"], ttls_after) == _split_ttls(before.json()["node"], ttls_before)
    assert ttls_after.keys() == ttls_before.keys() and len(ttls_before) == WRITES // 10
    assert all(ttls_before[k] - ttls_after[k] in (0, 1) for k in ttls_before)
    assert node.put("/snap/after", value="x").json()["node"]["modifiedIndex"] == base + WRITES + 2
