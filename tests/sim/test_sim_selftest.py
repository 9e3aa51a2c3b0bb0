"""The simulator has teeth: with a deliberately broken edge (never fsyncs, forgets its vote
on restart, serves reads locally without ReadIndex) it must report a violation.

A sim whose checks never fire would pass every seed; these prove the checks are wired up.
"""

from __future__ import annotations

import pytest

from trionode.raft import HardState

from .chaos import first_failure
from .disk import SimDisk
from .node import SimNode

SEEDS = range(40)


def test_never_fsyncing_disk_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes never reach the durable part: crashes lose acknowledged state."""
    monkeypatch.setattr(SimDisk, "sync", lambda self: None)
    report = first_failure(SEEDS, "a broken edge")
    assert "replay: TRIONODE_SIM_SEED=" in report and "last " in report


def test_forgotten_term_and_vote_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The edge loses term and vote on restart: the node could vote twice in a term."""
    real_start = SimNode.start

    def start(self, rng):
        d = self.disk.durable
        d.hs = HardState(0, 0, d.hs.commit)
        real_start(self, rng)

    monkeypatch.setattr(SimNode, "start", start)
    report = first_failure(SEEDS, "a broken edge")
    assert any(s in report for s in ("term went back", "voted for", "election safety")), report


def test_local_reads_are_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serving a read from local state at once (no ReadIndex) is not linearizable."""
    def read(self, ctx):
        self.pending_reads[ctx] = self.cluster.max_acked
        self.read_states.append((0, ctx))
        self._serve_reads()
        return True

    monkeypatch.setattr(SimNode, "read", read)
    report = first_failure(SEEDS, "a broken edge")
    assert "read" in report.splitlines()[0], report
