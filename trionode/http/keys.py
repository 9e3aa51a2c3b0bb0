"""/v2/keys: a parsed request becomes a store read, a watch, or a replicated command.

The v2 operation is chosen here, once, by v2-spec §1.5's decision table, and a TTL is
turned into an absolute expiration on this node's clock, so the command in the log
needs no clock to apply (STYLE principle 3).
"""

from __future__ import annotations

import trio

from ..store import Event, EventAction, Watcher
from ..store.commands import Command, Op
from ..v2.errors import V2Error
from .api import NodeApi
from .keys_params import KeysRequest, parse_keys_request
from .message import HttpResponse, Request

__all__ = ["handle_keys", "command_for"]

_NS = 1_000_000_000


async def handle_keys(node: NodeApi, request: Request) -> HttpResponse:
    try:
        req = parse_keys_request(request)
        if req.method == "GET" or req.method == "HEAD":
            if req.wait:
                return _watch(node, req)
            if req.quorum:
                await node.read_barrier()
            return _get(node, req)
        events = await node.propose(command_for(req, node.clock()))
    except V2Error as exc:
        return _error(node, exc)
    return _written(node, req, events[0])


def command_for(req: KeysRequest, now_ns: int) -> Command:
    """v2-spec §1.5 (PUT), §1.6 (POST, DELETE): which operation a request is."""
    expiration = None if req.ttl is None else now_ns + req.ttl * _NS
    has_compare = req.prev_value is not None or req.prev_index > 0
    if req.method == "DELETE":
        op = Op.CAD if has_compare else Op.DELETE
        return Command(op, req.key, dir=req.dir, recursive=req.recursive,
                       prev_value=req.prev_value, prev_index=req.prev_index)
    if req.method == "POST":
        return Command(Op.CREATE, req.key, req.value, dir=req.dir, expiration=expiration, unique=True)
    if req.prev_exist is False:
        op = Op.CREATE
    elif req.prev_exist is True:
        op = Op.CAS if has_compare else Op.UPDATE
    else:
        op = Op.CAS if has_compare else Op.SET
    if op is Op.CREATE:
        return Command(op, req.key, req.value, dir=req.dir, expiration=expiration)
    return Command(op, req.key, req.value, dir=req.dir, expiration=expiration,
                   prev_value=req.prev_value, prev_index=req.prev_index, refresh=req.refresh)


def _headers(node: NodeApi, etcd_index: int) -> list[tuple[str, str]]:
    raft = node.raft_status()  # the one tuple this request builds for Raft's view
    return [
        ("Content-Type", "application/json"),
        ("X-Etcd-Cluster-Id", node.identity.cluster_id_hex),
        ("X-Etcd-Index", str(etcd_index)),
        ("X-Raft-Index", str(raft.applied)),
        ("X-Raft-Term", str(raft.term)),
    ]


def _error(node: NodeApi, exc: V2Error) -> HttpResponse:
    headers = [
        ("Content-Type", "application/json"),
        ("X-Etcd-Cluster-Id", node.identity.cluster_id_hex),
        ("X-Etcd-Index", str(exc.index)),
    ]
    return HttpResponse(exc.status, headers, exc.to_json())


def _get(node: NodeApi, req: KeysRequest) -> HttpResponse:
    # Served from this member's store, like etcd; with quorum=true the caller first
    # waited for a read barrier (ReadIndex), which makes the read linearizable.
    body = node.store.get(req.key, req.recursive, req.sorted, node.clock())
    return HttpResponse(200, _headers(node, node.store.index), body)


def _written(node: NodeApi, req: KeysRequest, event: Event) -> HttpResponse:
    created = event.action is EventAction.CREATE or (event.action is EventAction.SET and event.prev is None)
    if req.no_value_on_success and req.method != "DELETE":
        body = b'{"action":"%s"}\n' % event.action.encode()
    else:
        body = event.render(node.clock())
    return HttpResponse(201 if created else 200, _headers(node, event.index), body)


def _watch(node: NodeApi, req: KeysRequest) -> HttpResponse:
    """Long poll (v2-spec §2): headers go out at once, the body with the event."""
    stream = _WatchStream(node, req)
    return HttpResponse(200, _headers(node, node.store.index), stream=stream)


class _WatchStream:
    """The body of a watch response: one event, or one per line with stream=true.

    Registered when made (so that a 401 comes back as a plain error), and unregistered
    by aclose(), which the server always calls, even for a HEAD that never iterates.
    The store wakes us synchronously, inside apply, when the watcher has news.
    """

    __slots__ = ("_node", "_watcher", "_ready", "_done")

    def __init__(self, node: NodeApi, req: KeysRequest) -> None:
        self._node = node
        self._ready = trio.Event()
        self._done = False
        self._watcher: Watcher = node.store.watch(req.key, req.recursive, req.stream,
                                                  req.wait_index, self._wake)

    def _wake(self) -> None:
        self._ready.set()

    def __aiter__(self) -> _WatchStream:
        return self

    @property
    def ready(self) -> bool:
        """Whether __anext__ would return (or end the body) without waiting."""
        watcher = self._watcher
        return self._done or bool(watcher.events) or watcher.closed

    async def __anext__(self) -> bytes:
        watcher = self._watcher
        if self._done:
            raise StopAsyncIteration
        while not watcher.events:
            if watcher.closed:
                raise StopAsyncIteration
            await self._ready.wait()
            self._ready = trio.Event()
        event = watcher.events.popleft()
        self._done = not watcher.stream  # one-shot: the next call ends the body
        return event.render(self._node.clock())

    async def aclose(self) -> None:
        self._node.store.unwatch(self._watcher)
