"""An in-process fake HTTP server for the client tests (trio.serve_tcp on port 0, h11).

A test gives the server a `respond(seen)` function; it sees every request (with the id of
the connection it came on, so keep-alive reuse is observable) and returns a Reply: a
normal HTTP response, raw bytes written as they are, a silent close, or a stall.

tls_server(respond, context) is the same server behind TLS (an https URL); `tls_files` is
the certificate set of certs.py, made once per session; tls_servers(kind) are real etcd or
trionode processes on TLS (tlsservers.py), started once per session on first use.
"""

from __future__ import annotations

import functools
import itertools
import json
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import h11
import pytest
import trio
from requirements import require_tool


@dataclass(frozen=True)
class Seen:
    conn: int                    # which TCP connection (1, 2, ...) carried the request
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    close: bool = False          # send "Connection: close" and close after the reply
    hangup: bool = False         # close after the reply without saying so (idle timeout)
    raw: bytes | None = None     # write these bytes instead of a response, then close
    drop: bool = False           # close without answering
    stall: bool = False          # never answer (until the test ends)
    chunked: bool = False        # no Content-Length: chunked framing


def keys_reply(doc: dict, status: int = 200, index: int = 7) -> Reply:
    headers = (("Content-Type", "application/json"), ("X-Etcd-Index", str(index)),
               ("X-Raft-Index", str(index + 10)), ("X-Raft-Term", "2"))
    return Reply(status, headers, json.dumps(doc).encode() + b"\n")


def error_reply(code: int, message: str, cause: str, index: int, status: int) -> Reply:
    doc = {"errorCode": code, "message": message, "cause": cause, "index": index}
    return Reply(status, (("Content-Type", "application/json"),), json.dumps(doc).encode())


Respond = Callable[[Seen], Reply | Awaitable[Reply]]


@dataclass
class FakeServer:
    respond: Respond
    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    scheme: str = "http"
    host: str = "127.0.0.1"
    handshakes: list[str] = field(default_factory=list)     # TLS: "ok" or why it failed
    send_alerts: bool = True

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    async def _flush_alert(self, stream) -> None:
        """Send the alert OpenSSL wrote when a TLS stream broke (unless send_alerts is
        off): trio leaves it in the SSLStream's private outgoing buffer. (trionode's own
        server runs OpenSSL on the socket, which sends it by itself: net/tlsstream.py.
        This fake keeps trio's stream so that a server that sends no alert can be played.)"""
        if not isinstance(stream, trio.SSLStream) or not self.send_alerts:
            return
        pending = stream._outgoing.read()
        with trio.move_on_after(1):
            try:
                if pending:
                    await stream.transport_stream.send_all(pending)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass

    async def handle_tls(self, stream: trio.SSLStream) -> None:
        """The server handshake, then HTTP as handle() serves it; a failed handshake is
        closed (after its alert). TLS 1.3 checks the client certificate after the client's
        handshake ended: such a refusal shows up in handle(), on the first read."""
        try:
            await stream.do_handshake()
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            self.handshakes.append(str(exc.__cause__ or exc))
            await self._flush_alert(stream)
            await trio.aclose_forcefully(stream.transport_stream)
            return
        self.handshakes.append("ok")
        await self.handle(stream)

    async def _read_request(self, stream, conn: h11.Connection, conn_id: int) -> Seen | None:
        request, body = None, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await stream.receive_some(65536)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.ConnectionClosed):
                return None
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                headers = {k.decode(): v.decode() for k, v in request.headers}
                return Seen(conn_id, request.method.decode(), request.target.decode(),
                            headers, body)

    async def handle(self, stream) -> None:
        conn_id = next(self._ids)
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                seen = await self._read_request(stream, conn, conn_id)
                if seen is None:
                    return
                self.seen.append(seen)
                reply = self.respond(seen)
                if not isinstance(reply, Reply):
                    reply = await reply
                if reply.stall:
                    await trio.sleep_forever()
                if reply.drop or reply.raw is not None:
                    if reply.raw:
                        await stream.send_all(reply.raw)
                    return
                await self._send(stream, conn, reply)
                if reply.close or reply.hangup or conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except trio.BrokenResourceError as exc:
            if isinstance(stream, trio.SSLStream):
                self.handshakes.append(str(exc.__cause__ or exc))
            await self._flush_alert(stream)
            return
        except h11.RemoteProtocolError:
            return
        finally:
            await trio.aclose_forcefully(stream)

    @staticmethod
    async def _send(stream, conn: h11.Connection, reply: Reply) -> None:
        headers = list(reply.headers)
        if reply.chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Content-Length", str(len(reply.body))))
        if reply.close:
            headers.append(("Connection", "close"))
        await stream.send_all(conn.send(h11.Response(status_code=reply.status,
                                                     headers=headers)))
        if reply.body:
            await stream.send_all(conn.send(h11.Data(data=reply.body)))
        await stream.send_all(conn.send(h11.EndOfMessage()))


@pytest.fixture
def fake_server(nursery):
    """fake_server(respond) -> a started FakeServer (stopped with the test's nursery)."""
    async def start(respond: Respond) -> FakeServer:
        server = FakeServer(respond)
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, server.handle, 0, host="127.0.0.1"))
        server.port = listeners[0].socket.getsockname()[1]
        return server
    return start


@pytest.fixture
def tls_server(nursery):
    """tls_server(respond, context, host="127.0.0.1", alert=True) -> a started FakeServer
    behind TLS with `context` (certs.server_context)."""
    async def start(respond: Respond, context: ssl.SSLContext, host: str = "127.0.0.1",
                    alert: bool = True) -> FakeServer:
        server = FakeServer(respond, scheme="https", host=host, send_alerts=alert)
        tcp = await trio.open_tcp_listeners(0, host=host)
        listeners = [trio.SSLListener(tcp[0], context, https_compatible=True)]
        await nursery.start(trio.serve_listeners, server.handle_tls, listeners)
        server.port = tcp[0].socket.getsockname()[1]
        return server
    return start


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> dict[str, str]:
    """certs.make_files: name ("ca1.pem", "server1.crt", ...) -> path."""
    from .certs import make_files
    return make_files(tmp_path_factory.mktemp("tls"))


WHY_ETCD = ("the TLS behaviour is compared with etcd 3.4 and etcdctl v2 "
            "(apt-get install etcd-server etcd-client)")


@pytest.fixture(scope="session")
def tls_servers(tls_files):
    """tls_servers(kind) -> role -> a running TlsServer of `kind` ("etcd" or "trionode").
    A missing etcd skips (fails under CI=true). Call it from a sync fixture or test: a skip
    raised inside an async test loses its reason."""
    from .tlsservers import start_all
    started: dict = {}

    def get(kind: str) -> dict:
        if kind == "etcd":
            require_tool("etcd", WHY_ETCD)
        if kind not in started:
            try:
                started[kind] = start_all(kind, tls_files)
            except RuntimeError as exc:
                started[kind] = exc
        if isinstance(started[kind], RuntimeError):
            pytest.fail(str(started[kind]), pytrace=False)
        return started[kind]

    yield get
    for servers in started.values():
        if isinstance(servers, dict):
            for server in servers.values():
                server.stop()


@pytest.fixture
def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
