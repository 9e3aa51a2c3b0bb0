"""Unit tests of the pieces of the Raft core: quorum math, in-flight window, progress
states, and the in-memory log."""

from __future__ import annotations

import pytest

from trionode.raft.log import RaftLog
from trionode.raft.messages import Entry, Snapshot
from trionode.raft.progress import Inflights, PeerProgress, ProgressState
from trionode.raft.quorum import VoteResult, committed_index, majority, vote_result

# --- quorum ----------------------------------------------------------------------------------

@pytest.mark.parametrize("voters,need", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)])
def test_majority(voters: int, need: int) -> None:
    assert majority(voters) == need


@pytest.mark.parametrize("voters,match,expected", [
    ([1], {1: 5}, 5),
    ([1, 2, 3], {1: 5, 2: 3, 3: 1}, 3),
    ([1, 2, 3], {1: 5, 2: 5, 3: 1}, 5),
    ([1, 2], {1: 7, 2: 3}, 3),  # two voters: both must have it
    ([1, 2, 3, 4, 5], {1: 9, 2: 8, 3: 2, 4: 1, 5: 0}, 2),
    ([1, 2, 3], {1: 9}, 0),  # voters missing from `match` count as 0
    ([1, 2, 3], {1: 9, 2: 9, 7: 9}, 9),  # a non-voter's match is ignored
])
def test_committed_index_is_the_quorum_median(voters: list[int], match: dict[int, int],
                                              expected: int) -> None:
    assert committed_index(voters, match) == expected


@pytest.mark.parametrize("votes,result", [
    ({}, VoteResult.PENDING),
    ({1: True}, VoteResult.PENDING),
    ({1: True, 2: True}, VoteResult.WON),
    ({1: True, 2: False}, VoteResult.PENDING),
    ({1: False, 2: False}, VoteResult.LOST),
    ({1: True, 2: False, 3: False}, VoteResult.LOST),
    ({4: True, 5: True}, VoteResult.PENDING),  # non-voters do not count
])
def test_vote_result_three_voters(votes: dict[int, bool], result: VoteResult) -> None:
    assert vote_result([1, 2, 3], votes) is result


def test_vote_result_single_voter() -> None:
    assert vote_result([7], {7: True}) is VoteResult.WON
    assert vote_result([7], {7: False}) is VoteResult.LOST


# --- inflights -------------------------------------------------------------------------------

def test_inflights_window() -> None:
    window = Inflights(3)
    for last in (2, 5, 9):
        window.add(last)
    assert window.full() and len(window) == 3
    with pytest.raises(AssertionError):
        window.add(10)
    window.free_le(5)
    assert len(window) == 1 and not window.full()
    window.free_le(4)  # nothing older left
    assert len(window) == 1
    window.free_first_one()
    assert len(window) == 0
    window.free_first_one()  # empty: no-op
    window.add(11)
    window.reset()
    assert len(window) == 0


def test_inflights_must_increase() -> None:
    window = Inflights(4)
    window.add(5)
    with pytest.raises(AssertionError):
        window.add(5)


# --- progress --------------------------------------------------------------------------------

def test_probe_sends_one_at_a_time() -> None:
    pr = PeerProgress(0, 6, 4)
    assert pr.state is ProgressState.PROBE and not pr.is_paused()
    pr.sent_entries(2, 7)
    assert pr.is_paused() and pr.next == 6  # next does not move while probing
    assert pr.maybe_update(7)
    assert not pr.is_paused() and (pr.match, pr.next) == (7, 8)
    assert not pr.maybe_update(7)  # old news


def test_replicate_pipelines_until_the_window_is_full() -> None:
    pr = PeerProgress(5, 6, 2)
    pr.become_replicate()
    pr.sent_entries(3, 8)
    assert pr.next == 9 and not pr.is_paused()
    pr.sent_entries(1, 9)
    assert pr.is_paused()
    assert pr.maybe_update(8)
    pr.inflights.free_le(8)
    assert not pr.is_paused() and pr.next == 10


