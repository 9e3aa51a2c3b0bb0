"""The simulated node sends early what the real node sends early (trionode/server/replica.py), and
the sim catches an edge that sends a promise of durable state before its fsync.

The sim mirrors server/replica.py's `_EARLY` and `_split` instead of importing private names;
these tests keep the two in step.
"""

from __future__ import annotations

import pytest

from trionode.raft.messages import Message, MsgType, Snapshot
from trionode.server.replica import _EARLY, _split

from . import node
from .chaos import first_failure
from .checker import History


def test_early_set_is_the_real_nodes() -> None:
    assert node.EARLY == _EARLY


def test_split_is_the_real_nodes() -> None:
    snap = Snapshot(index=5, term=2, data=b"")
    messages = tuple(Message(t, to=2, frm=1, term=3, snapshot=snap if t is MsgType.SNAP else None)
                     for _ in range(2) for t in MsgType)  # every type, interleaved
    early, late = _split(messages)
    assert node.split(messages) == (tuple(early), tuple(late))


@pytest.mark.parametrize("kind", [MsgType.VOTE_RESP, MsgType.APP_RESP])
def test_promise_sent_before_fsync_is_caught(kind: MsgType, monkeypatch: pytest.MonkeyPatch) -> None:
    """A granted vote or an append acknowledgement leaving before the Ready's fsync
    promises what a crash can take back: the sim must say so."""
    monkeypatch.setattr(node, "EARLY", node.EARLY | {kind})
    report = first_failure(range(40), "an edge sending a durable promise early")
    assert any(s in report.splitlines()[0] for s in ("before its term", "grants its vote",
                                                     "acknowledges entries")), report


def test_commit_counted_on_unsynced_appends_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same early acknowledgements with the per-message check switched off: the leader
    then commits entries a crash can still take away, which the quorum-durability check
    must see on its own."""
    monkeypatch.setattr(node, "EARLY", node.EARLY | {MsgType.APP_RESP})
    monkeypatch.setattr(History, "on_send", lambda self, member, msg, durable: None)
    report = first_failure(range(40), "an edge sending a durable promise early")
    assert "have it durable" in report.splitlines()[0], report


def test_applying_uncommitted_entries_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """An edge that applies a Ready's new entries as it takes them, committed or not."""
    def apply(self, rd):
        for entry in (*rd.committed, *rd.entries):
            if entry.index == self.applied + 1:
                self._apply_entry(entry)

    monkeypatch.setattr(node.SimNode, "_apply_committed", apply)
    report = first_failure(range(40), "an edge sending a durable promise early")
    assert "beyond the commit" in report.splitlines()[0], report
