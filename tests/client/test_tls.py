"""The client over TLS against the in-process fake server behind trio's TLS (conftest
tls_server): success with a CA and a client certificate, keep-alive, failover, and every
way the handshake can fail, with the text Go's client gives for it.

Texts about the server's certificate are decided by the client (etcdctl printed the same
ones against etcd 3.4, research doc §3; test_tls_etcd.py checks them against etcd itself).
Alert texts name what the server sent: this server is OpenSSL, which refuses a missing
client certificate with certificate_required (TLS 1.3) or handshake_failure (TLS 1.2) and
one of an unknown CA with unknown_ca, where etcd (Go) says bad_certificate.
"""

from __future__ import annotations

import functools
import re
import ssl

import pytest
import trio

from trionode.client import Client, ClusterError, EndpointError, TlsConfigError, tls_context
from trionode.client.connection import TransportError, open_connection

from .certs import server_context
from .conftest import Reply, keys_reply

NODE = {"action": "get", "node": {"key": "/k", "value": "v", "modifiedIndex": 3, "createdIndex": 3}}
UNAVAILABLE = "client: etcd cluster is unavailable or misconfigured; error #0: "


def always(reply):
    return lambda seen: reply


async def only_error(client: Client, key: str = "/k") -> str:
    """The one error of a get on a one-endpoint client."""
    with pytest.raises(ClusterError) as info:
        await client.get(key)
    assert len(info.value.errors) == 1, info.value.errors
    return info.value.errors[0]


# ---------------------------------------------------------------- success

@pytest.mark.parametrize("tls12", [False, True])
async def test_ca_and_client_certificate(tls_server, tls_files, tls12):
    context = server_context(tls_files, client_ca="ca1.pem", tls12=tls12)
    server = await tls_server(always(keys_reply(NODE)), context)
    async with Client([server.url], ca_file=tls_files["ca1.pem"], cert_file=tls_files["client1.crt"],
                      key_file=tls_files["client1.key"]) as client:
        assert (await client.get("/k")).node.value == "v"
        assert (await client.get("/k")).node.value == "v"
    assert [s.conn for s in server.seen] == [1, 1]          # one TLS connection, kept alive
    assert server.handshakes == ["ok"]
    assert server.seen[0].headers["host"] == f"127.0.0.1:{server.port}"


async def test_the_request_callback_shows_https_urls(tls_server, tls_files):
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files))
    seen = []
    async with Client([server.url], ca_file=tls_files["ca1.pem"], on_request=seen.append) as client:
        await client.get("/k")
    assert seen[0].url == f"https://127.0.0.1:{server.port}/v2/keys/k?quorum=false&recursive=false&sorted=false"


async def test_an_ssl_context_of_ones_own(tls_server, tls_files):
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files))
    context = ssl.create_default_context(cafile=tls_files["ca1.pem"])
    async with Client([server.url], ssl_context=context) as client:
        assert (await client.get("/k")).node.value == "v"
    with pytest.raises(ValueError):
        Client([server.url], ssl_context=context, ca_file=tls_files["ca1.pem"])


async def test_ssl_cert_file_is_the_system_roots(tls_server, tls_files, monkeypatch):
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files))
    monkeypatch.setenv("SSL_CERT_FILE", tls_files["ca1.pem"])
    async with Client([server.url]) as client:
        assert (await client.get("/k")).node.value == "v"


async def test_a_pooled_tls_connection_the_server_closed_is_not_used(tls_server, tls_files):
    server = await tls_server(always(Reply(200, (), b'{"action":"get","node":{}}', hangup=True)),
                              server_context(tls_files))
    async with Client([server.url], ca_file=tls_files["ca1.pem"]) as client:
        await client.get("/k")
        [conn] = client._pool._idle[("https", "127.0.0.1", server.port)]
        with trio.fail_after(5):
            await trio.lowlevel.wait_readable(conn._sock)
        assert conn.dropped()
        await client.get("/k")
    assert [s.conn for s in server.seen] == [1, 2]