def test_maybe_decr_to_in_probe_uses_the_hint() -> None:
    pr = PeerProgress(0, 10, 4)
    assert not pr.maybe_decr_to(5, 2)  # not the probe we sent (next - 1 == 9)
    pr.probe_sent = True
    assert pr.maybe_decr_to(9, 3)
    assert pr.next == 4 and not pr.probe_sent
    assert pr.maybe_decr_to(3, 100)  # a hint past the rejected index is capped
    assert pr.next == 3


def test_maybe_decr_to_in_replicate_falls_back_to_match() -> None:
    pr = PeerProgress(4, 5, 4)
    pr.become_replicate()
    pr.sent_entries(3, 7)
    assert not pr.maybe_decr_to(4, 0)  # rejection of something at or below match: stale
    assert pr.maybe_decr_to(6, 0)
    assert pr.next == 5


def test_snapshot_state_pauses_then_probes_after_it() -> None:
    pr = PeerProgress(2, 3, 4)
    pr.become_snapshot(10)
    assert pr.is_paused() and pr.pending_snapshot == 10
    pr.become_probe()
    assert pr.state is ProgressState.PROBE and pr.next == 11 and pr.pending_snapshot == 0
    pr.become_snapshot(10)
    pr.pending_snapshot = 0  # a failed snapshot: probe from the match again
    pr.become_probe()
    assert pr.next == 3


def test_view() -> None:
    pr = PeerProgress(3, 4, 1)
    view = pr.view()
    assert (view.match, view.next, view.state) == (3, 4, ProgressState.PROBE)


# --- log ------------------------------------------------------------------------------------

def ents(*pairs: tuple[int, int]) -> list[Entry]:
    return [Entry(term, index, f"{term}/{index}".encode()) for term, index in pairs]


def test_empty_log() -> None:
    log = RaftLog()
    assert (log.first_index(), log.last_index(), log.last_term()) == (1, 0, 0)
    assert log.term(0) == 0 and log.term(1) is None
    assert log.unstable_entries() == [] and log.next_committed() == []


def test_recovered_log_is_stable_and_applied_at_the_snapshot() -> None:
    snap = Snapshot(3, 2, b"")
    log = RaftLog(snap, ents((1, 2), (2, 3), (2, 4), (3, 5)))  # entries <= 3 are dropped
    assert [e.index for e in log.entries] == [4, 5]
    assert (log.stable, log.applied, log.committed) == (5, 3, 3)
    assert log.term(3) == 2 and log.term(2) is None and log.term(5) == 3 and log.term(6) is None
    with pytest.raises(AssertionError):
        RaftLog(None, ents((1, 1), (1, 3)))  # a gap


def test_append_and_stable() -> None:
    log = RaftLog()
    log.append(ents((1, 1), (1, 2)))
    assert log.unstable_entries() == ents((1, 1), (1, 2))
    log.stable_to(2, 1)
    assert log.unstable_entries() == []
    log.stable_to(3, 1)  # beyond the log: ignored
    assert log.stable == 2


def test_maybe_append_truncates_a_conflicting_stable_suffix() -> None:
    log = RaftLog(None, ents((1, 1), (1, 2), (1, 3), (1, 4)))
    log.commit_to(1)
    assert log.maybe_append(1, 1, 3, ents((2, 2), (2, 3))) == 3
    assert [(e.term, e.index) for e in log.entries] == [(1, 1), (2, 2), (2, 3)]
    assert log.stable == 1  # the storage must overwrite from index 2
    assert log.unstable_entries() == ents((2, 2), (2, 3))
    assert log.committed == 3


def test_maybe_append_keeps_matching_entries_and_a_longer_tail() -> None:
    log = RaftLog(None, ents((1, 1), (1, 2), (1, 3)))
    # A stale, shorter APP must not cut entries that agree (paper fig. 2, step 3).
    assert log.maybe_append(0, 0, 0, ents((1, 1))) == 1
    assert log.last_index() == 3 and log.stable == 3


