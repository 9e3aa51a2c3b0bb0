"""Client: endpoints, pinning, failover, sync, and the keys API on top of them.

Failover is the Go client's httpClusterClient.Do (etcd 3.4 client/client.go): a request
goes to the pinned endpoint first, then to each next one in turn; a transport failure, a
head timeout or a 5xx moves on (one message per attempt, Go's wording), and the endpoint
that answered becomes pinned. A create (prevExist=false) or a delete is "one shot": it is
never resent to another endpoint, since the first one may have applied it; its single
failure is raised as EndpointError and the pin moves to the next endpoint.
Every attempt calls `on_request` first (etcdctl --debug prints a "cURL Command:" per try).

https endpoints are spoken to over TLS (tls.py): with the given ssl_context, else one built
from ca_file/cert_file/key_file, else the system's roots. TLS failures are transport
failures, with Go's texts (tlserrors.py), so they fail over like any other.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from http import HTTPStatus

import trio

from . import requests as rq
from .connection import TransportError
from .errors import (
    EMPTY_BODY,
    INVALID_JSON,
    ClusterError,
    EndpointError,
    EventIndexCleared,
    HTTPStatusError,
    KeyNotFound,
    NoEndpointsError,
)
from .members import MembersMixin
from .model import RequestInfo, Response, Resync, parse_error, parse_json, parse_keys_reply
from .pool import Pool, Reply
from .tls import tls_context

__all__ = ["Client", "DEFAULT_ENDPOINTS"]

DEFAULT_ENDPOINTS = ("http://127.0.0.1:2379",)
#: after an empty 200 to a long poll (0.4's idle timeout, a server shutting down)
WAIT_RETRY_PAUSE = 0.05
#: watch: pause before the n-th consecutive re-read after a 401, so it cannot spin
RESYNC_BACKOFF = (0.0, 0.1, 0.2, 0.5, 1.0, 2.0)


class Client(MembersMixin):
    """An etcd v2 client on trio. Use `async with Client(...) as c:` or call aclose().

    For https endpoints: `ssl_context`, or the files to build one from with tls_context()
    (TlsConfigError at once when they cannot be used), not both; neither: system roots.
    """

    def __init__(self, endpoints: Sequence[str] = DEFAULT_ENDPOINTS, *,
                 timeout: float | None = 2.0,
                 on_request: Callable[[RequestInfo], None] | None = None,
                 max_idle: int = 8,
                 ssl_context: ssl.SSLContext | None = None,
                 ca_file: str | None = None, cert_file: str | None = None,
                 key_file: str | None = None) -> None:
        if isinstance(endpoints, str):
            endpoints = (endpoints,)
        parsed = tuple(rq.parse_endpoint(e) for e in endpoints)
        if not parsed:
            raise ValueError("at least one endpoint is needed")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive (or None for no timeout)")
        if ca_file or cert_file or key_file:
            if ssl_context is not None:
                raise ValueError("give ssl_context or the TLS files, not both")
            ssl_context = tls_context(ca_file, cert_file, key_file)
        self._endpoints = parsed
        self._pinned = 0
        self._timeout = timeout
        self._on_request = on_request
        self._pool = Pool(max_idle, ssl_context)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._pool.aclose()

    @property
    def endpoints(self) -> tuple[str, ...]:
        return tuple(ep.url for ep in self._endpoints)

    # ---------------------------------------------------------------- failover

    async def _do(self, action: rq.Operation) -> Reply:
        eps, pinned = self._endpoints, self._pinned
        errors: list[str] = []
        for i in range(pinned, pinned + len(eps)):
            k = i % len(eps)
            endpoint = eps[k]
            if self._on_request is not None:
                self._on_request(RequestInfo(action.method, action.url(endpoint), action.body))
            try:
                reply = await self._pool.exchange(endpoint, action, self._timeout)
            except TransportError as exc:
                errors.append(exc.message)
            else:
                if reply.status // 100 != 5:
                    self._pin(eps, k)
                    return reply
                errors.append(_server_error(endpoint, reply.status))
            if action.one_shot:
                self._pin(eps, (k + 1) % len(eps))
                raise EndpointError(errors[0])
        raise ClusterError(tuple(errors))

    def _pin(self, eps: tuple[rq.Endpoint, ...], k: int) -> None:
        if eps is self._endpoints:        # unless a sync() replaced the list meanwhile
            self._pinned = k

    async def sync(self) -> tuple[str, ...]:
        """Switch to every member's advertised client URLs (GET /v2/members, with failover).

        The list keeps the server's order (the Go client shuffles it); when it holds the
        same URLs as now, nothing changes, the pin included.
        """
        members = await self.members()
        urls = [url for member in members for url in member.client_urls]
        if not urls:
            raise NoEndpointsError()
        parsed = tuple(rq.parse_endpoint(u) for u in urls)
        if sorted(ep.url for ep in parsed) != sorted(self.endpoints):
            self._endpoints, self._pinned = parsed, 0
        return self.endpoints

    # ---------------------------------------------------------------- keys API

    async def _keys(self, action: rq.Operation) -> Response:
        reply = await self._do(action)
        return parse_keys_reply(reply.status, reply.headers, reply.body)

    async def get(self, key: str, *, recursive: bool = False, sorted: bool = False,
                  quorum: bool = False) -> Response:
        return await self._keys(rq.keys_get(key, recursive=recursive, sorted=sorted,
                                            quorum=quorum))

    async def set(self, key: str, value: str = "", *, ttl: int | None = None,
                  prev_value: str | None = None, prev_index: int = 0,
                  prev_exist: bool | None = None, dir: bool = False, refresh: bool = False,
                  no_value_on_success: bool = False) -> Response:
        return await self._keys(rq.keys_set(
            key, value, ttl=ttl, prev_value=prev_value, prev_index=prev_index,
            prev_exist=prev_exist, dir=dir, refresh=refresh,
            no_value_on_success=no_value_on_success))

    async def create(self, key: str, value: str = "", *, ttl: int | None = None) -> Response:
        return await self.set(key, value, ttl=ttl, prev_exist=False)

    async def create_in_order(self, dir_key: str, value: str = "", *,
                              ttl: int | None = None) -> Response:
        return await self._keys(rq.keys_create_in_order(dir_key, value, ttl=ttl))

    async def update(self, key: str, value: str = "", *, ttl: int | None = None) -> Response:
        return await self.set(key, value, ttl=ttl, prev_exist=True)

    async def mkdir(self, key: str, *, ttl: int | None = None) -> Response:
        return await self.set(key, ttl=ttl, dir=True, prev_exist=False)

    async def delete(self, key: str, *, recursive: bool = False, dir: bool = False,
                     prev_value: str | None = None, prev_index: int = 0) -> Response:
        return await self._keys(rq.keys_delete(key, recursive=recursive, dir=dir,
                                               prev_value=prev_value, prev_index=prev_index))

    async def wait(self, key: str, *, recursive: bool = False,
                   wait_index: int = 0) -> Response:
        """One long poll for the next matching event at or after `wait_index` (0: next).

        No timeout applies once the request is sent (cancel it from outside). An empty 200
        (etcd 0.4 ends an idle long poll that way) is retried, as the Go watcher does.
        """
        action = rq.keys_wait(key, recursive=recursive, wait_index=wait_index)
        while True:
            reply = await self._do(action)
            if reply.status in (200, 201) and not reply.body:
                await trio.sleep(WAIT_RETRY_PAUSE)
                continue
            return parse_keys_reply(reply.status, reply.headers, reply.body)

    async def watch(self, key: str, *, recursive: bool = False, after_index: int = 0,
                    resync: bool = True) -> AsyncIterator[Response | Resync]:
        """Every event on `key` after `after_index` (0: from now), for ever.

        Resumes at node.modified_index + 1 after each event (Go's httpWatcher). When the
        server's history no longer holds the next index (401, v2-spec §2.4 and §8.1), with
        `resync` the key is read again and Resync(index, current) is yielded before the
        watch goes on from index + 1; without it the EventIndexCleared is raised.
        """
        wait_index = after_index + 1 if after_index > 0 else 0
        cleared = 0
        while True:
            try:
                event = await self.wait(key, recursive=recursive, wait_index=wait_index)
            except EventIndexCleared:
                if not resync:
                    raise
                await trio.sleep(RESYNC_BACKOFF[min(cleared, len(RESYNC_BACKOFF) - 1)])
                cleared += 1
                found = await self._reread(key, recursive)
                yield found
                wait_index = found.index + 1
                continue
            cleared = 0
            yield event
            if event.node is not None:
                wait_index = event.node.modified_index + 1

    async def _reread(self, key: str, recursive: bool) -> Resync:
        try:
            current = await self.get(key, recursive=recursive)
        except KeyNotFound as exc:
            return Resync(exc.index, None)
        return Resync(current.etcd_index, current)

    # ---------------------------------------------------------------- other endpoints

    async def version(self) -> dict:
        """GET /version: {"etcdserver": ..., "etcdcluster": ...}."""
        reply = await self._do(rq.version())
        if reply.status != 200:
            raise parse_error(reply.status, reply.body)
        if not reply.body:
            raise HTTPStatusError(reply.status, reply.body, EMPTY_BODY)
        doc = parse_json(reply.status, reply.body)
        if not isinstance(doc, dict):
            raise HTTPStatusError(reply.status, reply.body, INVALID_JSON)
        return doc

    async def health(self, endpoint: str) -> bool:
        """GET <endpoint>/health on that endpoint alone: True iff it says healthy.

        Like etcdctl cluster-health, this probe is not reported to on_request. A transport
        failure raises EndpointError; a body that is no JSON raises HTTPStatusError.
        """
        target = rq.parse_endpoint(endpoint)
        try:
            reply = await self._pool.exchange(target, rq.health(), self._timeout)
        except TransportError as exc:
            raise EndpointError(exc.message) from None
        doc = parse_json(reply.status, reply.body)
        return isinstance(doc, dict) and doc.get("health") in ("true", True)


def _server_error(endpoint: rq.Endpoint, status: int) -> str:
    if status in (500, 503):
        return f"client: etcd member {endpoint.url} has no leader"
    return f"client: etcd member {endpoint.url} returns server error [{_status_text(status)}]"


def _status_text(status: int) -> str:
    # Go's http.StatusText: the standard reason phrase, "" for codes it does not know
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
