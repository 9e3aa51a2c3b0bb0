"""The leader role: heartbeats, check-quorum (thesis §6.2), proposals, leadership transfer
(thesis §3.10) and ReadIndex (thesis §6.4). Log shipping itself is in replication.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import replication
from .messages import Entry, Message, MsgType
from .progress import ProgressState
from .quorum import VoteResult, vote_result
from .ready import ReadState
from .roles import Role

if TYPE_CHECKING:
    from .core import RaftCore

__all__ = ["tick", "step", "append_proposals", "self_ack", "committed", "send_timeout_now", "start_transfer",
           "handle_read_index", "confirm_reads"]


def tick(r: RaftCore) -> None:
    r.heartbeat_elapsed += 1
    r.election_elapsed += 1
    if r.election_elapsed >= r.config.election_tick:
        r.election_elapsed = 0
        if r.config.check_quorum and not _check_quorum(r):
            return
        if not r.promotable():
            # Removed while leading and the hand-over did not finish in time: stop leading
            # anyway; the voters elect a leader among themselves (membership.hand_over).
            _step_down_removed(r, reason="timeout")
            return
        if r.lead_transferee:
            # The target did not take over within an election timeout: carry on (§3.10).
            r.logger.info("raft.transfer_aborted", to=f"{r.lead_transferee:x}", reason="timeout")
            r.lead_transferee = 0
    if r.heartbeat_elapsed >= r.config.heartbeat_tick:
        r.heartbeat_elapsed = 0
        r.step(Message(MsgType.BEAT, to=r.id, frm=r.id))


def _check_quorum(r: RaftCore) -> bool:
    """Step down if a majority was not heard from during the last election timeout: a
    leader cut off from the majority stops serving, and a new one may be elected without
    it interfering (thesis §6.2). False if we stepped down."""
    active = {p: p == r.id or pr.recent_active for p, pr in r.prs.items()}
    for p, pr in r.prs.items():
        if p != r.id:
            pr.recent_active = False
    if vote_result(r.voters, active) is VoteResult.WON:
        return True
    r.logger.info("raft.quorum_lost", term=r.term,
                  active=",".join(f"{p:x}" for p in sorted(active) if active[p]))
    r.become_follower(r.term, 0)
    return False


def step(r: RaftCore, m: Message) -> None:
    t = m.type
    if t is MsgType.BEAT:
        # Repeat the newest read round, so a lost heartbeat cannot strand pending reads.
        replication.bcast_heartbeat(r, r.read_only.last_ctx() or b"")
    elif t is MsgType.PROP:
        if r.lead_transferee:
            r.logger.info("raft.proposal_dropped", reason="transferring", frm=f"{m.frm:x}")
        else:
            append_proposals(r, [e.data for e in m.entries])
    elif t is MsgType.APP_RESP:
        if replication.handle_append_response(r, m):
            committed(r)
        pr = r.prs.get(m.frm)
        if (pr is not None and m.frm == r.lead_transferee and not m.reject
                and pr.match == r.log.last_index()):
            send_timeout_now(r, m.frm)
    elif t is MsgType.HEARTBEAT_RESP:
        replication.handle_heartbeat_response(r, m)
        if m.context:
            _ack_read(r, m.frm, m.context)
    elif t is MsgType.READ_INDEX:
        handle_read_index(r, m.frm, m.context)
    elif t in (MsgType.SNAP_STATUS, MsgType.UNREACHABLE):
        _report(r, m)
    elif t is MsgType.TRANSFER_LEADER:
        _transfer(r, m.frm)
    else:
        r.logger.debug("raft.ignored", type=t.name, frm=f"{m.frm:x}", role=r.role.value)


def append_proposals(r: RaftCore, datas: list[bytes]) -> None:
    last = r.log.last_index()
    entries = []
    for index, data in enumerate(datas, start=last + 1):
        if data and r.config.is_conf_change(data):
            data = _admit_conf_change(r, index, data)
        entries.append(Entry(r.term, index, data))
    r.log.append(entries)
    replication.bcast_append(r)


def _admit_conf_change(r: RaftCore, index: int, data: bytes) -> bytes:
    """One membership change at a time (membership.py): while an earlier one may still be
    unapplied here — anything up to pending_conf_index could be one — a new one becomes
    what config.refuse_conf_change makes of it (an empty entry unless the edge says)."""
    if r.pending_conf_index > r.log.applied:
        r.logger.info("raft.conf_change_refused", index=index, pending=r.pending_conf_index,
                      applied=r.log.applied)
        return r.config.refuse_conf_change(data)
    r.pending_conf_index = index
    return data


def self_ack(r: RaftCore) -> None:
    """advance(): our own entries up to `stable` are on disk and count toward a quorum."""
    if r.prs[r.id].maybe_update(r.log.stable) and replication.maybe_commit(r):
        committed(r)


def committed(r: RaftCore) -> None:
    """The commit index moved: tell the followers, and start reads that were waiting for
    the first commit of this term."""
    if r.pending_reads and r.log.term(r.log.committed) == r.term:
        waiting, r.pending_reads = r.pending_reads, []
        for frm, ctx in waiting:
            handle_read_index(r, frm, ctx)
    replication.bcast_append(r)


def _report(r: RaftCore, m: Message) -> None:
    """The edge says a send failed (UNREACHABLE) or a snapshot transfer ended
    (SNAP_STATUS): go back to probing so replication resumes (STYLE principle 10)."""
    pr = r.prs.get(m.frm)
    if pr is None or m.frm == r.id:
        return
    if m.type is MsgType.UNREACHABLE:
        if pr.state is ProgressState.REPLICATE:
            pr.become_probe()
        r.logger.debug("raft.unreachable", peer=f"{m.frm:x}", next=pr.next)
        return
    if pr.state is not ProgressState.SNAPSHOT:
        return
    if m.reject:
        pr.pending_snapshot = 0  # failed: probe from the match again
    pr.become_probe()
    pr.probe_sent = True  # wait for the follower's answer (or a heartbeat) before probing
    r.logger.info("raft.snapshot_status", peer=f"{m.frm:x}", ok=not m.reject, next=pr.next)


# --- leadership transfer (thesis §3.10) ----------------------------------------------------

def _transfer(r: RaftCore, to: int) -> None:
    if to == r.id or to not in r.voters:  # a learner cannot be elected
        r.logger.info("raft.transfer_ignored", to=f"{to:x}")
        return
    if r.lead_transferee == to:
        return
    if r.lead_transferee:
        r.logger.info("raft.transfer_aborted", to=f"{r.lead_transferee:x}", reason="replaced")
    start_transfer(r, to, event="raft.transfer_started")


def start_transfer(r: RaftCore, to: int, *, event: str) -> None:
    """Hand leadership to voter `to` (thesis §3.10), asked for (TRANSFER_LEADER) or because
    we no longer vote (membership.hand_over). Proposals stop (core.propose raises) and the
    transfer must finish within one election timeout, else tick() aborts it. TIMEOUT_NOW
    goes once `to` holds our whole log: now, or when its APP_RESP says so (step)."""
    r.election_elapsed = 0
    r.lead_transferee = to
    r.logger.info(event, to=f"{to:x}", match=r.prs[to].match, last=r.log.last_index())
    if r.prs[to].match == r.log.last_index():
        send_timeout_now(r, to)
    else:
        replication.send_append(r, to)


def send_timeout_now(r: RaftCore, to: int) -> None:
    r.send(MsgType.TIMEOUT_NOW, to)
    r.logger.info("raft.timeout_now_sent", to=f"{to:x}")
    if not r.promotable():
        _step_down_removed(r, reason="handed over")


def _step_down_removed(r: RaftCore, *, reason: str) -> None:
    """A leader that is no longer a voter becomes a follower of its own term; it never
    campaigns again (election.tick) unless a later membership makes it a voter."""
    r.logger.info("raft.removed_leader_steps_down", term=r.term, reason=reason)
    r.become_follower(r.term, 0)


# --- ReadIndex (thesis §6.4) ---------------------------------------------------------------

def handle_read_index(r: RaftCore, frm: int, ctx: bytes) -> None:
    assert r.role is Role.LEADER
    if r.log.term(r.log.committed) != r.term:
        # Until an entry of this term commits, our commit index may lag what a previous
        # leader committed: wait for it (§6.4 step 1).
        r.pending_reads.append((frm, ctx))
        r.logger.debug("raft.read_deferred", frm=f"{frm:x}", ctx=ctx.hex())
        return
    if r.voters == (r.id,):
        _answer_read(r, frm, r.log.committed, ctx)  # we are the quorum
        return
    if r.read_only.add(r.log.committed, frm, ctx):
        _ack_read(r, r.id, ctx)
        replication.bcast_heartbeat(r, ctx)


def _ack_read(r: RaftCore, frm: int, ctx: bytes) -> None:
    acks = r.read_only.ack(frm, ctx)
    if acks is None or vote_result(r.voters, dict.fromkeys(acks, True)) is not VoteResult.WON:
        return
    confirm_reads(r, ctx)


def confirm_reads(r: RaftCore, ctx: bytes) -> None:
    """A quorum acknowledged the round of `ctx`: answer it and every earlier one."""
    for read in r.read_only.confirm(ctx):
        _answer_read(r, read.frm, read.index, read.ctx)


def _answer_read(r: RaftCore, frm: int, index: int, ctx: bytes) -> None:
    if frm == r.id:
        r.read_states.append(ReadState(index, ctx))
    else:
        r.send(MsgType.READ_INDEX_RESP, frm, index=index, context=ctx)