def test_maybe_append_mismatch_and_commit_bound() -> None:
    log = RaftLog(None, ents((1, 1), (1, 2)))
    assert log.maybe_append(2, 2, 2, ents((2, 3))) is None  # term at 2 is 1, not 2
    assert log.maybe_append(3, 1, 2, []) is None  # we have no entry 3
    assert log.maybe_append(2, 1, 9, []) == 2
    assert log.committed == 2  # min(leader commit, last new entry)


def test_conflict_with_committed_entry_asserts() -> None:
    log = RaftLog(None, ents((1, 1), (1, 2)))
    log.commit_to(2)
    with pytest.raises(AssertionError):
        log.maybe_append(1, 1, 2, ents((2, 2)))


def test_find_conflict_by_term() -> None:
    log = RaftLog(None, ents((1, 1), (1, 2), (2, 3), (2, 4), (4, 5)))
    assert log.find_conflict_by_term(5, 3) == (4, 2)  # skip term 4
    assert log.find_conflict_by_term(5, 1) == (2, 1)  # skip terms 2 and 4 in one step
    assert log.find_conflict_by_term(5, 4) == (5, 4)
    assert log.find_conflict_by_term(5, 0) == (0, 0)
    compacted = RaftLog(Snapshot(2, 1, b""), ents((2, 3), (2, 4)))
    assert compacted.find_conflict_by_term(4, 1) == (2, 1)  # the snapshot's term is known
    assert compacted.find_conflict_by_term(1, 0) == (1, 0)  # unknown: compacted


def test_is_up_to_date() -> None:
    log = RaftLog(None, ents((1, 1), (2, 2)))
    assert log.is_up_to_date(2, 2) and log.is_up_to_date(1, 3) and log.is_up_to_date(5, 2)
    assert not log.is_up_to_date(1, 2) and not log.is_up_to_date(9, 1)


def test_commit_and_apply() -> None:
    log = RaftLog(None, ents((1, 1), (1, 2), (1, 3)))
    assert not log.maybe_commit(2, 2)  # not of the current term: no commit by counting
    assert log.maybe_commit(2, 1)
    assert not log.maybe_commit(1, 1)  # never backwards
    assert log.next_committed() == ents((1, 1), (1, 2))
    log.applied_to(2)
    assert log.next_committed() == [] and not log.has_next_committed()
    with pytest.raises(AssertionError):
        log.commit_to(4)
    with pytest.raises(AssertionError):
        log.applied_to(3)


def test_compact_keeps_the_boundary_term() -> None:
    log = RaftLog(None, ents((1, 1), (1, 2), (2, 3), (2, 4)))
    log.commit_to(4)
    log.applied_to(3)
    assert log.compact(Snapshot(3, 2, b"s"))
    assert (log.first_index(), log.snap_index, log.term(3), log.term(2)) == (4, 3, 2, None)
    assert log.match_term(3, 2)  # an APP after index 3 still checks against the boundary
    assert log.entries_from(3, 10) is None and log.entries_from(4, 10) == ents((2, 4))
    assert not log.compact(Snapshot(2, 1, b""))  # older than what we have
    with pytest.raises(AssertionError):
        log.compact(Snapshot(4, 2, b""))  # not applied yet


def test_restore_replaces_the_log() -> None:
    log = RaftLog(None, ents((1, 1), (1, 2), (1, 3)))
    log.commit_to(1)
    snap = Snapshot(5, 3, b"x")
    log.restore(snap)
    assert (log.last_index(), log.last_term(), log.committed) == (5, 3, 5)
    assert log.unstable_snapshot == snap and log.unstable_entries() == []
    log.stable_snapshot_to(5)
    assert log.unstable_snapshot is None and log.applied == 5
    log.append(ents((3, 6)))
    assert log.unstable_entries() == ents((3, 6))


def test_entries_from_limits_the_count() -> None:
    log = RaftLog(None, ents((1, 1), (1, 2), (1, 3)))
    assert log.entries_from(1, 2) == ents((1, 1), (1, 2))
    assert log.entries_from(4, 2) == []
