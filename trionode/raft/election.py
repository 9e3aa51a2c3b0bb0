"""Elections (paper §5.2, §5.4.1) with pre-vote (thesis §9.6): the election timer, the
pre-candidate and candidate roles, and how any member answers a (pre-)vote request.

Pre-vote: before bumping its term a member asks whether it could win; a member cut off
from the leader therefore cannot inflate its term and depose a healthy leader on rejoin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .messages import Message, MsgType
from .quorum import VoteResult, vote_result
from .roles import Role

if TYPE_CHECKING:
    from .core import RaftCore

__all__ = ["TRANSFER", "tick", "hup", "campaign", "poll", "handle_vote_request", "step_candidate"]

#: VOTE context of a campaign started by TIMEOUT_NOW: it overrides the leader lease (§3.10)
TRANSFER = b"transfer"


def tick(r: RaftCore) -> None:
    """Followers and candidates: campaign after a randomized election timeout."""
    r.election_elapsed += 1
    if r.promotable() and r.election_elapsed >= r.randomized_timeout:
        r.election_elapsed = 0
        r.step(Message(MsgType.HUP, to=r.id, frm=r.id))


def hup(r: RaftCore, *, transfer: bool) -> None:
    if r.role is Role.LEADER:
        r.logger.debug("raft.hup_ignored_as_leader", term=r.term)
        return
    if not r.promotable():
        r.logger.debug("raft.hup_ignored", reason="not a voter", term=r.term)
        return
    campaign(r, pre=r.config.pre_vote and not transfer, transfer=transfer)


def campaign(r: RaftCore, *, pre: bool, transfer: bool = False) -> None:
    if pre:
        r.become_pre_candidate()
        request, term = MsgType.PRE_VOTE, r.term + 1
    else:
        r.become_candidate()
        request, term = MsgType.VOTE, r.term
    # Our own vote counts at once: the HardState that records it is persisted before
    # the requests leave (Ready order), and a single member wins on the spot.
    if poll(r, r.id, granted=True) is VoteResult.WON:
        _won(r)
        return
    log = r.log
    for peer in r.voters:
        if peer != r.id:
            r.send(request, peer, term=term, log_term=log.last_term(), index=log.last_index(),
                   context=TRANSFER if transfer else b"")
    r.logger.info("raft.campaign", type=request.name, term=term, last=f"{log.last_term()}/{log.last_index()}")


def poll(r: RaftCore, frm: int, *, granted: bool) -> VoteResult:
    r.votes.setdefault(frm, granted)  # a duplicate answer does not change the first
    return vote_result(r.voters, r.votes)


def _won(r: RaftCore) -> None:
    if r.role is Role.PRE_CANDIDATE:
        campaign(r, pre=False)
    else:
        r.become_leader()


def handle_vote_request(r: RaftCore, m: Message) -> None:
    """Grant if we may still vote in m.term and the candidate's log is at least as up to
    date as ours (§5.4.1). The grant is recorded in the HardState, persisted before the
    answer leaves. A pre-vote grant changes nothing (thesis §9.6)."""
    pre = m.type is MsgType.PRE_VOTE
    answer = MsgType.PRE_VOTE_RESP if pre else MsgType.VOTE_RESP
    free = r.vote == m.frm or (r.vote == 0 and r.lead == 0) or (pre and m.term > r.term)
    up_to_date = r.log.is_up_to_date(m.index, m.log_term)
    if free and up_to_date:
        r.send(answer, m.frm, term=m.term)
        if not pre:
            r.election_elapsed = 0
            r.vote = m.frm
        r.logger.info("raft.vote_granted", type=m.type.name, to=f"{m.frm:x}", term=m.term)
        return
    r.send(answer, m.frm, term=r.term, reject=True)
    r.logger.info("raft.vote_rejected", type=m.type.name, to=f"{m.frm:x}", term=r.term,
                  voted=f"{r.vote:x}", up_to_date=up_to_date)


def step_candidate(r: RaftCore, m: Message) -> None:
    mine = MsgType.PRE_VOTE_RESP if r.role is Role.PRE_CANDIDATE else MsgType.VOTE_RESP
    if m.type in (MsgType.APP, MsgType.HEARTBEAT, MsgType.SNAP):
        # Someone won this term (paper §5.2); a pre-candidate also yields to a live leader.
        r.become_follower(m.term, m.frm)
        r.step(m)
    elif m.type is mine:
        result = poll(r, m.frm, granted=not m.reject)
        r.logger.info("raft.vote_tally", type=m.type.name, frm=f"{m.frm:x}", granted=not m.reject,
                      result=result.value)
        if result is VoteResult.WON:
            _won(r)
        elif result is VoteResult.LOST:
            r.become_follower(r.term, 0)
    elif m.type is MsgType.PROP:
        r.logger.info("raft.proposal_dropped", reason="no leader", term=r.term)
    else:
        r.logger.debug("raft.ignored", type=m.type.name, frm=f"{m.frm:x}", role=r.role.value)
