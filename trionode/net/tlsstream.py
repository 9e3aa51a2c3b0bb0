"""TLS straight on a socket's descriptor: OpenSSL reads and writes the socket itself.

trio.SSLStream runs OpenSSL on memory buffers and moves every record through trio's
socket layer: two copies and a scheduler pass per read and per write. On the client port
that halved the requests a node served (wrk, 64 connections, 30.1k/s plain, 14.2k/s
through SSLStream). Here the stdlib's ssl.SSLSocket, non-blocking, does each read or
write in one C call, and trio is asked only to wait when the socket would block: the
same idea as DirectSocket (sockio.py) for plain sockets, with its fairness rule.

A failed handshake also writes OpenSSL's alert ("certificate required", "unknown ca") to
the socket itself, so the client can say why it was refused.

One read and one write may wait at the same time (the HTTP server watches a streaming
client while it writes; a peer sender watches for EOF while it writes). With
renegotiation refused (the contexts set OP_NO_RENEGOTIATION), a write never needs to read,
so the two never wait on the same direction of the descriptor.
"""

from __future__ import annotations

import math
import socket
import ssl

import trio

from .sockio import YIELD_EVERY

__all__ = ["TlsListener", "TlsStream"]

_WANT = (ssl.SSLWantReadError, ssl.SSLWantWriteError)


class TlsStream(trio.abc.Stream):
    """A trio Stream (and DirectSocket's `send_all(data, timeout)`) over an SSLSocket."""

    __slots__ = ("socket", "fd", "_unyielded", "_closed")

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self.socket = sock
        self.fd = sock.fileno()
        self._unyielded = 0
        self._closed = False

    @classmethod
    def wrap(cls, stream: trio.SocketStream, context: ssl.SSLContext, *, server_side: bool,
             server_hostname: str | None = None) -> TlsStream:
        """Take over `stream`'s socket (the stream is left closed); no I/O happens yet."""
        raw = stream.socket
        sock = socket.socket(raw.family, raw.type, raw.proto, fileno=raw.detach())
        sock.setblocking(False)
        try:
            wrapped = context.wrap_socket(sock, server_side=server_side, server_hostname=server_hostname,
                                          do_handshake_on_connect=False)
        except BaseException:
            sock.close()
            raise
        return cls(wrapped)

    async def _wait(self, want: BaseException) -> None:
        self._unyielded = 0
        try:
            if isinstance(want, ssl.SSLWantReadError):
                await trio.lowlevel.wait_readable(self.fd)
            else:
                await trio.lowlevel.wait_writable(self.fd)
        except trio.BusyResourceError as exc:  # cannot happen without renegotiation; be safe
            raise trio.BrokenResourceError("a read and a write both waiting for one direction") from exc
        except trio.ClosedResourceError:
            raise trio.ClosedResourceError("closed while waiting") from None

    def _check_open(self) -> None:
        if self._closed:
            raise trio.ClosedResourceError("this TLS stream is closed")

    async def do_handshake(self) -> None:
        """The TLS handshake (idempotent); BrokenResourceError, from the ssl error, if it fails."""
        while True:
            self._check_open()
            try:
                self.socket.do_handshake()
                return
            except _WANT as want:
                await self._wait(want)
            except OSError as exc:  # ssl.SSLError is an OSError
                raise trio.BrokenResourceError(str(exc)) from exc

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        """The next bytes; b"" at EOF (a close without close_notify counts as EOF too)."""
        size = max_bytes or 65536
        while True:
            self._check_open()
            try:
                data = self.socket.recv(size)
            except _WANT as want:
                await self._wait(want)
                continue
            except ssl.SSLZeroReturnError:
                return b""
            except OSError as exc:
                raise trio.BrokenResourceError(str(exc)) from exc
            self._unyielded += 1
            if self._unyielded >= YIELD_EVERY:
                self._unyielded = 0
                await trio.lowlevel.checkpoint()
            return data

    async def send_all(self, data: bytes | bytearray | memoryview, timeout: float = math.inf) -> None:
        """Write all of `data`, waiting (at most `timeout`) only while the socket is full."""
        if timeout == math.inf:
            await self._send(memoryview(data))
        else:
            with trio.fail_after(timeout):
                await self._send(memoryview(data))

    async def _send(self, view: memoryview) -> None:
        while view:
            self._check_open()
            try:
                view = view[self.socket.send(view):]
            except _WANT as want:
                await self._wait(want)
            except OSError as exc:
                raise trio.BrokenResourceError(str(exc)) from exc

    async def refuse(self, timeout: float) -> None:
        """After a failed handshake: end our side (after OpenSSL's alert) and drain what the
        client still sends, for at most `timeout`. Closing with its bytes unread would
        reset the connection, and a reset can destroy the alert before the client reads it
        (under TLS 1.3 the client sends its request before it hears of the refusal)."""
        if self._closed:
            return
        with trio.move_on_after(timeout):
            try:
                self.socket.shutdown(socket.SHUT_WR)  # drops the TLS layer: reads below are raw
                while True:
                    await trio.lowlevel.wait_readable(self.fd)
                    if not self.socket.recv(65536):
                        return
            except (OSError, trio.BusyResourceError, trio.ClosedResourceError):
                return

    async def wait_send_all_might_not_block(self) -> None:
        self._check_open()
        await trio.lowlevel.wait_writable(self.fd)

    async def aclose(self) -> None:
        """Close at once, without close_notify (as trio's https_compatible mode)."""
        if not self._closed:
            self._closed = True
            trio.lowlevel.notify_closing(self.fd)
            self.socket.close()
        await trio.lowlevel.checkpoint()


class TlsListener(trio.abc.Listener[TlsStream]):
    """Accepts on a socket listener; each connection comes out as a TlsStream whose
    handshake is still to be done (by whoever serves it, under a deadline: tls.handshake)."""

    def __init__(self, transport_listener: trio.SocketListener, context: ssl.SSLContext) -> None:
        self.transport_listener = transport_listener
        self.context = context

    async def accept(self) -> TlsStream:
        while True:
            stream = await self.transport_listener.accept()
            try:
                return TlsStream.wrap(stream, self.context, server_side=True)
            except OSError:  # gone between accept and wrap: not the listener's failure
                await trio.aclose_forcefully(stream)

    async def aclose(self) -> None:
        await self.transport_listener.aclose()
