"""Socket reads and writes without trio's extra scheduler pass when nothing would block.

trio's SocketStream.send_all and receive_some each make a scheduler round trip after a
successful call, so that a busy connection cannot starve the others. On our hot paths
(small HTTP requests and replies, batches of Raft messages) almost every call succeeds
at once, and that pass was a large part of the cost of a request. These helpers try the
system call on the descriptor first and wait through trio only when it would block;
fairness is kept by yielding once every `YIELD_EVERY` reads that did not wait.
"""

from __future__ import annotations

import os

import trio

__all__ = ["DirectSocket", "YIELD_EVERY"]

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

