"""Opening the client and peer listeners, and naming what was bound."""

from __future__ import annotations

from collections.abc import Iterable

import trio

from ..config.values import Url

__all__ = ["ListenError", "bound_urls", "listen"]


class ListenError(Exception):
    """A client or peer URL that cannot be listened on (in use, not a local address)."""


async def listen(urls: Iterable[Url]) -> list[trio.SocketListener]:
    listeners: list[trio.SocketListener] = []
    for url in urls:
        try:
            listeners.extend(await trio.open_tcp_listeners(url.port, host=url.host, backlog=1024))
        except OSError as exc:
            raise ListenError(f"cannot listen on {url}: {exc.strerror or exc}") from None
    return listeners


def bound_urls(listeners: list[trio.SocketListener]) -> list[str]:
    """The addresses actually bound (port 0 becomes the OS's choice), for the log."""
    names = []
    for listener in listeners:
        host, port = listener.socket.getsockname()[:2]
        names.append(f"http://{host}:{port}")
    return names
