"""Socket reads and writes without trio's extra scheduler pass when nothing would block.

trio's SocketStream.send_all and receive_some each make a scheduler round trip after a
successful call, so that a busy connection cannot starve the others. On our hot paths
(small HTTP requests and replies, batches of Raft messages) almost every call succeeds
at once, and that pass was a large part of the cost of a request. These helpers try the
system call on the descriptor first and wait through trio only when it would block;
fairness is kept by yielding once every `YIELD_EVERY` reads that did not wait.

`stream_io` picks the direct I/O of a stream: DirectSocket for a plain socket, the
TlsStream itself (tlsstream.py, the same idea with OpenSSL on the descriptor), and trio's
own calls for anything else (tests' in-memory streams).
"""

from __future__ import annotations

import os

import trio

from .tlsstream import TlsStream

__all__ = ["DirectSocket", "StreamIO", "YIELD_EVERY", "stream_io"]

YIELD_EVERY = 16


class DirectSocket:
    """Direct I/O on a trio SocketStream's descriptor; errors come out as trio's stream errors."""

    __slots__ = ("stream", "fd", "_unyielded")

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.fd = stream.socket.fileno()
        self._unyielded = 0

    async def send_all(self, data: bytes, timeout: float) -> None:
        """Write all of `data`; what does not fit now goes through trio, within `timeout`."""
        try:
            sent = os.write(self.fd, data)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            raise trio.BrokenResourceError(str(exc)) from exc
        if sent < len(data):
            with trio.fail_after(timeout):
                await self.stream.send_all(memoryview(data)[sent:])

    async def receive_some(self, max_bytes: int) -> bytes:
        """The next bytes; b"" at EOF."""
        while True:
            try:
                data = os.read(self.fd, max_bytes)
            except BlockingIOError:
                self._unyielded = 0
                await trio.lowlevel.wait_readable(self.fd)
                continue
            except OSError as exc:
                raise trio.BrokenResourceError(str(exc)) from exc
            self._unyielded += 1
            if self._unyielded >= YIELD_EVERY:
                self._unyielded = 0
                await trio.lowlevel.checkpoint()
            return data


class StreamIO:
    """DirectSocket's two calls on any trio stream (a TLS one): every call goes through trio."""

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
