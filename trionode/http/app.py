"""Routing of the client port: path and method -> handler (v2-spec §1.1, §4)."""

from __future__ import annotations

from collections.abc import Callable

from . import info
from .api import NodeApi
from .discovery_service import handle_discovery, is_discovery_path
from .keys import handle_keys
from .members import handle_members
from .message import HttpResponse, Request
from .paths import redirect_for

__all__ = ["ClientApp"]

_TEXT = ("Content-Type", "text/plain; charset=utf-8")
_NOSNIFF = ("X-Content-Type-Options", "nosniff")
_KEYS_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})


def _plain(status: int, text: str, *extra: tuple[str, str]) -> HttpResponse:
    return HttpResponse(status, [_TEXT, _NOSNIFF, *extra], f"{text}\n".encode())


def not_allowed(allow: str | None) -> HttpResponse:
    extra = [("Allow", allow)] if allow else []
    return _plain(405, "Method Not Allowed", *extra)


NOT_FOUND = _plain(404, "404 page not found")

# path -> (allowed methods, Allow header, handler); GET-only endpoints, as in etcd 3.4.
_INFO: dict[str, tuple[frozenset[str], str, Callable[[NodeApi], HttpResponse]]] = {
    "/version": (frozenset({"GET"}), "GET", info.version),
    "/health": (frozenset({"GET"}), "GET", info.health),
    "/v2/stats/self": (frozenset({"GET"}), "GET", info.stats_self),
    "/v2/stats/leader": (frozenset({"GET"}), "GET", info.stats_leader),
    "/v2/stats/store": (frozenset({"GET"}), "GET", info.stats_store),
    "/v2/machines": (frozenset({"GET", "HEAD"}), "GET,HEAD", info.machines),
    # etcd 0.4 only (3.4 answers 404): the leader's peer URL, and the machines again
    "/v2/leader": (frozenset({"GET", "HEAD"}), "GET,HEAD", info.leader),
    "/v2/peers": (frozenset({"GET", "HEAD"}), "GET,HEAD", info.peers),
}


class ClientApp:
    """The client-port application handed to the HTTP server."""

    def __init__(self, node: NodeApi, *, discovery_service: bool = False, scheme: str = "http") -> None:
        self._node = node
        self._discovery = discovery_service  # --enable-discovery-service: /new and /<token>
        self._scheme = scheme  # of the listeners it serves: discovery URLs name it

    async def __call__(self, request: Request) -> HttpResponse:
        # Go's mux cleans every path, not only the keys space (v2-spec §1.1.3).
        redirect = redirect_for(request.raw_path, request.query, request.method)
        if redirect is not None:
            return redirect
        path = request.path
        if path == "/v2/keys" or path.startswith("/v2/keys/"):
            if request.method == "OPTIONS":
                return HttpResponse(200, [])
            if request.method not in _KEYS_METHODS:
                return not_allowed("HEAD,GET,PUT,POST,DELETE")
            return await handle_keys(self._node, request)
        route = _INFO.get(path)
        if route is not None:
            methods, allow, handler = route
            if request.method not in methods:
                return not_allowed(allow)
            return handler(self._node)
        if path == "/v2/members" or path.startswith("/v2/members/"):
            return await handle_members(self._node, request)
        if self._discovery and is_discovery_path(path):
            return await handle_discovery(self._node, request, self._scheme)
        return NOT_FOUND
