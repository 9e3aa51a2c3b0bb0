"""One node = one trio cancellation tree.

The root nursery owns the Raft Ready loop and its ticker, the peer listener (binary
protocol and the peer-port HTTP API) and senders, the TTL ticker, the leader's membership
look (membership/standbys.py), the HTTP front end and the signal watcher. Any task failing takes the
whole node down. SIGTERM or SIGINT first hands leadership to a follower (Raft thesis
§3.10) so the cluster does not wait out an election timeout, then cancels the tree: open
long polls close, an fsync in flight finishes, the log is closed. A member that applies
its own removal stops the same way.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable
from typing import Any

import trio

from .config.errors import ConfigError
from .config.flags import Config
from .config.values import Url
from .http import HttpLimits, serve_http
from .http.admin import PeerApp
from .http.app import ClientApp
from .http.server import HttpConnections
from .membership.bootstrap import Bootstrap, cluster_token, plan, recorded
from .membership.clusterconfig import ClusterConfig
from .membership.join import removed_by_peers
from .membership.members import Member, Membership, publish_command
from .membership.reconfig import Reconfig
from .membership.standbys import keep_membership
from .net.listen import bound_urls, listen
from .peer import PeerTransport
from .raft import Message, MsgType, RaftConfig, RaftCore, Role
from .raft.membership import successor
from .server.payload import is_conf_change, refused
from .server.replica import Replica, tick_forever
from .server.statemachine import StateMachine
from .server.stats import FollowerStats
from .storage import DataDir, Recovered, Storage
from .store import Event, Store
from .store.commands import Command, Op
from .v2.errors import EtcdError

__all__ = ["serve", "Node"]

#: How often the leader looks for due TTLs; etcd's leader sweeps every 500 ms.
SYNC_INTERVAL = 0.5
#: How long a request waits for its entry to be applied before error 300.
REQUEST_TIMEOUT = 5.0
_STATE_NAMES = {Role.LEADER: "StateLeader", Role.FOLLOWER: "StateFollower",
                Role.CANDIDATE: "StateCandidate", Role.PRE_CANDIDATE: "StatePreCandidate"}


class Node:
    """What the HTTP handlers see of the node (http/keys.py KeysNode, http/info.py InfoNode)."""

    def __init__(self, config: Config, member_id: int, cluster_id: int, replica: Replica,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.name = config.name
        self.member_id = member_id
        self.cluster_id_hex = f"{cluster_id:x}"
        self.client_urls = tuple(str(u) for u in config.advertise_client_urls)
        self.clock = clock
        self.start_ns = clock()
        self.replica = replica
        self.reconfig = Reconfig(replica, cluster_token(config), ClusterConfig(
            config.active_size, config.remove_delay_s, config.sync_interval_s))

    @property
    def store(self) -> Store:
        return self.replica.machine.store

    @property
    def members(self) -> list[Member]:
        return self.replica.machine.membership.members

    @property
    def removed_ids(self) -> set[int]:
        return self.replica.machine.membership.removed

    def cluster_config(self) -> ClusterConfig:
        return self.reconfig.cluster_config()

    async def set_cluster_config(self, config: ClusterConfig) -> ClusterConfig:
        return await self.reconfig.set_cluster_config(config)

    async def add_member(self, peer_urls: list[str]) -> Member:
        return await self.reconfig.add_member(peer_urls)

    async def update_member(self, member_id: int, peer_urls: list[str]) -> None:
        await self.reconfig.update_member(member_id, peer_urls)

    async def remove_member(self, member_id: int) -> int:
        return await self.reconfig.remove_member(member_id)

    @property
    def raft_index(self) -> int:
        return self.replica.applied

    @property
    def raft_term(self) -> int:
        return self.replica.core.term

    @property
    def raft_state(self) -> str:
        return _STATE_NAMES[self.replica.core.role]

    @property
    def leader_id(self) -> int:
        return self.replica.core.lead

    @property
    def leader_since_ns(self) -> int:
        return self.replica.leader_since_ns

    @property
    def recv_append_count(self) -> int:
        return self.replica.recv_append_count

    @property
    def send_append_count(self) -> int:
        return self.replica.send_append_count

    def append_rates(self) -> tuple[float, float, float, float]:
        now = trio.current_time()
        return (*self.replica.recv_rate.rates(now), *self.replica.send_rate.rates(now))

    def follower_stats(self) -> dict[int, FollowerStats] | None:
        if not self.replica.is_leader:
            return None
        return {m.id: self.replica.followers.get(m.id) or FollowerStats()
                for m in self.members if m.id != self.member_id}

    async def propose(self, command: Command) -> list[Event]:
        return await self.replica.propose(command)

    async def read_barrier(self) -> None:
        await self.replica.read_barrier()


async def serve(config: Config, log: Any) -> None:
    """Run a node until SIGTERM/SIGINT; raises DataDirError/WalCorruptError on bad data."""
    token = cluster_token(config)
    fresh = not DataDir.exists(config.data_dir)
    # A new member finds out who its cluster is (which may mean asking a running cluster
    # or a discovery service) before its data dir exists: the answer is recorded in it.
    planned = await plan(config, log) if fresh else None
    with DataDir.open(config.data_dir, config.name, token, ids=planned and planned.ids,
                      bootstrap=planned and planned.record()) as datadir:
        boot = recorded(datadir.bootstrap, config)
        storage, recovered = await trio.to_thread.run_sync(Storage.open, config.data_dir, log)
        try:
            await _run(config, datadir, storage, recovered, boot, log)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(storage.close)
    log.info("stopped")


def _replica(config: Config, member_id: int, cluster_id: int, storage: Storage, recovered: Recovered,
             boot: Bootstrap, send: Callable[..., None], on_membership: Callable[[], None],
             log: Any) -> Replica:
    machine = StateMachine(Store(config.max_history), Membership(cluster_id, boot.members), config.max_history)
    snapshot_index = 0
    if recovered.snapshot is not None:
        machine.load(recovered.snapshot.data)
        snapshot_index = recovered.snapshot.index
    membership = machine.membership
    if member_id in membership.removed:
        raise ConfigError(f"member {member_id:x} was removed from the cluster: start it with a new "
                          "data dir after adding it again")
    # A joining member votes for nothing and counts no one until the leader's snapshot
    # tells it who the members are.
    waiting = boot.joined and recovered.snapshot is None
    voters, learners = ((), ()) if waiting else (membership.voters, membership.learners)
    raft_config = RaftConfig(
        id=member_id, peers=voters, learners=learners, is_conf_change=is_conf_change,
        refuse_conf_change=refused,
        election_tick=max(2, config.election_timeout_ms // config.heartbeat_interval_ms),
        heartbeat_tick=1, rng=random.Random(os.urandom(16)), logger=log)
    core = RaftCore(raft_config, recovered.hard_state, recovered.snapshot, recovered.entries)
    log.info("recovered", snapshot_index=snapshot_index, entries=len(recovered.entries),
             term=recovered.hard_state.term, commit=recovered.hard_state.commit, joining=waiting)
    return Replica(core, storage, machine, member_id=member_id, applied=snapshot_index,
                   snapshot_index=snapshot_index, snapshot_count=config.snapshot_count,
                   request_timeout=REQUEST_TIMEOUT, send=send, log=log,
                   id_start=int.from_bytes(os.urandom(6), "big"), on_membership=on_membership)


async def _run(config: Config, datadir: DataDir, storage: Storage, recovered: Recovered,
               boot: Bootstrap, log: Any) -> None:
    member_id, cluster_id = datadir.member_id, datadir.cluster_id
    own_peer = config.initial_advertise_peer_urls[0]
    transport: PeerTransport | None = None
    replica: Replica | None = None

    def send(messages: Any) -> None:
        assert transport is not None
        transport.send(messages)

    def peers() -> dict[int, tuple[str, int]]:
        assert replica is not None
        found = {}
        for m in replica.machine.membership.members:
            if m.id == member_id or not m.peer_urls:
                continue
            try:
                url = Url.parse(m.peer_urls[0])
            except ConfigError:  # the members API admits only dialable URLs; never crash on one
                log.error("peer.bad_url", peer=f"{m.id:x}", url=m.peer_urls[0])
                continue
            found[m.id] = (url.host, url.port)
        return found

    def on_membership() -> None:
        if transport is not None:
            transport.set_peers(peers())

    replica = _replica(config, member_id, cluster_id, storage, recovered, boot, send, on_membership, log)
    node = Node(config, member_id, cluster_id, replica)
    limits = _http_limits(config)
    peer_http = HttpConnections(PeerApp(node), limits, log)  # the peer port's HTTP side
    transport = PeerTransport(member_id, cluster_id, peers(), own_peer.host, log, deliver=replica.deliver,
                              report_unreachable=replica.report_unreachable,
                              report_snapshot=replica.report_snapshot, http_serve=peer_http.serve)
    async with trio.open_nursery() as nursery:
        await nursery.start(peer_http.run)
        nursery.start_soon(_stop_on_signal, nursery.cancel_scope, replica, config, log)
        nursery.start_soon(_stop_when_removed, nursery.cancel_scope, replica, config, log)
        nursery.start_soon(_ask_if_removed, replica, cluster_id, config, log)
        await nursery.start(replica.run)
        nursery.start_soon(replica.expire_requests)
        if replica.core.voters == (member_id,):  # alone: no one to wait for, campaign at once
            replica.deliver(Message(MsgType.HUP, to=member_id, frm=member_id))
        peer_listeners = await listen(config.listen_peer_urls)
        await nursery.start(transport.serve, peer_listeners)
        await nursery.start(transport.run)
        nursery.start_soon(tick_forever, replica, config.heartbeat_interval_ms / 1000)
        nursery.start_soon(_expiry_ticker, node)
        nursery.start_soon(keep_membership, replica, node.reconfig, log)
        # Serve clients only once our own publish entry is applied: then everything that
        # was committed before this start is applied too, and no read sees an older state
        # (etcd waits for the same thing before it serves).
        await _publish(node, log)
        listeners = await listen(config.listen_client_urls)
        app = ClientApp(node, discovery_service=config.discovery_service)
        await nursery.start(serve_http, listeners, app, limits, log)
        log.info("ready", member=f"{member_id:x}", cluster=node.cluster_id_hex,
                 client_urls=",".join(bound_urls(listeners)), peer_urls=",".join(bound_urls(peer_listeners)))


def _http_limits(config: Config) -> HttpLimits:
    settings = config.http
    return HttpLimits(max_header_bytes=settings.max_header_bytes, max_body_bytes=settings.max_body_bytes,
                      idle_timeout=settings.idle_timeout_s, request_timeout=settings.request_timeout_s)


async def _stop_on_signal(scope: trio.CancelScope, replica: Replica, config: Config, log: Any) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("shutting_down", signal=signal.Signals(signum).name)
            with trio.move_on_after(config.election_timeout_ms / 1000):
                await _hand_over_leadership(replica, log)
            scope.cancel()
            return


async def _stop_when_removed(scope: trio.CancelScope, replica: Replica, config: Config, log: Any) -> None:
    """A removed member stops: it has no vote and no one sends it anything any more. A
    removed leader first lets its hand-over (TIMEOUT_NOW, see raft) and last answers go."""
    await replica.removed.wait()
    with trio.move_on_after(2 * config.election_timeout_ms / 1000):
        while replica.is_leader:
            await replica.role_changed.wait()
    await trio.sleep(2 * config.heartbeat_interval_ms / 1000)
    log.info("stopping", reason="removed from the cluster")
    scope.cancel()


async def _ask_if_removed(replica: Replica, cluster_id: int, config: Config, log: Any) -> None:
    """A member removed while it was down or cut off never applies its removal: the others
    no longer talk to it. After a while without a leader it asks them (GET /members/<id>)."""
    every = 10 * config.election_timeout_ms / 1000
    while not replica.removed.is_set():
        await trio.sleep(every)
        if replica.core.lead:
            continue
        me = replica.member_id
        urls = [m.peer_urls[0] for m in replica.machine.membership.members if m.id != me and m.peer_urls]
        if await removed_by_peers(urls, me, cluster_id, log):
            log.warning("member_removed", member=f"{me:x}", reason="the cluster says it removed this member")
            replica.removed.set()


async def _hand_over_leadership(replica: Replica, log: Any) -> None:
    """Transfer leadership to the most up-to-date follower before going away."""
    status = replica.core.status
    if status.role is not Role.LEADER:
        return
    target = successor(status.voters, lambda peer: status.progress[peer].match, replica.member_id)
    if target is None:
        return
    log.info("leader_transfer", to=f"{target:x}")
    replica.transfer_leadership(target)
    while replica.is_leader:
        await replica.role_changed.wait()


async def _publish(node: Node, log: Any) -> None:
    """Make this member's name and client URLs known to the cluster (retried until applied)."""
    command = publish_command(node.member_id, node.name, node.client_urls,
                              node.reconfig.default_config.to_json())
    while True:
        try:
            await node.propose(command)
            log.info("published", client_urls=",".join(node.client_urls))
            return
        except EtcdError:
            await trio.sleep(0.5)  # no leader yet, or it timed out: try again


async def _expiry_ticker(node: Node) -> None:
    """The leader proposes Sync(now) whenever a TTL is due (STYLE principle 3: expiry is a
    logged operation; a member cut off from the leader expires nothing on its own)."""
    while True:
        await trio.sleep(SYNC_INTERVAL)
        due = node.store.next_expiration
        now = node.clock()
        if node.replica.is_leader and due is not None and due <= now:
            try:
                await node.propose(Command(Op.SYNC, cutoff=now))
            except EtcdError:
                pass  # lost leadership meanwhile; the next leader sweeps
