"""trionode.client: an async (trio) etcd v2 client on h11.

Keep-alive connection pooling, endpoint lists with failover and sync through /v2/members,
per-request head timeouts, typed errors carrying etcd's error code, every keys operation
(get, set, create, create_in_order, update, mkdir, delete, wait, watch) and the members,
health and version endpoints, over http or https (tls_context(): TLS set up as etcd's Go
client sets it up). Requests, error texts and failover follow etcd 3.4's Go client, so
that trionodectl can reproduce etcdctl's output and --debug lines.
Imports only gocompat of trionode: it is a library users embed, not part of the server.

    async with Client(["http://127.0.0.1:2379"]) as client:
        await client.set("/message", "hello")
        print((await client.get("/message")).node.value)
"""

from .client import Client
from .errors import (
    ClientError,
    ClusterError,
    DirNotEmpty,
    EndpointError,
    EtcdError,
    EventIndexCleared,
    HTTPStatusError,
    KeyNotFound,
    NodeExists,
    NoEndpointsError,
    NotADir,
    NotAFile,
    RootReadOnly,
    TestFailed,
    TlsConfigError,
)
from .model import Member, Node, RequestInfo, Response, Resync
from .tls import tls_context

__all__ = [
    "Client", "tls_context",
    "Response", "Node", "Member", "RequestInfo", "Resync",
    "ClientError", "EtcdError", "ClusterError", "EndpointError", "NoEndpointsError",
    "HTTPStatusError", "TlsConfigError",
    "KeyNotFound", "TestFailed", "NotAFile", "NotADir", "NodeExists", "RootReadOnly",
    "DirNotEmpty", "EventIndexCleared",
]
