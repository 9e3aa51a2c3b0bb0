"""Dynamic membership, one change at a time (thesis §4.1 single-server changes; the shape
of etcd-io/raft's apply-time configuration, without joint consensus).

A membership change is an ordinary log entry the edge recognises; it takes effect when the
edge *applies* it and calls RaftCore.set_membership(voters, learners). Adding or removing
one voter at a time keeps every majority of the old voter set overlapping every majority of
the new one, which is what makes applying at different moments on different members safe —
provided a second change is never in the log before the first is applied. The leader
enforces that with `pending_conf_index` (see leader.append_proposals).

Voters count toward quorums (commit, elections, check-quorum, ReadIndex). Learners only
receive the log. A member in neither set (waiting for its first snapshot, or removed)
follows whoever leads and never campaigns.

A leader that applies its own removal hands over (thesis §3.10 leadership transfer) to the
remaining voter with the highest match, then steps down and stays a follower.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from . import leader, replication
from .progress import PeerProgress
from .quorum import VoteResult, vote_result

if TYPE_CHECKING:
    from .core import RaftCore

__all__ = ["validate", "leader_changed", "hand_over", "successor"]


def validate(self_id: int, voters: Collection[int],
             learners: Collection[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The two sets as sorted tuples; ValueError if they are not a legal membership."""
    v, lrn = tuple(sorted(set(voters))), tuple(sorted(set(learners)))
    if any(not isinstance(i, int) or not 0 < i < 1 << 64 for i in v + lrn):
        raise ValueError(f"member ids are nonzero u64: voters={v} learners={lrn}")
    if set(v) & set(lrn):
        raise ValueError(f"a member is a voter or a learner, not both: {sorted(set(v) & set(lrn))}")
    if not v and self_id in lrn:
        raise ValueError("a learner needs voters to learn from")
    return v, lrn


def leader_changed(r: RaftCore) -> None:
    """The leader's side of a new membership (r.voters/r.learners already set): track the
    new members, forget the removed ones, and re-decide what the new quorum decides."""
    last = r.log.last_index()
    members = {*r.voters, *r.learners, r.id}  # our own progress stays: self_ack needs it
    for peer in [p for p in r.prs if p not in members]:
        del r.prs[peer]
    for peer in sorted(members - r.prs.keys()):
        pr = r.prs[peer] = PeerProgress(0, last + 1, r.config.max_inflight)
        # Counted as alive until the next check-quorum round, or a new voter that has not
        # answered yet could make us step down at once (etcd does the same).
        pr.recent_active = True
    if r.lead_transferee and r.lead_transferee not in r.voters:
        r.logger.info("raft.transfer_aborted", to=f"{r.lead_transferee:x}", reason="removed")
        r.lead_transferee = 0
    _reevaluate(r)
    if r.id not in r.voters:
        hand_over(r)


def _reevaluate(r: RaftCore) -> None:
    """A smaller (or different) quorum may already hold entries and read rounds."""
    if replication.maybe_commit(r):
        leader.committed(r)
    else:
        replication.bcast_append(r)  # new members get their first probe now
    for ctx, acks in reversed(r.read_only.rounds()):
        # Confirming a round releases every earlier one too (readonly.py): the newest
        # round a quorum acknowledged is all that needs checking.
        if vote_result(r.voters, dict.fromkeys(acks, True)) is VoteResult.WON:
            leader.confirm_reads(r, ctx)
            break


def successor(voters: Collection[int], match: Callable[[int], int], leader_id: int) -> int | None:
    """The voter other than the leader that holds the most of the log (lowest id on ties):
    the one to hand leadership to. Learners never lead, so they are never chosen."""
    others = sorted(p for p in voters if p != leader_id)
    return max(others, key=match) if others else None


def hand_over(r: RaftCore) -> None:
    """We lead but no longer vote: let the most caught-up voter take over. TIMEOUT_NOW goes
    when it holds our whole log (leader.step, APP_RESP); tick() steps us down after an
    election timeout either way, so a lost message cannot keep a non-voter leading."""
    target = successor(r.voters, lambda p: r.prs[p].match, r.id)
    if target is None:  # validate() and the edge rule it out; nobody to hand over to
        r.become_follower(r.term, 0)
        return
    leader.start_transfer(r, target, event="raft.hand_over")
