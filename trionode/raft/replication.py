"""Log replication (paper §5.3, §7): the leader ships entries, snapshots and heartbeats;
followers check, append and answer; the leader tracks answers in PeerProgress and commits
by quorum (paper §5.4.2: only entries of its own term are counted)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .messages import Message, MsgType, Snapshot
from .progress import PeerProgress, ProgressState
from .quorum import committed_index

if TYPE_CHECKING:
    from .core import RaftCore

__all__ = ["send_append", "bcast_append", "bcast_heartbeat", "maybe_commit", "handle_append",
           "handle_heartbeat", "handle_snapshot", "handle_append_response",
           "handle_heartbeat_response", "answer_stale"]


# --- leader side ---------------------------------------------------------------------------

def send_append(r: RaftCore, to: int, *, send_if_empty: bool = True) -> bool:
    """Send `to` the entries from its next index (or the snapshot if they were compacted),
    unless its progress says to wait. True if something was sent."""
    pr = r.prs[to]
    if pr.is_paused():
        return False
    prev = pr.next - 1
    prev_term = r.log.term(prev)
    entries = r.log.entries_from(pr.next, r.config.max_msg_entries) if prev_term is not None else None
    if prev_term is None or entries is None:
        return _send_snapshot(r, to, pr)
    if not entries and not send_if_empty:
        return False
    r.send(MsgType.APP, to, index=prev, log_term=prev_term, entries=tuple(entries),
           commit=r.log.committed)
    pr.sent_entries(len(entries), entries[-1].index if entries else prev)
    return True


def _send_snapshot(r: RaftCore, to: int, pr: PeerProgress) -> bool:
    if not pr.recent_active:
        # Snapshots are big: wait until the follower shows it is alive.
        r.logger.debug("raft.snapshot_deferred", to=f"{to:x}", reason="not recently active")
        return False
    snapshot = r.log.snapshot
    assert snapshot is not None, "entries were compacted but no snapshot is kept"
    r.send(MsgType.SNAP, to, snapshot=snapshot)
    pr.become_snapshot(snapshot.index)
    r.logger.info("raft.snapshot_sent", to=f"{to:x}", snap=f"{snapshot.term}/{snapshot.index}")
    return True


def bcast_append(r: RaftCore) -> None:
    """To every member but us: voters and learners alike (r.prs holds exactly them)."""
    for peer in r.prs:
        if peer != r.id:
            send_append(r, peer)


def bcast_heartbeat(r: RaftCore, ctx: bytes = b"") -> None:
    for peer in r.prs:
        if peer != r.id:
            # Never tell a follower a commit index past what it is known to hold.
            commit = min(r.prs[peer].match, r.log.committed)
            r.send(MsgType.HEARTBEAT, peer, commit=commit, context=ctx)


def maybe_commit(r: RaftCore) -> bool:
    """Advance the commit index to the quorum median of the match indexes, if that entry
    is of the current term (paper §5.4.2, fig. 8)."""
    index = committed_index(r.voters, {p: pr.match for p, pr in r.prs.items()})
    return r.log.maybe_commit(index, r.term)


def handle_append_response(r: RaftCore, m: Message) -> bool:
    """Returns True if the commit index moved (the caller then broadcasts it)."""
    pr = r.prs.get(m.frm)
    if pr is None:
        return False
    pr.recent_active = True
    if m.reject:
        hint = m.reject_hint
        if m.log_term > 0:  # skip every entry of ours whose term cannot match theirs
            hint, _ = r.log.find_conflict_by_term(m.reject_hint, m.log_term)
        if pr.maybe_decr_to(m.index, hint):
            r.logger.debug("raft.append_rejected", frm=f"{m.frm:x}", index=m.index, next=pr.next)
            if pr.state is ProgressState.REPLICATE:
                pr.become_probe()
            send_append(r, m.frm)
        return False
    was_paused = pr.is_paused()
    if not (pr.maybe_update(m.index) or (pr.match == m.index and pr.state is ProgressState.PROBE)):
        return False
    if pr.state is ProgressState.PROBE:
        pr.become_replicate()
    elif pr.state is ProgressState.SNAPSHOT and pr.match + 1 >= r.log.first_index():
        r.logger.info("raft.snapshot_caught_up", frm=f"{m.frm:x}", match=pr.match)
        pr.become_probe()
        pr.become_replicate()
    elif pr.state is ProgressState.REPLICATE:
        pr.inflights.free_le(m.index)
    committed = maybe_commit(r)
    if not committed and was_paused:
        send_append(r, m.frm)
    while send_append(r, m.frm, send_if_empty=False):
        pass  # fill the in-flight window (pipelining)
    return committed


def handle_heartbeat_response(r: RaftCore, m: Message) -> None:
    pr = r.prs.get(m.frm)
    if pr is None:
        return
    pr.recent_active = True
    pr.probe_sent = False
    if pr.state is ProgressState.REPLICATE and pr.inflights.full():
        pr.inflights.free_first_one()
    if pr.match < r.log.last_index() or pr.state is ProgressState.PROBE:
        send_append(r, m.frm)


# --- follower side -------------------------------------------------------------------------

def handle_append(r: RaftCore, m: Message) -> None:
    log = r.log
    if m.index < log.committed:
        r.send(MsgType.APP_RESP, m.frm, index=log.committed)  # we hold all that already
        return
    last_new = log.maybe_append(m.index, m.log_term, m.commit, m.entries)
    if last_new is not None:
        r.send(MsgType.APP_RESP, m.frm, index=last_new)
        return
    # Mismatch at m.index: hint the leader where our logs may still agree (paper §5.3).
    hint, hint_term = log.find_conflict_by_term(min(m.index, log.last_index()), m.log_term)
    r.logger.info("raft.append_rejected", frm=f"{m.frm:x}", index=m.index, log_term=m.log_term,
                  hint=f"{hint_term}/{hint}")
    r.send(MsgType.APP_RESP, m.frm, index=m.index, reject=True, reject_hint=hint,
           log_term=hint_term)


def handle_heartbeat(r: RaftCore, m: Message) -> None:
    r.log.commit_to(m.commit)
    r.send(MsgType.HEARTBEAT_RESP, m.frm, context=m.context)


def handle_snapshot(r: RaftCore, m: Message) -> None:
    assert m.snapshot is not None
    if _restore(r, m.snapshot):
        r.logger.info("raft.snapshot_restored", snap=f"{m.snapshot.term}/{m.snapshot.index}")
        r.send(MsgType.APP_RESP, m.frm, index=r.log.last_index())
    else:
        r.send(MsgType.APP_RESP, m.frm, index=r.log.committed)


def _restore(r: RaftCore, snapshot: Snapshot) -> bool:
    log = r.log
    if snapshot.index <= log.committed:
        return False  # old news
    if log.match_term(snapshot.index, snapshot.term):
        log.commit_to(snapshot.index)  # we have that entry: just learn it is committed
        return False
    log.restore(snapshot)
    return True


# --- any role ------------------------------------------------------------------------------

def answer_stale(r: RaftCore, m: Message) -> None:
    """A message from an older term. A deposed leader that still sends APP/HEARTBEAT is
    told our term so it steps down (otherwise, with pre-vote or check-quorum, a member
    with a higher term could never be heard); a stale pre-vote gets a rejection."""
    if m.type in (MsgType.APP, MsgType.HEARTBEAT) and (r.config.check_quorum or r.config.pre_vote):
        r.send(MsgType.APP_RESP, m.frm)
    elif m.type is MsgType.PRE_VOTE:
        r.send(MsgType.PRE_VOTE_RESP, m.frm, reject=True)
    else:
        r.logger.debug("raft.stale_ignored", type=m.type.name, frm=f"{m.frm:x}", msg_term=m.term)