async def test_http_and_https_on_one_port_are_pooled_apart(tls_server, tls_files):
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files))
    async with Client([server.url, server.url.replace("https", "http")],
                      ca_file=tls_files["ca1.pem"]) as client:
        await client.get("/k")
        assert client._pool.idle_count(client._endpoints[0]) == 1
        assert client._pool.idle_count(client._endpoints[1]) == 0


# ---------------------------------------------------------------- the server's certificate

async def test_unknown_authority(tls_server, tls_files, monkeypatch):
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files))
    monkeypatch.setenv("SSL_CERT_FILE", tls_files["ca2.pem"])          # not CA1
    for kwargs in ({}, {"ca_file": tls_files["ca2.pem"]}, {"ca_file": tls_files["nopem.pem"]}):
        async with Client([server.url], **kwargs) as client:
            assert await only_error(client) == "x509: certificate signed by unknown authority"
    assert not server.seen


@pytest.mark.parametrize("name, host, ca, text", [
    ("wrong", "localhost", "ca1.pem", "x509: certificate is valid for wrong.example.org, not localhost"),
    ("wrong", "127.0.0.1", "ca1.pem",
     "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs"),
    ("server1", "127.0.0.2", "ca1.pem", "x509: certificate is valid for 127.0.0.1, not 127.0.0.2"),
    # Go checks the name before the chain: the name error wins over the unknown authority
    ("server1", "127.0.0.2", "ca2.pem", "x509: certificate is valid for 127.0.0.1, not 127.0.0.2"),
    ("wrong", "localhost", "ca2.pem", "x509: certificate is valid for wrong.example.org, not localhost"),
])
async def test_host_name_mismatch(tls_server, tls_files, name, host, ca, text):
    listen = "127.0.0.2" if host == "127.0.0.2" else "127.0.0.1"
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files, name), host=listen)
    async with Client([f"https://{host}:{server.port}"], ca_file=tls_files[ca]) as client:
        assert await only_error(client) == text


async def test_expired_certificate_is_reported_first(tls_server, tls_files):
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files, "expired"))
    for ca in ("ca1.pem", "ca2.pem"):
        async with Client([server.url], ca_file=tls_files[ca]) as client:
            text = await only_error(client)
        assert re.fullmatch(r"x509: certificate has expired or is not yet valid: current time "
                            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d) is after "
                            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), text


# ---------------------------------------------------------------- the client's certificate

@pytest.mark.parametrize("tls12, client, text", [
    (False, None, "remote error: tls: certificate required"),
    (True, None, "remote error: tls: handshake failure"),
    (False, "client2", "remote error: tls: unknown certificate authority"),
    (True, "client2", "remote error: tls: unknown certificate authority"),
])
async def test_the_server_refuses_the_client(tls_server, tls_files, tls12, client, text):
    context = server_context(tls_files, client_ca="ca1.pem", tls12=tls12)
    server = await tls_server(always(keys_reply(NODE)), context)
    files = {"cert_file": tls_files[f"{client}.crt"], "key_file": tls_files[f"{client}.key"]} if client else {}
    async with Client([server.url], ca_file=tls_files["ca1.pem"], **files) as client_:
        assert await only_error(client_) == text
        # a request with a body too: written at once, so the alert is read, not a reset
        with pytest.raises(ClusterError) as info:
            await client_.set("/k", "v" * 10000)
        assert info.value.errors == (text,)
    assert not server.seen and server.handshakes and server.handshakes[-1] != "ok"


async def test_a_server_that_sends_no_alert_is_eof(tls_server, tls_files):
    for tls12 in (False, True):
        context = server_context(tls_files, client_ca="ca1.pem", tls12=tls12)
        server = await tls_server(always(keys_reply(NODE)), context, alert=False)
        async with Client([server.url], ca_file=tls_files["ca1.pem"]) as client:
            assert await only_error(client) == "EOF"


