"""A fake http/api.py NodeApi for the handler tests: no Raft, no replica.

Writes apply straight to a real Store, membership changes straight to a real Membership
(as if the log committed them at once), and Raft's view, the stats and the clocks are
fields a test sets. Every call that would go through the log is recorded in `calls`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from trionode.http.api import LEADER, Identity, RaftStatus
from trionode.membership.clusterconfig import ClusterConfig
from trionode.membership.members import ChangeAction, Member, Membership, change_command
from trionode.store import Event, Store
from trionode.store.commands import Command

__all__ = ["FakeApi", "FakeFollower", "FakeReconfig", "FakeStats", "MEMBERS"]

#: 2014-10-01T12:00:00Z, a fixed wall clock
T0 = 1_412_164_800_000_000_000

MEMBERS = (
    Member(0xA1, "n1", ("http://10.0.0.1:7001",), ("http://10.0.0.1:4001",)),
    Member(0xB2, "b-node", ("http://10.0.0.2:7001", "http://x:1"), ("http://10.0.0.2:4001",)),
)


@dataclass
class FakeFollower:
    text: str = '{"latency":{},"counts":{}}'

    def to_json(self) -> str:
        return self.text


@dataclass
class FakeStats:
    recv_append_count: int = 0
    send_append_count: int = 0
    leader_since_ns: int = T0
    rates: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    followers: dict[int, FakeFollower] = field(default_factory=dict)
    asked: list[object] = field(default_factory=list)  # what append_rates and follower_stats got

    def append_rates(self, now: float) -> tuple[float, float, float, float]:
        self.asked.append(now)
        return self.rates

    def follower_stats(self, peers: Iterable[int]) -> dict[int, FakeFollower]:
        peers = list(peers)
        self.asked.append(peers)
        return {peer: self.followers.get(peer) or FakeFollower() for peer in peers}


class FakeReconfig:
    """Changes applied to the api's Membership at once; `fail` is raised instead when set."""

    def __init__(self, api: FakeApi) -> None:
        self._api = api
        self.config = ClusterConfig()
        self.next_id = 0xB2
        self.index = 1234  # what remove_member says was applied
        self.fail: Exception | None = None

    def cluster_config(self) -> ClusterConfig:
        return self.config

    async def set_cluster_config(self, config: ClusterConfig) -> ClusterConfig:
        self._call("config", config)
        self.config = config
        return config

    async def add_member(self, peer_urls: Sequence[str]) -> Member:
        self._call("add", list(peer_urls))
        return self._api.membership.change(change_command(ChangeAction.ADD, self.next_id, peer_urls)).member

    async def update_member(self, member_id: int, peer_urls: Sequence[str]) -> None:
        self._call("update", member_id, list(peer_urls))
        self._api.membership.change(change_command(ChangeAction.UPDATE, member_id, peer_urls))

    async def remove_member(self, member_id: int) -> int:
        self._call("remove", member_id)
        self._api.membership.change(change_command(ChangeAction.REMOVE, member_id))
        return self.index

    def _call(self, *call: object) -> None:
        if self.fail is not None:
            raise self.fail
        self._api.calls.append(call)


class FakeApi:
    """A NodeApi. `status` is what raft_status() answers; `now_ns` is the wall clock."""

    def __init__(self, members: Iterable[Member] = MEMBERS, *, member_id: int = 0xA1, name: str = "n1",
                 cluster_id_hex: str = "c1", leader_id: int | None = None, state: str = LEADER,
                 removed: Iterable[int] = ()) -> None:
        self.identity = Identity(name, member_id, cluster_id_hex, ("http://10.0.0.1:4001",), T0)
        self.store = Store()
        self.membership = Membership(int(cluster_id_hex, 16), members)
        self.membership.removed.update(removed)
        self.status = RaftStatus(0, 1, state, member_id if leader_id is None else leader_id)
        self.stats = FakeStats()
        self.reconfig = FakeReconfig(self)
        self.now_ns = T0
        self.calls: list[tuple[object, ...]] = []
        self.barriers = 0

    def clock(self) -> int:
        return self.now_ns

    def raft_status(self) -> RaftStatus:
        return self.status

    async def propose(self, command: Command) -> list[Event]:
        self.calls.append(("propose", command))
        events = self.store.apply(command)
        self.status = self.status._replace(applied=self.status.applied + 1)
        return events

    async def read_barrier(self) -> None:
        self.barriers += 1
