"""`stream_io`: the most direct reads and writes a stream allows, behind one interface,
`send_all(data, timeout)` and `receive_some(max_bytes)`: DirectSocket for a plain socket
(sockio.py), the TlsStream itself (tlsstream.py: the same idea, with OpenSSL on the
descriptor), and trio's own calls for anything else (tests' in-memory streams)."""

from __future__ import annotations

import trio

from .sockio import DirectSocket
from .tlsstream import TlsStream

__all__ = ["StreamIO", "stream_io"]


class StreamIO:
    """DirectSocket's two calls on any other trio stream: every call goes through trio."""

    __slots__ = ("stream",)

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream

    async def send_all(self, data: bytes, timeout: float) -> None:
        with trio.fail_after(timeout):
            await self.stream.send_all(data)

    async def receive_some(self, max_bytes: int) -> bytes:
        return await self.stream.receive_some(max_bytes)


def stream_io(stream: trio.abc.Stream) -> DirectSocket | TlsStream | StreamIO:
    """`send_all(data, timeout)` and `receive_some(n)` on `stream`, as directly as it allows."""
    if isinstance(stream, trio.SocketStream):
        return DirectSocket(stream)
    if isinstance(stream, TlsStream):
        return stream
    return StreamIO(stream)
