"""The generator's event loop: many keep-alive connections on one epoll, no framework.

Why not trio (or trionode.client): the generator shares two cores with the servers, and
every microsecond it spends per request is taken from them. One request costs here a
send(), an epoll wakeup, a recv() and a few slices of bytes; see docs/bench.md for the
measured ceilings of this loop, of trionode.client and of wrk.

A Workload owns what is sent and what is recorded; the loop only moves bytes:
  start(slot)              -> the slot's first request, or None to stay idle for now
  on_reply(slot, reply, sent, now) -> the slot's next request, or None to stop it
  poll(now)                -> [(slot, request)] for idle slots to wake (paced starts)
  complete()               -> True when the workload has nothing left to do
  on_error(slot, error)    -> the slot's connection failed; it is dialled again and started
Each slot is one connection to `targets[slot % len(targets)]`.

TLS (bench --tls): given an ssl context, each connection does its handshake while it is
dialled (blocking, before the clock starts; again on a reconnection) and then moves bytes
through the SSLSocket on the same epoll. A read that finds only part of a TLS record (or
only a session ticket) raises SSLWantReadError, which counts as "nothing yet"; a reply is
never left in OpenSSL's buffer unseen, since one recv takes a whole record (16 KiB at most)
and anything decrypted beyond it is drained at once.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Sequence
from typing import Protocol

from .wire import ProtocolError, Reply, ReplyParser

__all__ = ["EngineError", "Workload", "drive"]

POLL_SECONDS = 0.01
RECV_SIZE = 1 << 16
MAX_RECONNECTS = 1000           # per process and run: a server that keeps dropping us is a failure


class EngineError(Exception):
    """The run cannot go on (a server refused connections again and again)."""


class Workload(Protocol):
    done: int                   # replies so far (the progress line)

    def window(self, start: float, stop: float) -> None: ...
    def start(self, slot: int) -> bytes | None: ...
    def on_reply(self, slot: int, reply: Reply, sent: float, now: float) -> bytes | None: ...
    def poll(self, now: float) -> list[tuple[int, bytes]]: ...
    def complete(self) -> bool: ...
    def on_error(self, slot: int, error: str) -> None: ...


class _Conn:
    __slots__ = ("slot", "address", "context", "sock", "parser", "sent", "busy")

    def __init__(self, slot: int, address: tuple[str, int],
                 context: ssl.SSLContext | None = None) -> None:
        self.slot, self.address, self.context = slot, address, context
        self.sock = _connect(address, context)
        self.parser = ReplyParser()
        self.sent = 0.0
        self.busy = False


def _connect(address: tuple[str, int], context: ssl.SSLContext | None) -> socket.socket:
    sock = socket.create_connection(address, timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if context is not None:         # the handshake, blocking (bounded by the 5 s timeout)
        try:
            sock = context.wrap_socket(sock, server_hostname=address[0])
        except BaseException:
            sock.close()
            raise
    sock.setblocking(False)
    return sock


def _send(conn: _Conn, request: bytes) -> None:
    try:
        sent = conn.sock.send(request)
    except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
        sent = 0                    # TLS: nothing written; the blocking path sends it all
    if sent < len(request):         # rare (a full socket buffer): finish it blocking
        conn.sock.setblocking(True)
        try:
            conn.sock.sendall(request[sent:])
        finally:
            conn.sock.setblocking(False)
    conn.sent = time.monotonic()
    conn.busy = True


class _Loop:
    def __init__(self, workload: Workload, conns: list[_Conn]) -> None:
        self.workload = workload
        self.epoll = select.epoll()
        self.by_fd: dict[int, _Conn] = {}
        self.by_slot: dict[int, _Conn] = {}
        self.reconnects = 0
        for conn in conns:
            self._watch(conn)

    def _watch(self, conn: _Conn) -> None:
        self.by_fd[conn.sock.fileno()] = conn
        self.by_slot[conn.slot] = conn
        self.epoll.register(conn.sock.fileno(), select.EPOLLIN)

    def _replace(self, conn: _Conn, error: str) -> None:
        """A connection failed: tell the workload, dial again, restart the slot."""
        self.workload.on_error(conn.slot, error)
        self.epoll.unregister(conn.sock.fileno())
        del self.by_fd[conn.sock.fileno()]
        conn.sock.close()
        self.reconnects += 1
        if self.reconnects > MAX_RECONNECTS:
            raise EngineError(f"more than {MAX_RECONNECTS} connections failed ({error})")
        try:
            fresh = _Conn(conn.slot, conn.address, conn.context)
        except OSError as exc:
            raise EngineError(f"cannot reconnect to {conn.address}: {exc}") from None
        self._watch(fresh)
        request = self.workload.start(fresh.slot)
        if request is not None:
            _send(fresh, request)

    def _readable(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(RECV_SIZE)
            if conn.context is not None:
                while pending := conn.sock.pending():
                    data += conn.sock.recv(pending)
        except (BlockingIOError, ssl.SSLWantReadError):
            return
        except OSError as exc:
            self._replace(conn, f"recv: {exc.strerror or exc}")
            return
        if not data:
            self._replace(conn, "closed by the server")
            return
        try:
            reply = conn.parser.feed(data)
        except ProtocolError as exc:
            self._replace(conn, str(exc))
            return
        if reply is None:
            return
        conn.busy = False
        request = self.workload.on_reply(conn.slot, reply, conn.sent, time.monotonic())
        if request is not None:
            _send(conn, request)

    def run(self, until: float, progress) -> None:
        by_slot = self.by_slot
        for conn in list(by_slot.values()):
            request = self.workload.start(conn.slot)
            if request is not None:
                _send(conn, request)
        poll, by_fd, readable = self.epoll.poll, self.by_fd, self._readable
        while True:
            now = time.monotonic()
            if now >= until or self.workload.complete():
                return
            for slot, request in self.workload.poll(now):
                conn = by_slot[slot]
                if not conn.busy:
                    _send(conn, request)
            for fd, _ in poll(min(POLL_SECONDS, until - now)):
                conn = by_fd.get(fd)
                if conn is not None:
                    readable(conn)
            progress()

    def close(self) -> None:
        for conn in self.by_fd.values():
            conn.sock.close()
        self.epoll.close()


def connect(slots: Sequence[int], targets: Sequence[tuple[str, int]],
            context: ssl.SSLContext | None = None) -> list[_Conn]:
    """Dial every slot's connection (before the clock starts); over TLS with `context`."""
    return [_Conn(slot, targets[slot % len(targets)], context) for slot in slots]


def drive(workload: Workload, conns: list[_Conn], until: float, progress) -> int:
    """Run until `until` (monotonic) or the workload completes; returns reconnections."""
    loop = _Loop(workload, conns)
    try:
        loop.run(until, progress)
    finally:
        loop.close()
    return loop.reconnects
