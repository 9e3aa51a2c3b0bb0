"""The leader's once-a-second look at the membership (etcd 0.4's standby design, v2-spec §5.3).

* A member silent for longer than removeDelay is removed.
* Fewer voters than activeSize and a standby that is caught up: the standby is promoted.
  More voters than activeSize (it was lowered): a follower becomes a standby. 0.4 removed a
  peer outright; keeping it as a standby loses nothing and it comes back when room opens.

One change per look: the log takes one membership change at a time anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import trio

from ..raft import Status
from ..telemetry.logger import Logger
from ..v2 import V2Error
from .clusterconfig import ClusterConfig
from .errors import MemberError
from .reconfig import Reconfig

__all__ = ["Leading", "keep_membership"]

#: how often the leader looks (0.4 looked every second)
LOOK_INTERVAL = 1.0
#: a standby this close to the commit index is caught up: under load it always trails a little
CAUGHT_UP_SLACK = 512


class Leading(Protocol):
    """What the look reads of the replica."""

    member_id: int

    @property
    def is_leader(self) -> bool: ...

    def status(self) -> Status: ...


async def keep_membership(replica: Leading, last_heard: Mapping[int, float], removed: trio.Event,
                          reconfig: Reconfig, log: Logger, every: float = LOOK_INTERVAL) -> None:
    """`last_heard`: when each peer was last heard from (stats.RaftStats), on trio's clock."""
    leading_since: float | None = None
    while True:
        await trio.sleep(every)
        if not replica.is_leader or removed.is_set():
            leading_since = None
            continue
        now = trio.current_time()
        if leading_since is None:
            leading_since = now
        try:
            await _look(replica, last_heard, reconfig, now, leading_since, log)
        except (V2Error, MemberError) as exc:
            log.info("membership.look_failed", error=str(exc))  # next look tries again


async def _look(replica: Leading, last_heard: Mapping[int, float], reconfig: Reconfig, now: float,
                leading_since: float, log: Logger) -> None:
    config = reconfig.cluster_config()
    silent = _silent_member(reconfig, replica.member_id, last_heard, now, leading_since, config)
    if silent is not None:
        log.info("membership.auto_remove", member=f"{silent:x}", remove_delay=config.remove_delay)
        await reconfig.remove_member(silent)
        return
    membership = reconfig.membership
    voters, learners = membership.voters, membership.learners
    status = replica.status()  # one view of every member's progress for this look
    match = {peer: progress.match for peer, progress in status.progress.items()}
    if len(voters) < config.active_size and learners:
        ready = [i for i in learners if match.get(i, 0) + CAUGHT_UP_SLACK >= status.commit]
        if ready:
            best = max(ready, key=lambda i: match.get(i, 0))
            log.info("membership.promote", member=f"{best:x}", active_size=config.active_size)
            await reconfig.promote(best)
    elif len(voters) > config.active_size:
        followers = [v for v in voters if v != replica.member_id]
        target = min(followers, key=lambda v: match.get(v, 0))
        log.info("membership.demote", member=f"{target:x}", active_size=config.active_size)
        await reconfig.demote(target)


def _silent_member(reconfig: Reconfig, me: int, last_heard: Mapping[int, float], now: float,
                   leading_since: float, config: ClusterConfig) -> int | None:
    """A member we have not heard from for removeDelay seconds (counted from when we became
    leader at the earliest: a new leader has not heard anyone yet)."""
    for member_id in reconfig.membership.ids:
        if member_id == me:
            continue
        heard = max(last_heard.get(member_id, leading_since), leading_since)
        if now - heard > config.remove_delay:
            return member_id
    return None
