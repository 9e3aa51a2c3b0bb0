"""TLS at the edges, in one process: contexts from TlsSettings (and their file errors), the
HTTP server on an https listener (refusals, the alert that says why, a stalled handshake
bounded by the request timeout) and the peer transport between TLS members. Certificates:
tests/pki.py (a CA, its server and client certificates, and a foreign client one)."""

from __future__ import annotations

import ssl
from functools import partial
from pathlib import Path

import pytest
import trio
from pki import Pki
from test_peer_transport import FAST, Log, Node, until

from trionode.config.tls import TlsSettings
from trionode.config.values import Url
from trionode.http.message import HttpResponse
from trionode.http.server import HttpLimits, serve_http
from trionode.net.listen import bound_urls, listen
from trionode.net.tls import PortTls, TlsError, port_tls
from trionode.raft.messages import Message, MsgType


def server_settings(pki: Pki, **extra: object) -> TlsSettings:
    return TlsSettings(pki.file("server.crt"), pki.file("server.key"), **extra)  # type: ignore[arg-type]


@pytest.fixture
def files(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


# --- contexts and their errors ------------------------------------------------------------

def test_contexts_follow_the_settings(files: Pki, tmp_path: Path) -> None:
    plain = port_tls(TlsSettings(), "client", tmp_path, [])
    assert plain == PortTls(None, None)
    served = port_tls(server_settings(files), "client", tmp_path, [])
    assert served.server is not None and served.server.verify_mode == ssl.CERT_NONE
    assert served.server.minimum_version == ssl.TLSVersion.TLSv1_2
    verifying = port_tls(server_settings(files, trusted_ca_file=files.ca), "peer", tmp_path, [])
    assert verifying.server is not None and verifying.server.verify_mode == ssl.CERT_REQUIRED
    assert verifying.client is not None and verifying.client.check_hostname


@pytest.mark.parametrize(("change", "message"), [
    ({"cert_file": "/nonexistent.crt"}, "open /nonexistent.crt: no such file or directory"),
    ({"key_file": "client.key"}, "tls: private key does not match public key"),
    ({"trusted_ca_file": "/nonexistent-ca.pem"}, "open /nonexistent-ca.pem: no such file or directory"),
    ({"trusted_ca_file": "server.key"}, "tls: no certificate could be read from CA file"),
])
def test_unusable_files_stop_the_start_with_go_s_words(files: Pki, tmp_path: Path, change: dict,
                                                       message: str) -> None:
    fields = {"cert_file": files.file("server.crt"), "key_file": files.file("server.key")}
    fields |= {k: v if v.startswith("/") else files.file(v) for k, v in change.items()}
    with pytest.raises(TlsError) as info:
        port_tls(TlsSettings(**fields), "peer", tmp_path, [])
    assert message in str(info.value)


def test_auto_tls_makes_a_certificate_for_the_listen_hosts_and_keeps_it(tmp_path: Path) -> None:
    tls = port_tls(TlsSettings(auto_tls=True), "peer", tmp_path, ["127.0.0.1", "localhost"])
    cert = tmp_path / "fixtures" / "peer" / "cert.pem"
    assert tls.server is not None and cert.exists()
    assert tls.client is not None and tls.client.verify_mode == ssl.CERT_NONE  # as etcd: not verified
    pem = cert.read_bytes()
    port_tls(TlsSettings(auto_tls=True), "peer", tmp_path, ["10.0.0.1"])
    assert cert.read_bytes() == pem
    assert (tmp_path / "fixtures" / "peer").stat().st_mode & 0o777 == 0o700


# --- the HTTP server on an https listener ------------------------------------------------

async def hello(request: object) -> HttpResponse:
    return HttpResponse(200, [("Content-Type", "text/plain")], b"hello")


async def serve(nursery: trio.Nursery, context: ssl.SSLContext, limits: HttpLimits = HttpLimits()
                ) -> tuple[int, Log]:
    log = Log()
    listeners = await listen([Url("https", "127.0.0.1", 0)], context)
    await nursery.start(serve_http, listeners, hello, limits, log)
    assert bound_urls(listeners)[0].startswith("https://127.0.0.1:")
    return int(bound_urls(listeners)[0].rpartition(":")[2]), log


async def get(port: int, context: ssl.SSLContext) -> bytes:
    stream = await trio.open_ssl_over_tcp_stream("127.0.0.1", port, ssl_context=context,
                                                 https_compatible=True)
    async with stream:
        await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := await stream.receive_some(65536):
            data += chunk
        return data


async def test_https_serves_the_app_and_refuses_with_an_alert(files: Pki, tmp_path: Path) -> None:
    settings = server_settings(files, trusted_ca_file=files.ca)
    context = port_tls(settings, "client", tmp_path, []).server
    assert context is not None
    async with trio.open_nursery() as nursery:
        port, log = await serve(nursery, context)
        reply = await get(port, files.context())
        assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(b"hello")
        # The alert the server's OpenSSL wrote reaches the client (and is not destroyed by a
        # reset: tlsstream.py drains before it closes): it knows why it was refused.
        with pytest.raises(trio.BrokenResourceError) as info:
            await get(port, files.context(None))
        assert isinstance(info.value.__cause__, ssl.SSLError)
        assert "CERTIFICATE_REQUIRED" in (info.value.__cause__.reason or "")
        with pytest.raises(trio.BrokenResourceError) as info:
            await get(port, files.context("foreign"))
        assert "UNKNOWN_CA" in (info.value.__cause__.reason or "")
        await until(lambda: len(log.events("tls.handshake_failed")) == 2, what=lambda: log.lines)
        nursery.cancel_scope.cancel()


async def test_plain_http_on_a_tls_port_is_closed_without_a_reply(files: Pki, tmp_path: Path) -> None:
    context = port_tls(server_settings(files), "client", tmp_path, []).server
    assert context is not None
    async with trio.open_nursery() as nursery:
        port, log = await serve(nursery, context)
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while chunk := await stream.receive_some(1024):
                answer += chunk
        assert answer == b"" or answer[0] == 0x15, answer  # nothing, or a TLS alert: never HTTP
        await until(lambda: log.events("tls.handshake_failed"), what=lambda: log.lines)
        nursery.cancel_scope.cancel()


async def test_a_stalled_handshake_is_bounded_by_the_request_timeout(files: Pki, tmp_path: Path) -> None:
    context = port_tls(server_settings(files), "client", tmp_path, []).server
    assert context is not None
    async with trio.open_nursery() as nursery:
        port, log = await serve(nursery, context, HttpLimits(request_timeout=0.3))
        async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, then nothing
            with trio.fail_after(3):
                assert await stream.receive_some(1024) == b""
        assert log.events("tls.handshake_failed")[0]["reason"] == "no handshake within the timeout"
        assert await get(port, files.context()) != b""  # and it held no one else up
        nursery.cancel_scope.cancel()


# --- the peer transport between TLS members ----------------------------------------------

def tls_node(files: Pki, tmp_path: Path, node_id: int, peers: dict[int, tuple[str, int]],
             who: str = "server") -> tuple[Node, PortTls]:
    settings = TlsSettings(files.file(f"{who}.crt"), files.file(f"{who}.key"), files.ca, True)
    tls = port_tls(settings, "peer", tmp_path, [])
    node = Node(node_id, {}, limits=FAST)
    node.transport = type(node.transport)(
        node_id, 0xC1, peers, "127.0.0.1", node.log, node.inbox.append,
        lambda peer: node.unreachable.append((trio.current_time(), peer)),
        lambda peer, ok: node.snapshots.append((peer, ok)), limits=FAST, tls=tls.client)
    return node, tls


async def test_members_talk_over_tls_and_a_foreign_certificate_is_refused(files: Pki,
                                                                         tmp_path: Path) -> None:
    async with trio.open_nursery() as nursery:
        node_b, tls_b = tls_node(files, tmp_path, 2, {})
        listeners = await listen([Url("https", "127.0.0.1", 0)], tls_b.server)
        port = int(bound_urls(listeners)[0].rpartition(":")[2])
        node_b.transport.set_peers({1: ("127.0.0.1", 1), 3: ("127.0.0.1", 1)})
        await nursery.start(partial(node_b.transport.serve), listeners)
        node_a, _ = tls_node(files, tmp_path, 1, {2: ("127.0.0.1", port)})
        await nursery.start(node_a.transport.run)
        node_a.transport.send([Message(MsgType.HEARTBEAT, to=2, frm=1, term=1)])
        await until(lambda: node_b.inbox, what=lambda: node_b.log.lines)
        assert node_b.inbox[0].frm == 1

        intruder, _ = tls_node(files, tmp_path, 3, {2: ("127.0.0.1", port)}, who="foreign")
        await nursery.start(intruder.transport.run)
        intruder.transport.send([Message(MsgType.HEARTBEAT, to=2, frm=3, term=9)])
        await until(lambda: node_b.log.events("tls.handshake_failed"), what=lambda: node_b.log.lines)
        await trio.sleep(0.2)
        assert all(msg.frm == 1 for msg in node_b.inbox)  # not one frame of the intruder's
        assert not [kw for kw in node_b.log.events("peer.accepted") if kw.get("peer") == "3"]
        nursery.cancel_scope.cancel()
