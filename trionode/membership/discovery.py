"""Bootstrap by discovery: etcd 2.x/3.4's protocol (v2-spec §5.4 items 6-7).

A discovery URL names a directory on some etcd-v2 server (a plain etcd, a trionode, or a
discovery service that maps /<token> onto its registry). Whoever made the token wrote the
expected cluster size to `<dir>/_config/size`. Every member then:

1. reads the size and the registered members (fast path: the cluster is full already);
2. registers itself with a create of `<dir>/<member id hex>` = "name=peerURL[,name=peerURL2]"
   (etcd's URLsMap text; a create, so a second registration of one id fails: the token
   was used before);
3. reads the members again and waits, with recursive watches from the index of that read,
   until `size` members are registered;
4. takes the first `size` members by createdIndex: the initial cluster. Whoever is not
   among them is told that the cluster is full.

As etcd's v2discovery does, the URL's path is the key itself, asked of the server's root
(Go's KeysAPIWithPrefix(c, "")): http://h:p/v2/keys/<dir> and http://h:p/<token> both work.
Unreachable servers are retried with exponential backoff, a bounded number of times; so is
an https server whose certificate is refused, as etcd does (it may be fixed meanwhile).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

import trio

from ..client import (
    Client,
    ClientError,
    ClusterError,
    EtcdError,
    EventIndexCleared,
    HTTPStatusError,
    KeyNotFound,
    Node,
    NodeExists,
)
from ..client.pool import Reply
from ..client.requests import Operation
from ..config.errors import ConfigError
from ..config.values import Url
from ..gocompat.url import clean_path
from ..telemetry.logger import Logger

__all__ = ["DiscoveryError", "discover", "registration"]

#: A head timeout per request (the Go client's DefaultRequestTimeout); watches have none.
REQUEST_TIMEOUT_S = 5.0
#: Consecutive failed attempts to reach the server before giving up; the pause before the
#: n-th retry is BACKOFF_S * 2**(n-1), at most MAX_BACKOFF_S. etcd 3.4 retries for ever
#: (capped at 256 s); a node that cannot reach its discovery server for minutes is better
#: told so than left waiting.
RETRIES = 8
BACKOFF_S = 1.0
MAX_BACKOFF_S = 32.0
_CONFIG = "_config"


class DiscoveryError(ConfigError):
    """Discovery failed; the text is etcd's ("discovery: ...") plus advice where it helps."""


FULL = "discovery: cluster is full"
DUPLICATE_ID = ("discovery: found duplicate id (the discovery token was used before: "
                "use a fresh token for every new cluster)")
SIZE_NOT_FOUND = "discovery: size key not found"
BAD_SIZE = "discovery: size key is bad"
TOKEN_NOT_FOUND = "discovery: token not found"
TOO_MANY_RETRIES = "discovery: too many retries"
BAD_ENDPOINT = "discovery: bad discovery endpoint"
INVALID_URL = "discovery: invalid URL"
DUPLICATE_NAME = "discovery: found duplicate name"


class _RootKeysClient(Client):
    """The keys API at the server's root instead of under /v2/keys: every keys request
    built by the client gets its "/v2/keys" prefix taken off again before it is sent."""

    async def _do(self, action: Operation) -> Reply:
        return await super()._do(
            dataclasses.replace(action, path=action.path.removeprefix("/v2/keys")))


def registration(name: str, peer_urls: Sequence[str]) -> str:
    """What a member registers: etcd's URLsMap text, pairs sorted as Go sorts them."""
    return ",".join(sorted(f"{name}={url}" for url in peer_urls))


