"""The four roles and the moves between them, in one table (STYLE principle 4).

    FOLLOWER      --election timeout, pre-vote on-->  PRE_CANDIDATE   (thesis §9.6)
    FOLLOWER      --election timeout / TIMEOUT_NOW->  CANDIDATE       (paper §5.2, thesis §3.10)
    PRE_CANDIDATE --majority of pre-votes-------->  CANDIDATE
    CANDIDATE     --majority of votes------------>  LEADER
    any           --higher term, lost, or a leader->  FOLLOWER
A leader never campaigns, and only a candidate becomes leader.
"""

from __future__ import annotations

import enum

__all__ = ["Role", "LEGAL_MOVES"]


class Role(enum.Enum):
    FOLLOWER = "follower"
    PRE_CANDIDATE = "pre-candidate"
    CANDIDATE = "candidate"
    LEADER = "leader"


#: role -> the roles it may move to next
LEGAL_MOVES: dict[Role, frozenset[Role]] = {
    Role.FOLLOWER: frozenset({Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE}),
    Role.PRE_CANDIDATE: frozenset({Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE}),
    Role.CANDIDATE: frozenset({Role.FOLLOWER, Role.PRE_CANDIDATE, Role.CANDIDATE, Role.LEADER}),
    Role.LEADER: frozenset({Role.FOLLOWER}),
}