async def test_a_refusal_after_the_handshake_is_a_failure_before_the_reply(tls_server, tls_files):
    """Under TLS 1.3 the server checks the client certificate after the client's handshake
    ended: its alert arrives on the first read, and is worded as in the handshake."""
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files, client_ca="ca1.pem"))
    conn = await open_connection("127.0.0.1", server.port, ssl_context=tls_context(tls_files["ca1.pem"]))
    try:
        with pytest.raises(TransportError) as info:
            await conn.send("GET", "/v2/keys/k", f"127.0.0.1:{server.port}", None, None)
            await conn.read_head()
    finally:
        conn.close()
    assert info.value.message == "remote error: tls: certificate required"
    assert info.value.before_reply                  # so a pooled GET may be sent again


async def test_a_refused_client_fails_over_to_the_next_endpoint(tls_server, tls_files):
    strict = await tls_server(always(keys_reply(NODE)), server_context(tls_files, client_ca="ca1.pem"))
    lax = await tls_server(always(keys_reply(NODE)), server_context(tls_files))
    async with Client([strict.url, lax.url], ca_file=tls_files["ca1.pem"]) as client:
        assert (await client.get("/k")).node.value == "v"
    assert len(lax.seen) == 1 and not strict.seen


# ---------------------------------------------------------------- not TLS on the other side

async def test_http_to_a_tls_port_is_eof(tls_server, tls_files):
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files))
    async with Client([server.url.replace("https", "http")]) as client:
        assert await only_error(client) == "EOF"


async def test_https_to_a_plain_port(fake_server, tls_files, nursery):
    plain = await fake_server(always(keys_reply(NODE)))        # closes on a ClientHello
    async with Client([plain.url.replace("http", "https")], ca_file=tls_files["ca1.pem"]) as client:
        assert await only_error(client) == "EOF"

    async def answer_http(stream):
        await stream.receive_some()
        await stream.send_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        await stream.aclose()

    [listener] = await nursery.start(functools.partial(trio.serve_tcp, answer_http, 0, host="127.0.0.1"))
    url = f"https://127.0.0.1:{listener.socket.getsockname()[1]}"
    async with Client([url], ca_file=tls_files["ca1.pem"]) as client:
        # not net/http's "server gave HTTP response": etcd's client bypasses http.Client
        assert await only_error(client) == "tls: first record does not look like a TLS handshake"


async def test_the_head_timeout_covers_the_handshake(nursery, tls_files):
    async def never_speak(stream):
        await trio.sleep_forever()

    [listener] = await nursery.start(functools.partial(trio.serve_tcp, never_speak, 0, host="127.0.0.1"))
    url = f"https://127.0.0.1:{listener.socket.getsockname()[1]}"
    async with Client([url], ca_file=tls_files["ca1.pem"], timeout=0.2) as client:
        assert await only_error(client) == f"client: endpoint {url} exceeded header timeout"
        with trio.fail_after(5):        # a long poll has no head timeout: the dial has its own
            with pytest.raises(ClusterError) as info:
                await client.wait("/k")
        assert info.value.errors == ("net/http: TLS handshake timeout",)


async def test_a_one_shot_request_reports_the_tls_error_alone(tls_server, tls_files):
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files, client_ca="ca1.pem"))
    async with Client([server.url], ca_file=tls_files["ca1.pem"]) as client:
        with pytest.raises(EndpointError) as info:
            await client.delete("/k")
    assert str(info.value) == "remote error: tls: certificate required"


# ---------------------------------------------------------------- open_connection

async def test_open_connection(tls_server, tls_files, dead_port):
    server = await tls_server(always(keys_reply(NODE)), server_context(tls_files))
    conn = await open_connection("127.0.0.1", server.port, ssl_context=tls_context(tls_files["ca1.pem"]))
    try:
        await conn.send("GET", "/v2/keys/k", f"127.0.0.1:{server.port}", None, None)
        assert (await conn.read_head()).status == 200
        assert b'"value": "v"' in await conn.read_body()
    finally:
        conn.close()
    with pytest.raises(TransportError) as info:
        await open_connection("127.0.0.1", server.port, ssl_context=tls_context(tls_files["ca2.pem"]))
    assert info.value.message == "x509: certificate signed by unknown authority"
    assert info.value.before_reply
    with pytest.raises(TransportError) as info:
        await open_connection("127.0.0.1", dead_port, ssl_context=tls_context())
    assert info.value.message == f"dial tcp 127.0.0.1:{dead_port}: connect: connection refused"
    plain = await open_connection("127.0.0.1", server.port)        # no context: plain TCP
    plain.close()


