"""/v2/members (v2-spec §4.8): listing, the leader, adding, updating and removing members.

Errors here are `{"message": ...}` with no trailing newline, as etcd 3.4 writes them. A
change goes through the log (membership/reconfig.py) and is answered once this member applied it.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from ..config.errors import ConfigError
from ..config.values import Url
from ..gocompat.jsontext import quote
from ..membership.errors import MemberError
from . import info
from .api import NodeApi
from .message import HttpResponse, Request

__all__ = ["handle_members"]

_PREFIX = "/v2/members"


async def handle_members(node: NodeApi, request: Request) -> HttpResponse:
    sub = request.path[len(_PREFIX):].strip("/")
    try:
        return await _route(node, request, sub)
    except MemberError as exc:
        headers = [("Content-Type", "application/json"), ("X-Etcd-Cluster-Id", node.identity.cluster_id_hex)]
        return HttpResponse(exc.status, headers, f'{{"message":{quote(exc.message)}}}'.encode())


async def _route(node: NodeApi, request: Request, sub: str) -> HttpResponse:
    method = request.method
    cluster_id = node.identity.cluster_id_hex
    headers = [("Content-Type", "application/json"), ("X-Etcd-Cluster-Id", cluster_id)]
    if method in ("GET", "HEAD"):
        if not sub:
            return info.members(node)
        if sub == "leader":
            return info.members_leader(node)
        raise MemberError(404, "Not found")
    if method == "POST" and not sub:
        member = await node.reconfig.add_member(_same_scheme(node, _peer_urls(request)))
        return HttpResponse(201, headers, (info.member_json(member) + "\n").encode())
    if method in ("DELETE", "PUT") and sub:
        if method == "PUT":
            urls = _same_scheme(node, _peer_urls(request))
        member_id = _member_id(sub)
        if method == "PUT":
            await node.reconfig.update_member(member_id, urls)
        else:
            await node.reconfig.remove_member(member_id)
        return HttpResponse(204, headers[1:], b"")
    return HttpResponse(405, [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff"),
                          ("X-Etcd-Cluster-Id", cluster_id)], b"Method Not Allowed\n")


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
    return [_check_url(url) for url in urls]


def _check_url(url: str) -> str:
    """The checks of etcd's types.NewURLs, with its messages; then ours: a peer URL must be
    one our transport can dial. Returns it in the one spelling every member compares."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "unix", "unixs"):
        raise MemberError(400, f"URL scheme must be http, https, unix, or unixs: {url}")
    if parts.port is None and parts.scheme in ("http", "https"):
        raise MemberError(400, f'URL address does not have the form "host:port": {url}')
    if parts.path:
        raise MemberError(400, f"URL must not contain a path: {url}")
    try:
        if parts.scheme not in ("http", "https"):
            raise ConfigError("only http:// and https:// are supported (no unix sockets)")
        return str(Url.parse(url))
    except ConfigError as exc:
        raise MemberError(400, f"trionode members talk TCP: {exc}: {url}") from None


def _same_scheme(node: NodeApi, urls: list[str]) -> list[str]:
    """A cluster's peer URLs share one scheme (config refuses a mixed one at start): a member
    speaks TLS to every peer or to none."""
    ours = {url.partition("://")[0] for member in node.membership.members for url in member.peer_urls}
    theirs = {url.partition("://")[0] for url in urls}
    if len(ours | theirs) > 1:
        raise MemberError(400, f"mixed http and https peer URLs: this cluster's members use "
                               f"{'/'.join(sorted(ours))}:// peer URLs, not {', '.join(urls)}")
    return urls


def _member_id(text: str) -> int:
    """A hex id; the node says whether such a member exists (404) or existed (410)."""
    try:
        member_id = int(text, 16)
    except ValueError:
        raise MemberError(404, f"No such member: {text}") from None
    if not 0 < member_id < 1 << 64:
        raise MemberError(404, f"No such member: {text}")
    return member_id
