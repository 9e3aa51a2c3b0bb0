"""One node = one trio cancellation tree.

The root nursery owns the Raft Ready loop and its ticker, the peer listener (binary
protocol and the peer-port HTTP API) and senders, the TTL ticker, the leader's membership
look (membership/standbys.py), the removal watch (membership/tracker.py), the HTTP front
end and the signal watcher (docs/architecture.md draws the tree). Any task failing takes
the whole node down. SIGTERM or SIGINT first hands leadership to a follower (Raft thesis
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
from functools import partial

import trio

from .config.errors import ConfigError
from .config.flags import Config
from .config.values import Url
from .http import HttpLimits, api, serve_http
from .http.admin import PeerApp
from .http.api import Identity, RaftStatus
from .http.app import ClientApp
from .http.server import HttpConnections
from .membership.bootstrap import Bootstrap, cluster_token, plan, recorded
from .membership.clusterconfig import ClusterConfig
from .membership.members import Membership, publish_command
from .membership.reconfig import Reconfig
from .membership.standbys import keep_membership
from .membership.tracker import MembershipTracker
from .net.listen import bound_urls, listen
from .net.tls import PortTls, port_tls
from .net.tlsstream import TlsListener
from .peer import PeerTransport
from .raft import RaftConfig, RaftCore, Role
from .raft.membership import successor
from .server.inbox import Inbox, tick_forever
from .server.payload import is_conf_change, refused
from .server.replica import Replica, ReplicaSettings
from .server.statemachine import StateMachine
from .server.stats import RaftStats
from .storage import DataDir, Recovered, Storage
from .store import Event, Store
from .store.commands import Command, Op
from .telemetry.logger import Logger
from .v2.errors import V2Error

__all__ = ["serve", "HttpView"]

#: How often the leader looks for due TTLs; etcd's leader sweeps every 500 ms.
SYNC_INTERVAL = 0.5
#: How long a request waits for its entry to be applied before error 300.
REQUEST_TIMEOUT = 5.0
#: The longest pause between two tries to publish this member (it tries again at once
#: when the leader changes).
PUBLISH_RETRY = 0.5
_STATE_NAMES = {Role.LEADER: api.LEADER, Role.FOLLOWER: api.FOLLOWER,
                Role.CANDIDATE: api.CANDIDATE, Role.PRE_CANDIDATE: api.PRE_CANDIDATE}


class HttpView:
    """The one implementation of http/api.py NodeApi: what the HTTP handlers of both ports
    read and ask of this member. Identity, stats and reconfig are fixed at start; the store,
    the membership and Raft's view are read from the replica at each call (installing a
    snapshot replaces the store); writes and reads go through the replica."""

    __slots__ = ("_replica", "clock", "identity", "reconfig", "stats")

    def __init__(self, identity: Identity, replica: Replica, stats: RaftStats, reconfig: Reconfig,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.identity = identity
        self.clock = clock
        self.stats = stats
        self.reconfig = reconfig
        self._replica = replica

    @property
    def store(self) -> Store:
        return self._replica.store

    @property
    def membership(self) -> Membership:
        return self._replica.membership

    def raft_status(self) -> RaftStatus:
        replica = self._replica
        return RaftStatus(replica.applied, replica.term, _STATE_NAMES[replica.role], replica.leader_id)

    async def propose(self, command: Command) -> list[Event]:
        return await self._replica.propose(command)

    async def read_barrier(self) -> None:
        await self._replica.read_barrier()


async def serve(config: Config, log: Logger) -> None:
    """Run a node until SIGTERM/SIGINT; raises DataDirError/WalCorruptError on bad data."""
    token = cluster_token(config)
    fresh = not DataDir.exists(config.data_dir)
    client_tls, peer_tls = await trio.to_thread.run_sync(_tls, config)  # TlsError: a file is bad
    # A new member finds out who its cluster is (which may mean asking a running cluster
    # or a discovery service) before its data dir exists: the answer is recorded in it.
    planned = await plan(config, log, peer_tls.client) if fresh else None
    with DataDir.open(config.data_dir, config.name, token, ids=planned and planned.ids,
                      bootstrap=planned and planned.record()) as datadir:
        boot = recorded(datadir.bootstrap, config)
        storage, recovered = await trio.to_thread.run_sync(Storage.open, config.data_dir, log)
        try:
            await _run(config, datadir, storage, recovered, boot, log, client_tls, peer_tls)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(storage.close)
    log.info("stopped")


def _tls(config: Config) -> tuple[PortTls, PortTls]:
    """Both ports' TLS contexts (blocking: reads the files, may write auto-TLS's)."""
    def hosts(urls: tuple[Url, ...]) -> list[str]:
        return [url.host for url in urls]

    return (port_tls(config.client_tls, "client", config.data_dir, hosts(config.listen_client_urls)),
            port_tls(config.peer_tls, "peer", config.data_dir, hosts(config.listen_peer_urls)))


def _machine(config: Config, member_id: int, cluster_id: int, recovered: Recovered,
             boot: Bootstrap) -> StateMachine:
    machine = StateMachine(Store(config.max_history), Membership(cluster_id, boot.members), config.max_history)
    if recovered.snapshot is not None:
        machine.load(recovered.snapshot.data)
    if member_id in machine.membership.removed:
        raise ConfigError(f"member {member_id:x} was removed from the cluster: start it with a new "
                          "data dir after adding it again")
    return machine


def _core(config: Config, member_id: int, membership: Membership, recovered: Recovered,
          boot: Bootstrap, log: Logger) -> RaftCore:
    # A joining member votes for nothing and counts no one until the leader's snapshot
    # tells it who the members are.
    waiting = boot.joined and recovered.snapshot is None
    voters, learners = ((), ()) if waiting else (membership.voters, membership.learners)
    raft_config = RaftConfig(
        id=member_id, peers=voters, learners=learners, is_conf_change=is_conf_change,
        refuse_conf_change=refused,
        election_tick=max(2, config.election_timeout_ms // config.heartbeat_interval_ms),
        heartbeat_tick=1, rng=random.Random(os.urandom(16)), logger=log)
    log.info("recovered", snapshot_index=recovered.snapshot.index if recovered.snapshot else 0,
             entries=len(recovered.entries), term=recovered.hard_state.term,
             commit=recovered.hard_state.commit, joining=waiting)
    return RaftCore(raft_config, recovered.hard_state, recovered.snapshot, recovered.entries)


async def _run(config: Config, datadir: DataDir, storage: Storage, recovered: Recovered,
               boot: Bootstrap, log: Logger, client_tls: PortTls, peer_tls: PortTls) -> None:
    member_id, cluster_id = datadir.member_id, datadir.cluster_id
    machine = _machine(config, member_id, cluster_id, recovered, boot)
    core = _core(config, member_id, machine.membership, recovered, boot, log)
    # Built in dependency order, each part handed what it needs: no part refers back.
    stats = RaftStats(time.time_ns())
    inbox = Inbox(member_id, stats)
    # One scheme for every peer URL (config checks it): https peers are dialled over TLS.
    peer_dial = peer_tls.client if config.initial_advertise_peer_urls[0].scheme == "https" else None
    transport = PeerTransport(member_id, cluster_id, {}, config.initial_advertise_peer_urls[0].host, log,
                              deliver=inbox.deliver,
                              report_unreachable=inbox.report_unreachable,
                              report_snapshot=inbox.report_snapshot, tls=peer_dial)
    tracker = MembershipTracker(member_id, cluster_id, transport, log, peer_tls.client)
    snapshot_index = recovered.snapshot.index if recovered.snapshot else 0
    tracker.changed(machine.membership, (), snapshot_index)  # whom we start with: peers to dial
    settings = ReplicaSettings(member_id, config.snapshot_count, REQUEST_TIMEOUT,
                               id_start=int.from_bytes(os.urandom(6), "big"))
    replica = Replica(core, storage, machine, inbox=inbox, transport=transport, stats=stats,
                      members=tracker, log=log, snapshot_index=snapshot_index, settings=settings)
    reconfig = Reconfig(replica, cluster_token(config),
                        ClusterConfig(config.active_size, config.remove_delay_s, config.sync_interval_s))
    identity = Identity(config.name, member_id, f"{cluster_id:x}",
                        tuple(str(u) for u in config.advertise_client_urls), time.time_ns())
    view = HttpView(identity, replica, stats, reconfig)
    limits = _http_limits(config)
    peer_http = HttpConnections(PeerApp(view), limits, log)  # the peer port's HTTP side
    election_timeout = config.election_timeout_ms / 1000
    heartbeat = config.heartbeat_interval_ms / 1000
    async with trio.open_nursery() as nursery:
        await nursery.start(peer_http.run)
        nursery.start_soon(_stop_on_signal, nursery.cancel_scope, replica, inbox, election_timeout, log)
        nursery.start_soon(tracker.stop_when_removed, nursery.cancel_scope, replica, election_timeout,
                           heartbeat)
        nursery.start_soon(tracker.ask_if_removed, replica, 10 * election_timeout)
        await nursery.start(replica.run)
        nursery.start_soon(replica.expire_requests)
        if core.voters == (member_id,):  # alone: no one to wait for, campaign at once
            inbox.campaign()
        elif member_id in core.voters:
            # etcd's initial election tick advance: start two ticks short of an election
            # timeout instead of a whole one (randomized to up to two) away. Pre-vote keeps
            # it harmless: a member that rejoins a running cluster and campaigns before the
            # leader's first heartbeat reaches it is refused by the leader's lease and
            # disturbs no one; a fresh cluster elects about a second sooner.
            inbox.tick(core.config.election_tick - 2)
        peer_listeners = await listen(config.listen_peer_urls, peer_tls.server)
        await nursery.start(partial(transport.serve, http_serve=peer_http.serve), peer_listeners)
        await nursery.start(transport.run)
        nursery.start_soon(tick_forever, inbox, heartbeat)
        nursery.start_soon(_expiry_ticker, replica, view.clock)
        nursery.start_soon(keep_membership, replica, stats.last_heard, tracker.removed, reconfig, log)
        # Serve clients only once our own publish entry is applied: then everything that
        # was committed before this start is applied too, and no read sees an older state
        # (etcd waits for the same thing before it serves).
        await _publish(replica, identity, reconfig, log)
        listeners = await listen(config.listen_client_urls, client_tls.server)
        for scheme in ("http", "https"):  # the discovery service names the scheme it is asked on
            served = [one for one in listeners if isinstance(one, TlsListener) == (scheme == "https")]
            app = ClientApp(view, discovery_service=config.discovery_service, scheme=scheme)
            if served:
                await nursery.start(serve_http, served, app, limits, log)
        log.info("ready", member=f"{member_id:x}", cluster=identity.cluster_id_hex,
                 client_urls=",".join(bound_urls(listeners)), peer_urls=",".join(bound_urls(peer_listeners)))


def _http_limits(config: Config) -> HttpLimits:
    settings = config.http
    return HttpLimits(max_header_bytes=settings.max_header_bytes, max_body_bytes=settings.max_body_bytes,
                      idle_timeout=settings.idle_timeout_s, request_timeout=settings.request_timeout_s)


async def _stop_on_signal(scope: trio.CancelScope, replica: Replica, inbox: Inbox,
                          election_timeout: float, log: Logger) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("shutting_down", signal=signal.Signals(signum).name)
            with trio.move_on_after(election_timeout):
                await _hand_over_leadership(replica, inbox, log)
            scope.cancel()
            return


async def _hand_over_leadership(replica: Replica, inbox: Inbox, log: Logger) -> None:
    """Transfer leadership to the most up-to-date follower before going away."""
    status = replica.status()
    if status.role is not Role.LEADER:
        return
    target = successor(status.voters, lambda peer: status.progress[peer].match, replica.member_id)
    if target is None:
        return
    log.info("leader_transfer", to=f"{target:x}")
    inbox.transfer_leadership(target)
    while replica.is_leader:
        await replica.role_changed.wait()


async def _publish(replica: Replica, me: Identity, reconfig: Reconfig, log: Logger) -> None:
    """Make this member's name and client URLs known to the cluster (retried until applied)."""
    command = publish_command(me.member_id, me.name, me.client_urls, reconfig.default_config.to_json())
    while True:
        try:
            await replica.propose(command)
            log.info("published", client_urls=",".join(me.client_urls))
            return
        except V2Error:
            # No leader yet, or it timed out: try again once a leader is known (a fresh
            # cluster's first election), or after a pause.
            changed = replica.role_changed
            with trio.move_on_after(PUBLISH_RETRY):
                await changed.wait()


async def _expiry_ticker(replica: Replica, clock: Callable[[], int]) -> None:
    """The leader proposes Sync(now) whenever a TTL is due (STYLE principle 3: expiry is a
    logged operation; a member cut off from the leader expires nothing on its own)."""
    while True:
        await trio.sleep(SYNC_INTERVAL)
        due = replica.store.next_expiration
        now = clock()
        if replica.is_leader and due is not None and due <= now:
            try:
                await replica.propose(Command(Op.SYNC, cutoff=now))
            except V2Error:
                pass  # lost leadership meanwhile; the next leader sweeps
