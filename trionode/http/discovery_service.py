"""A discovery service on the client port, as discovery.etcd.io offered (--enable-discovery-service).

* `GET|PUT|POST /new[?size=N]` issues a token: it creates `/_etcd/registry/<token>/_config/size`
  = N (default 3) through Raft and answers `http://<Host>/<token>` (https:// when asked on
  an https listener) as text/plain, the way discovery.etcd.io did (no JSON, no trailing
  newline: `curl .../new` printed the bare URL).
* `/<token>[/...]` is the keys API on `/_etcd/registry/<token>[/...]`, any method and query,
  so that visiting the discovery URL shows the registry directory (the 0.4 tutorial's
  {"action":"get","node":{"key":"/_etcd/registry/<token>",...}}), and members, ours or etcd
  3.4's, can run the discovery protocol against it (membership/discovery.py, v2-spec §5.4).

Tokens are 32 lower-case hex digits (128 random bits), like discovery.etcd.io's; any other
path is not ours, so the app can ask `is_discovery_path` before its 404.
"""

from __future__ import annotations

import re
import secrets

from ..store.commands import Command, Op
from ..v2.errors import V2Error
from .api import NodeApi
from .keys import handle_keys
from .message import HttpResponse, Request
from .params import parse_form

__all__ = ["is_discovery_path", "handle_discovery", "REGISTRY"]

REGISTRY = "/_etcd/registry"
DEFAULT_SIZE = 3
#: A bound on what a token may ask for; an etcd cluster of more than a handful of voters
#: is slower, not safer, so anything near this is a typo.
MAX_SIZE = 128
_TOKEN = re.compile(r"/([0-9a-f]{32})(/.*)?")
_NEW_METHODS = frozenset({"GET", "PUT", "POST"})
_KEYS_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})
_TEXT = ("Content-Type", "text/plain; charset=utf-8")


def is_discovery_path(path: str) -> bool:
    """Whether `path` (decoded, as Request.path) is /new or a token's."""
    return path == "/new" or _TOKEN.fullmatch(path) is not None


async def handle_discovery(node: NodeApi, request: Request, scheme: str = "http") -> HttpResponse:
    """Serve a path for which is_discovery_path() holds; `scheme` is the listener's."""
    if request.path == "/new":
        if request.method not in _NEW_METHODS:
            return _text(405, "Method Not Allowed", ("Allow", "GET,PUT,POST"))
        return await _new_token(node, request, scheme)
    if request.method not in _KEYS_METHODS:
        return _text(405, "Method Not Allowed", ("Allow", "HEAD,GET,PUT,POST,DELETE"))
    match = _TOKEN.fullmatch(request.path)
    assert match is not None, "handle_discovery called for a path that is not ours"
    return await handle_keys(node, _to_registry(request))


def _to_registry(request: Request) -> Request:
    """The same request aimed at the keys API on the token's registry directory."""
    path = f"/v2/keys{REGISTRY}{request.path}"
    raw_path = f"/v2/keys{REGISTRY}{request.raw_path}"
    target = f"{raw_path}?{request.query}" if request.query else raw_path
    return request._replace(path=path, raw_path=raw_path, target=target)


async def _new_token(node: NodeApi, request: Request, scheme: str) -> HttpResponse:
    try:
        form = parse_form(request.method, request.query, request.header(b"content-type"),
                          request.body)
    except V2Error:
        return _text(400, "Unable to parse the request form")
    size = _size(form.get("size"))
    if size is None:
        return _text(400, f"size must be an integer from 1 to {MAX_SIZE}")
    host = (request.header(b"host") or b"").decode("latin-1")
    if not host:
        return _text(400, "a Host header is needed to build the discovery URL")
    token = secrets.token_hex(16)
    try:
        await node.propose(Command(Op.CREATE, f"{REGISTRY}/{token}/_config/size", str(size)))
    except V2Error as exc:  # no leader, shutting down: the token was not made
        return _text(exc.status if exc.status >= 500 else 500, f"Unable to create a token: {exc}")
    return HttpResponse(200, [_TEXT], f"{scheme}://{host}/{token}".encode())


def _size(text: str | None) -> int | None:
    if text is None or text == "":
        return DEFAULT_SIZE
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_SIZE:
        return None
    return int(text)


def _text(status: int, text: str, *extra: tuple[str, str]) -> HttpResponse:
    return HttpResponse(status, [_TEXT, ("X-Content-Type-Options", "nosniff"), *extra],
                    f"{text}\n".encode())
