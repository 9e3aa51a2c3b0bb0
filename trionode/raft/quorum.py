"""Majority arithmetic (paper §5.2, §5.3): pure functions over a voter set.

A decision needs a majority of the voters; any two majorities intersect, which is what makes
a committed entry or a won election impossible to contradict.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping

__all__ = ["VoteResult", "majority", "committed_index", "vote_result"]


class VoteResult(enum.Enum):
    PENDING = "pending"  # neither outcome is decided yet
    WON = "won"  # a majority granted
    LOST = "lost"  # a majority can no longer grant


def majority(voters: int) -> int:
    """The smallest number of voters that is more than half of them."""
    assert voters > 0, "an empty voter set has no quorum"
    return voters // 2 + 1


def committed_index(voters: Collection[int], match: Mapping[int, int]) -> int:
    """The largest index that a majority of voters has in its log (paper §5.3).

    Sorted from the highest match down, the majority-th value is held by at least a
    majority: the quorum median. A voter missing from `match` counts as 0.
    """
    acked = sorted((match.get(voter, 0) for voter in voters), reverse=True)
    return acked[majority(len(acked)) - 1]


def vote_result(voters: Collection[int], votes: Mapping[int, bool]) -> VoteResult:
    """Tally votes (True = granted); voters not in `votes` have not answered yet."""
    granted = sum(1 for voter in voters if votes.get(voter) is True)
    rejected = sum(1 for voter in voters if votes.get(voter) is False)
    need = majority(len(voters))
    if granted >= need:
        return VoteResult.WON
    if len(voters) - rejected < need:
        return VoteResult.LOST
    return VoteResult.PENDING
