"""The follower role: take the leader's log (replication.py), forward proposals, and
campaign at once on TIMEOUT_NOW (leader transfer, thesis §3.10)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import election, replication
from .messages import Message, MsgType
from .ready import ReadState

if TYPE_CHECKING:
    from .core import RaftCore

__all__ = ["step"]


def step(r: RaftCore, m: Message) -> None:
    t = m.type
    if t in (MsgType.APP, MsgType.HEARTBEAT, MsgType.SNAP):
        r.election_elapsed = 0  # the leader is alive: no election, and the lease holds
        r.lead = m.frm
        if t is MsgType.APP:
            replication.handle_append(r, m)
        elif t is MsgType.HEARTBEAT:
            replication.handle_heartbeat(r, m)
        else:
            replication.handle_snapshot(r, m)
    elif t is MsgType.PROP:
        if r.lead == 0:
            r.logger.info("raft.proposal_dropped", reason="no leader", term=r.term)
        else:  # a member that took us for the leader: pass it on
            r.send(MsgType.PROP, r.lead, entries=m.entries)
    elif t is MsgType.TIMEOUT_NOW:
        r.logger.info("raft.timeout_now", frm=f"{m.frm:x}", term=r.term)
        election.hup(r, transfer=True)
    elif t is MsgType.READ_INDEX_RESP:
        r.read_states.append(ReadState(m.index, m.context))
    else:
        # READ_INDEX sent to us by mistake is dropped (the asker retries at its leader);
        # so are the leader-only local messages.
        r.logger.debug("raft.ignored", type=t.name, frm=f"{m.frm:x}", role=r.role.value)
