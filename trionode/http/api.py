"""What the HTTP handlers read and ask of the node: one narrow API (issue 11).

Every handler of both ports (keys, info, members, admin, the discovery service) takes a
`NodeApi`; node.py's `HttpView` is the one implementation, and tests hand in fakes. What it
offers, and how often each part may change:

* `identity`: who this member is, fixed at start (`Identity`);
* `clock()`: the wall clock, ns, that TTLs and stats times are read on;
* `store` and `membership`: the state machine as this member has applied it. Read them
  afresh on every use: installing a snapshot replaces the store object;
* `raft_status()`: Raft's view in one small tuple (`RaftStatus`), built per call, so the
  keys path builds at most one per request for its X-Raft-* headers;
* `stats`: the traffic counts for /v2/stats/self and /v2/stats/leader (server/stats.py);
* `propose()`, `read_barrier()`: a write through the log, a linearizable read (ReadIndex);
* `reconfig`: membership and cluster-config changes, through the log (membership/reconfig.py).

The http edge imports nothing of server/ or node (tests/unit/test_layout.py), so what the
handlers read of the stats is a Protocol here, which server/stats.py RaftStats satisfies;
membership changes are one too (MemberChanges), which membership/reconfig.py Reconfig
satisfies, so that a fake needs only those five methods. The store and the membership are
the real pure classes: a fake uses them as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from ..membership.clusterconfig import ClusterConfig
from ..membership.members import Member, Membership
from ..store import Event, Store
from ..store.commands import Command

__all__ = ["CANDIDATE", "FOLLOWER", "LEADER", "PRE_CANDIDATE", "FollowerView", "Identity", "MemberChanges",
           "NodeApi", "RaftStatus", "StatsView"]

#: Raft's roles under etcd's names, as /v2/stats/self reports them (RaftStatus.state). The
#: http edge does not import raft/: node.py maps raft's Role onto these.
LEADER = "StateLeader"
FOLLOWER = "StateFollower"
CANDIDATE = "StateCandidate"
PRE_CANDIDATE = "StatePreCandidate"


@dataclass(frozen=True, slots=True)
class Identity:
    """Who this member is; fixed for the life of the process."""

    name: str
    member_id: int
    cluster_id_hex: str  # as X-Etcd-Cluster-Id spells it
    client_urls: tuple[str, ...]  # advertised
    start_ns: int  # wall clock, for /v2/stats/self startTime


class RaftStatus(NamedTuple):
    """Raft's view at one moment; the keys path builds one per request."""

    applied: int  # the last index applied here: X-Raft-Index
    term: int  # X-Raft-Term
    state: str  # LEADER, FOLLOWER, CANDIDATE or PRE_CANDIDATE
    leader_id: int  # 0 = none known


class FollowerView(Protocol):
    """One follower's round trips as the leader measured them."""

    def to_json(self) -> str: ...


class StatsView(Protocol):
    """What the stats endpoints read of the Raft traffic counts (server/stats.py RaftStats)."""

    @property
    def recv_append_count(self) -> int: ...

    @property
    def send_append_count(self) -> int: ...

    @property
    def leader_since_ns(self) -> int:
        """When this member last saw the leader change (wall clock)."""
        ...

    def append_rates(self, now: float) -> tuple[float, float, float, float]:
        """(recvPkgRate, recvBandwidthRate, sendPkgRate, sendBandwidthRate) at `now` on
        trio's clock; 0 = none."""
        ...

    def follower_stats(self, peers: Iterable[int]) -> Mapping[int, FollowerView]: ...


class MemberChanges(Protocol):
    """Membership and cluster-config changes (membership/reconfig.py Reconfig). Each goes
    through the log and returns once this member applied it; MemberError or V2Error if not."""

    def cluster_config(self) -> ClusterConfig: ...

    async def set_cluster_config(self, config: ClusterConfig) -> ClusterConfig: ...

    async def add_member(self, peer_urls: Sequence[str]) -> Member: ...

    async def update_member(self, member_id: int, peer_urls: Sequence[str]) -> None: ...

    async def remove_member(self, member_id: int) -> int:
        """The index this member had applied when it applied the removal."""
        ...


class NodeApi(Protocol):
    """Everything a handler may read or ask of the node."""

    @property
    def identity(self) -> Identity: ...

    @property
    def stats(self) -> StatsView: ...

    @property
    def reconfig(self) -> MemberChanges: ...

    @property
    def store(self) -> Store:
        """The applied key space; replaced when a snapshot is installed: read it each time."""
        ...

    @property
    def membership(self) -> Membership:
        """The applied membership (members, removed ids)."""
        ...

    def clock(self) -> int:
        """Wall clock, ns."""
        ...

    def raft_status(self) -> RaftStatus: ...

    async def propose(self, command: Command) -> list[Event]:
        """Replicate `command`; its events once applied here, or its V2Error."""
        ...

    async def read_barrier(self) -> None:
        """Return once this member applied everything committed when asked (V2Error if not)."""
        ...
