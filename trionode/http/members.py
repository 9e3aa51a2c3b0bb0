"""/v2/members (v2-spec §4.8): listing, the leader, and the checks a change request passes.

Errors here are `{"message": ...}` with no trailing newline, as etcd 3.4 writes them.
Changing the membership needs Raft configuration changes, which this single-member node
does not have yet: a request that passes every check is refused with 501, never faked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import urlsplit

from ..jsontext import quote
from . import info
from .message import Request, Response

__all__ = ["handle_members"]

_PREFIX = "/v2/members"


class MemberError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def handle_members(node: info.InfoNode, request: Request) -> Response:
    sub = request.path[len(_PREFIX):].strip("/")
    try:
        return _route(node, request, sub)
    except MemberError as exc:
        headers = [("Content-Type", "application/json"), ("X-Etcd-Cluster-Id", node.cluster_id_hex)]
        return Response(exc.status, headers, f'{{"message":{quote(exc.message)}}}'.encode())


def _route(node: info.InfoNode, request: Request, sub: str) -> Response:
    method = request.method
    if method in ("GET", "HEAD"):
        if not sub:
            return info.members(node)
        if sub == "leader":
            return info.members_leader(node)
        raise MemberError(404, "Not found")
    if method == "POST":
        urls = _peer_urls(request)
        _check_new(node.members, urls)
        raise _unsupported()
    if method in ("DELETE", "PUT") and sub:
        if method == "PUT":
            urls = _peer_urls(request)
        member_id = _member(node.members, sub)
        if method == "PUT":
            _check_new([m for m in node.members if m.id != member_id], urls)
        raise _unsupported()
    return Response(405, [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff"),
                          ("X-Etcd-Cluster-Id", node.cluster_id_hex)], b"Method Not Allowed\n")


def _unsupported() -> MemberError:
    return MemberError(501, "membership changes are not supported yet: this node runs alone")


def _peer_urls(request: Request) -> list[str]:
    ctype = (request.header(b"content-type") or b"").decode("latin-1")
    if ctype.split(";")[0].strip().lower() != "application/json":
        raise MemberError(415, f"Bad Content-Type {ctype}, accept application/json")
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        raise MemberError(400, f"invalid JSON: {exc}") from None
    urls = body.get("peerURLs") if isinstance(body, dict) else None
    if not urls or not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise MemberError(400, "no valid URLs given")
    for url in urls:
        _check_url(url)
    return urls


def _check_url(url: str) -> None:
    """The checks of etcd's types.NewURLs, with its messages."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "unix", "unixs"):
        raise MemberError(400, f"URL scheme must be http, https, unix, or unixs: {url}")
    if parts.port is None and parts.scheme in ("http", "https"):
        raise MemberError(400, f'URL address does not have the form "host:port": {url}')
    if parts.path not in ("", "/"):
        raise MemberError(400, f"URL must not contain a path: {url}")


def _check_new(members: Sequence[info.Member], urls: list[str]) -> None:
    taken = {u for m in members for u in m.peer_urls}
    if any(u in taken for u in urls):
        raise MemberError(409, "membership: peerURL exists")


def _member(members: Sequence[info.Member], text: str) -> int:
    try:
        member_id = int(text, 16)
    except ValueError:
        raise MemberError(404, f"No such member: {text}") from None
    if all(m.id != member_id for m in members):
        raise MemberError(404, f"No such member: {text}")
    return member_id