async def discover(url: str, name: str, peer_urls: Sequence[str], log: Logger, *,
                   member_id: int, retries: int = RETRIES, backoff_s: float = BACKOFF_S,
                   resuming: bool = False) -> tuple[tuple[str, str], ...]:
    """Register at `url` and wait for the cluster; -> the initial cluster as (name, peer
    URL) pairs, members in registration order. Raises DiscoveryError.

    `resuming`: this very member registered before and was stopped while it waited (its
    data dir says so): its own registration, if unchanged, is taken as its own, not as a
    reuse of the token."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise DiscoveryError(f"{INVALID_URL}: {url}")
    log = log.bind(discovery_url=url)
    # https: the system's roots (or $SSL_CERT_FILE) and no client certificate, as etcd's
    # discovery client (an empty TLSInfo, etcdserver/api/v2discovery/discovery.go)
    async with _RootKeysClient([f"{parts.scheme}://{parts.netloc}"],
                               timeout=REQUEST_TIMEOUT_S) as client:
        session = _Session(client, clean_path("/" + unquote(parts.path)), member_id, log,
                           retries, backoff_s, resuming)
        members, size = await session.join(registration(name, peer_urls))
    return _cluster(members, size)


@dataclasses.dataclass
class _Session:
    client: Client
    token: str  # the directory's key: the URL's path, cleaned
    member_id: int
    log: Logger
    retries: int
    backoff_s: float
    resuming: bool
    failures: int = 0
    # The directory's key as the server names it in replies; a discovery service shows
    # /<token> as /_etcd/registry/<token>, so it can differ from `token`.
    dir_key: str = ""

    @property
    def self_key(self) -> str:
        return f"{self.token}/{self.member_id:x}"

    async def join(self, value: str) -> tuple[list[Node], int]:
        await self._check()  # fast path: a full cluster is refused before registering
        await self._create_self(value)
        members, size, index = await self._check()
        return await self._wait(members, size, index), size

    async def _create_self(self, value: str) -> None:
        try:
            created = await self.client.create(self.self_key, value)
        except NodeExists:
            if self.resuming and await self._registered_as(value):
                self.log.info("discovery: registered before this restart", key=self.self_key)
                return
            raise DiscoveryError(DUPLICATE_ID) from None
        except ClientError as exc:
            # Not retried, as etcd does not: the create may have been applied.
            raise DiscoveryError(f"discovery: cannot register: {exc}") from None
        # Our own registration must be visible on the server we read from (a discovery
        # service may stand for several members): wait for its event.
        await self._call(self.client.wait, self.self_key,
                         wait_index=created.node.created_index)
        self.log.info("discovery: registered", key=self.self_key, value=value)

    async def _registered_as(self, value: str) -> bool:
        existing = (await self._call(self.client.get, self.self_key)).node
        return existing is not None and existing.value == value

    async def _check(self) -> tuple[list[Node], int, int]:
        """(members by createdIndex, size, index of the listing); raises FULL when the first
        `size` members are registered and we are not among them."""
        try:
            size_node = (await self._call(self.client.get, f"{self.token}/{_CONFIG}/size")).node
        except KeyNotFound:
            raise DiscoveryError(SIZE_NOT_FOUND) from None
        size = _size(size_node.value if size_node else None)
        try:
            listing = await self._call(self.client.get, self.token)
        except KeyNotFound:
            raise DiscoveryError(TOKEN_NOT_FOUND) from None
        children = listing.node.nodes if listing.node and listing.node.nodes else ()
        self.dir_key = listing.node.key if listing.node and listing.node.key else self.token
        members = sorted((n for n in children if _base(n.key) != _CONFIG),
                         key=lambda n: n.created_index)
        mine = f"{self.member_id:x}"
        if len(members) >= size and mine not in (_base(n.key) for n in members[:size]):
            raise DiscoveryError(FULL)
        return members, size, listing.etcd_index

    async def _wait(self, members: list[Node], size: int, index: int) -> list[Node]:
        found = members[:size]
        seen = {n.key for n in found}
        self.log.info("discovery: waiting for peers", found=len(found), size=size)
        while len(found) < size:
            try:
                event = await self.client.wait(self.token, recursive=True, wait_index=index + 1)
            except (ClusterError, EventIndexCleared) as exc:
                # Start over from a fresh listing: the server was away, or so many events
                # passed that its history no longer holds our index (v2-spec §2.4).
                self.log.warning("discovery: error while waiting for peers", error=str(exc))
                if isinstance(exc, ClusterError):
                    await self._backoff()
                members, size, index = await self._check()
                return await self._wait(members, size, index)
            node = event.node
            index = node.modified_index if node else index + 1
            if (event.action in ("create", "set") and node is not None and node.key not in seen
                    and _parent(node.key) == self.dir_key and _base(node.key) != _CONFIG):
                seen.add(node.key)
                found.append(node)
                self.log.info("discovery: found peer", key=node.key, value=node.value)
        return found

    async def _call(self, method, *args, **kwargs):
        """One read; an unreachable server is retried with backoff (etcd's
        checkClusterRetry); every other error is final."""
        while True:
            try:
                result = await method(*args, **kwargs)
            except ClusterError as exc:
                self.log.warning("discovery: cannot reach the discovery server", error=str(exc))
                await self._backoff()
                continue
            except HTTPStatusError:
                raise DiscoveryError(BAD_ENDPOINT) from None
            except EtcdError as exc:
                if isinstance(exc, KeyNotFound):
                    raise
                raise DiscoveryError(f"discovery: {exc}") from None
            self.failures = 0
            return result

    async def _backoff(self) -> None:
        self.failures += 1
        if self.failures > self.retries:
            raise DiscoveryError(TOO_MANY_RETRIES)
        pause = min(self.backoff_s * 2 ** (self.failures - 1), MAX_BACKOFF_S)
        self.log.info("discovery: retrying", attempt=self.failures, backoff_s=pause)
        await trio.sleep(pause)


def _base(key: str | None) -> str:
    return (key or "").rpartition("/")[2]


def _parent(key: str | None) -> str:
    return (key or "").rpartition("/")[0] or "/"


def _size(text: str | None) -> int:
    # Go's strconv.ParseUint(v, 10, 0): digits only; 0 could never form a cluster.
    if text is None or not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise DiscoveryError(BAD_SIZE)
    return int(text)


def _cluster(members: list[Node], size: int) -> tuple[tuple[str, str], ...]:
    """etcd's nodesToCluster: every value a URLsMap text, exactly `size` distinct names."""
    pairs: list[tuple[str, str]] = []
    for node in members:
        for item in (node.value or "").split(","):
            name, sep, url = item.partition("=")
            try:
                if not sep or not name:
                    raise ConfigError(item)
                Url.parse(url)
            except ConfigError:
                raise DiscoveryError(f"{INVALID_URL}: {node.value!r}") from None
            pairs.append((name, url))
    if len({name for name, _ in pairs}) != size:
        raise DiscoveryError(DUPLICATE_NAME)
    return tuple(pairs)
