"""One node = one trio cancellation tree.

The root nursery owns the commit loop, the TTL ticker, the HTTP front end and the signal
watcher. Any task failing takes the whole node down; SIGTERM or SIGINT cancels the tree,
which closes open long polls, lets an fsync in flight finish, and closes the log.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import trio

from .commands import Command, Op
from .commit import CommitLog, LogPosition, replay
from .config import Config
from .http import HttpLimits, serve_http
from .http.app import ClientApp
from .storage import DataDir, Recovered, Storage
from .store import Event, Store

__all__ = ["serve", "Node", "MemberInfo"]

#: How often the expiry ticker looks for due TTLs; etcd's leader sweeps every 500 ms.
SYNC_INTERVAL = 0.5
#: The most proposals one fsync carries.
MAX_BATCH = 4096


@dataclass(frozen=True, slots=True)
class MemberInfo:
    id: int
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]


class Node:
    """What the HTTP handlers see of the node: the store, the log position, identity."""

    def __init__(self, config: Config, datadir: DataDir, commit: CommitLog,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.name = config.name
        self.member_id = datadir.member_id
        self.cluster_id_hex = f"{datadir.cluster_id:x}"
        self.members: Sequence[MemberInfo] = (MemberInfo(
            datadir.member_id, config.name,
            tuple(str(u) for u in config.initial_advertise_peer_urls),
            tuple(str(u) for u in config.advertise_client_urls)),)
        self.clock = clock
        self.start_ns = clock()
        self.leader_since_ns = self.start_ns
        self._commit = commit
        self.store: Store = commit.store
        self.position: LogPosition = commit.position

    async def propose(self, command: Command) -> list[Event]:
        return await self._commit.propose(command)


async def serve(config: Config, log: Any) -> None:
    """Run a node until SIGTERM/SIGINT; raises DataDirError/WalCorruptError on bad data."""
    with DataDir.open(config.data_dir, config.name, config.initial_cluster_token) as datadir:
        storage, recovered = await trio.to_thread.run_sync(Storage.open, config.data_dir, log)
        try:
            commit = _recover(config, recovered, storage, datadir.member_id, log)
            await _run(config, Node(config, datadir, commit), commit, log)
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(storage.close)
    log.info("stopped")


def _recover(config: Config, recovered: Recovered, storage: Storage, member_id: int,
             log: Any) -> CommitLog:
    position = LogPosition(term=recovered.hard_state.term)
    if recovered.snapshot is not None:
        store = Store.load(recovered.snapshot.data, config.max_history)
        position.applied = position.snapshot_index = recovered.snapshot.index
        position.term = max(position.term, recovered.snapshot.term)
    else:
        store = Store(config.max_history)
    replay(store, recovered.entries, position)
    log.info("recovered", snapshot_index=position.snapshot_index, applied=position.applied,
             term=position.term, etcd_index=store.index)
    return CommitLog(storage, store, position, member_id=member_id,
                     snapshot_count=config.snapshot_count, max_batch=MAX_BATCH, log=log)


async def _run(config: Config, node: Node, commit: CommitLog, log: Any) -> None:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_stop_on_signal, nursery.cancel_scope, log)
        await nursery.start(commit.run)
        nursery.start_soon(_expiry_ticker, node)
        listeners = await _listen(config)
        settings = config.http
        limits = HttpLimits(max_header_bytes=settings.max_header_bytes,
                            max_body_bytes=settings.max_body_bytes,
                            idle_timeout=settings.idle_timeout_s,
                            request_timeout=settings.request_timeout_s)
        await nursery.start(serve_http, listeners, ClientApp(node), limits, log)
        log.info("ready", client_urls=",".join(_bound(listeners)),
                 advertise=",".join(node.members[0].client_urls))


async def _listen(config: Config) -> list[trio.SocketListener]:
    listeners: list[trio.SocketListener] = []
    for url in config.listen_client_urls:
        listeners.extend(await trio.open_tcp_listeners(url.port, host=url.host, backlog=1024))
    return listeners


def _bound(listeners: list[trio.SocketListener]) -> list[str]:
    """The addresses actually bound (port 0 becomes the OS's choice), for the log."""
    names = []
    for listener in listeners:
        host, port = listener.socket.getsockname()[:2]
        names.append(f"http://{host}:{port}")
    return names


async def _stop_on_signal(scope: trio.CancelScope, log: Any) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            log.info("shutting_down", signal=signal.Signals(signum).name)
            scope.cancel()
            return


async def _expiry_ticker(node: Node) -> None:
    """Propose Sync(now) whenever a TTL is due (STYLE principle 3: expiry is a logged op).

    One sync at a time: the next tick waits for the previous one to be applied.
    """
    while True:
        await trio.sleep(SYNC_INTERVAL)
        due = node.store.next_expiration
        now = node.clock()
        if due is not None and due <= now:
            await node.propose(Command(Op.SYNC, cutoff=now))