# ---------------------------------------------------------------- tls_context's files

def test_tls_context_file_errors(tls_files, tmp_path):
    f = tls_files
    (tmp_path / "two-keys.pem").write_text(open(f["client1.key"]).read() + open(f["client2.key"]).read())
    (tmp_path / "bad-cert.pem").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    cases = [
        ({"ca_file": "/nonexistent/ca.pem"}, "open /nonexistent/ca.pem: no such file or directory"),
        ({"ca_file": str(tmp_path)}, f"read {tmp_path}: is a directory"),
        ({"ca_file": f["client1.key"]}, "x509: malformed tbs certificate"),
        ({"cert_file": f["client1.crt"]},
         f"KeyFile and CertFile must both be present[key: , cert: {f['client1.crt']}]"),
        ({"key_file": f["client1.key"]},
         f"KeyFile and CertFile must both be present[key: {f['client1.key']}, cert: ]"),
        ({"cert_file": "/nonexistent.crt", "key_file": "/nonexistent.key", "ca_file": "/x"},
         "open /nonexistent.crt: no such file or directory"),
        ({"cert_file": f["client1.crt"], "key_file": "/nonexistent.key"},
         "open /nonexistent.key: no such file or directory"),
        ({"cert_file": f["client1.crt"], "key_file": f["client2.key"]},
         "tls: private key does not match public key"),
        ({"cert_file": f["rsa.crt"], "key_file": f["client1.key"]},
         "tls: private key type does not match public key type"),
        ({"cert_file": f["client1.crt"], "key_file": f["rsa.key"]},
         "tls: private key type does not match public key type"),
        ({"cert_file": f["nopem.pem"], "key_file": f["client1.key"]},
         "tls: failed to find any PEM data in certificate input"),
        ({"cert_file": f["client1.crt"], "key_file": f["nopem.pem"]},
         "tls: failed to find any PEM data in key input"),
        ({"cert_file": f["client1.key"], "key_file": f["client1.key"]},
         "tls: failed to find certificate PEM data in certificate input, but did find a private "
         "key; PEM inputs may have been switched"),
        ({"cert_file": str(tmp_path / "two-keys.pem"), "key_file": f["client1.key"]},
         'tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM '
         "blocks of the following types: [EC PRIVATE KEY EC PRIVATE KEY]"),
        ({"cert_file": f["client1.crt"], "key_file": f["client1.crt"]},
         "tls: found a certificate rather than a key in the PEM for the private key"),
        ({"cert_file": str(tmp_path / "bad-cert.pem"), "key_file": f["client1.key"]},
         "x509: malformed certificate"),
    ]
    for kwargs, text in cases:
        with pytest.raises(TlsConfigError) as info:
            tls_context(**kwargs)
        assert str(info.value) == text, kwargs
    with pytest.raises(TlsConfigError):         # the Client builds it at once
        Client(["https://127.0.0.1:1"], ca_file="/nonexistent/ca.pem")


def test_tls_context_settings(tls_files):
    context = tls_context(tls_files["ca1.pem"], tls_files["client1.crt"], tls_files["client1.key"])
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert not context.hostname_checks_common_name
    assert [c["subject"] for c in context.get_ca_certs()] == [
        c["subject"] for c in ssl.create_default_context(cafile=tls_files["ca1.pem"]).get_ca_certs()]
    assert tls_context(tls_files["nopem.pem"]).get_ca_certs() == []       # an empty pool
    assert tls_context("", "", "").verify_mode == ssl.CERT_REQUIRED       # "" = not given
