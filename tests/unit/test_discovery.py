"""discover() and the discovery service, in process: a real Store behind the real keys and
discovery handlers on a loopback HTTP server (no Raft: propose applies at once)."""

from __future__ import annotations

import ssl

import pytest
import structlog
import structlog.testing
import trio
import trustme
from fake_api import FakeApi

from trionode.config.errors import ConfigError
from trionode.http.discovery_service import handle_discovery, is_discovery_path
from trionode.http.keys import handle_keys
from trionode.http.message import HttpResponse, Request
from trionode.http.server import HttpLimits, serve_http
from trionode.membership.discovery import (
    BAD_ENDPOINT,
    BAD_SIZE,
    DUPLICATE_NAME,
    FULL,
    INVALID_URL,
    SIZE_NOT_FOUND,
    TOO_MANY_RETRIES,
    DiscoveryError,
    discover,
    registration,
)
from trionode.store.commands import Command, Op

LOG = structlog.get_logger()
FAST = {"retries": 2, "backoff_s": 0.001}


class App:
    """The routes the lead wires into ClientApp: keys, then the discovery service."""

    def __init__(self, node: FakeApi) -> None:
        self.node = node

    async def __call__(self, request: Request) -> HttpResponse:
        if request.path.startswith("/v2/keys"):
            return await handle_keys(self.node, request)
        if is_discovery_path(request.path):
            return await handle_discovery(self.node, request)
        return HttpResponse(404, [], b"404 page not found\n")


@pytest.fixture
async def server(nursery: trio.Nursery):
    node = FakeApi()  # propose applies at once
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    await nursery.start(serve_http, listeners, App(node), HttpLimits(), LOG)
    port = listeners[0].socket.getsockname()[1]
    return node, f"http://127.0.0.1:{port}"


async def http(base: str, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    host = base.removeprefix("http://")
    async with await trio.open_tcp_stream("127.0.0.1", int(host.split(":")[1])) as stream:
        await stream.send_all(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
                              f"Content-Type: application/x-www-form-urlencoded\r\n"
                              f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        data = b""
        while chunk := await stream.receive_some():
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload


async def new_token(base: str, size: int = 3) -> str:
    status, body = await http(base, "GET", f"/new?size={size}")
    assert status == 200, body
    return body.decode()


def peer(i: int) -> str:
    return f"http://10.0.0.{i}:2380"


async def run_all(url: str, count: int, first_id: int = 1) -> list:
    """`count` members discovering at once; -> each one's result or DiscoveryError."""
    results: list = [None] * count

    async def one(i: int) -> None:
        try:
            results[i] = await discover(url, f"m{i}", [peer(i)], LOG, member_id=first_id + i,
                                        **FAST)
        except DiscoveryError as exc:
            results[i] = exc

    async with trio.open_nursery() as nursery:
        for i in range(count):
            nursery.start_soon(one, i)
    return results


# --- the service -----------------------------------------------------------------------------

async def test_new_issues_a_token_whose_url_shows_the_registry_dir(server) -> None:
    node, base = server
    url = await new_token(base, 5)
    token = url.removeprefix(base + "/")
    assert len(token) == 32 and int(token, 16) >= 0
    assert node.store.value_of(f"/_etcd/registry/{token}/_config/size") == "5"
    status, body = await http(base, "GET", f"/{token}")
    assert status == 200
    assert body.startswith(b'{"action":"get","node":{"key":"/_etcd/registry/%s","dir":true'
                           % token.encode())
    assert b"_config" not in body  # hidden, as in the tutorial's sample


async def test_new_defaults_to_three_and_refuses_bad_sizes(server) -> None:
    node, base = server
    status, body = await http(base, "POST", "/new")
    token = body.decode().rpartition("/")[2]
    assert status == 200 and node.store.value_of(f"/_etcd/registry/{token}/_config/size") == "3"
    for bad in ("0", "-1", "x", "129"):
        status, body = await http(base, "GET", f"/new?size={bad}")
        assert status == 400 and b"size must be an integer" in body
    assert (await http(base, "DELETE", "/new"))[0] == 405


async def test_token_paths_are_the_keys_api_on_the_registry(server) -> None:
    node, base = server
    token = (await new_token(base)).rpartition("/")[2]
    status, _ = await http(base, "PUT", f"/{token}/abc?prevExist=false", b"value=x")
    assert status == 201 and node.store.value_of(f"/_etcd/registry/{token}/abc") == "x"
    status, body = await http(base, "GET", f"/{token}/_config/size")
    assert status == 200 and b'"value":"3"' in body
    assert (await http(base, "PATCH", f"/{token}"))[0] == 405
    assert not is_discovery_path("/" + "A" * 32) and not is_discovery_path("/abc")
    assert is_discovery_path("/" + "a" * 32 + "/x")


# --- the protocol ----------------------------------------------------------------------------

async def test_three_concurrent_members_agree_and_a_fourth_is_refused(server) -> None:
    _, base = server
    url = await new_token(base)
    results = await run_all(url, 3)
    assert results[0] == results[1] == results[2]
    assert sorted(results[0]) == [(f"m{i}", peer(i)) for i in range(3)]
    with pytest.raises(DiscoveryError, match=FULL):
        await discover(url, "late", [peer(9)], LOG, member_id=99, **FAST)
    # A fresh cluster on the same token: the same member ids are registered already.
    with pytest.raises(DiscoveryError, match="duplicate id.*fresh token"):
        await discover(url, "m0", [peer(0)], LOG, member_id=1, **FAST)
    # The same member resuming after a stop (its data dir says so) gets the cluster again,
    # unless its registration says something else.
    assert await discover(url, "m0", [peer(0)], LOG, member_id=1, resuming=True, **FAST) == results[0]
    with pytest.raises(DiscoveryError, match="duplicate id"):
        await discover(url, "m0", [peer(5)], LOG, member_id=1, resuming=True, **FAST)


async def test_late_registrations_beyond_size_lose(server) -> None:
    _, base = server
    url = await new_token(base, 2)
    results = await run_all(url, 4)
    winners = [r for r in results if not isinstance(r, DiscoveryError)]
    losers = [r for r in results if isinstance(r, DiscoveryError)]
    assert len(winners) == 2 and winners[0] == winners[1] and len(winners[0]) == 2
    assert len(losers) == 2 and all(str(e) == FULL for e in losers)


async def test_a_plain_keys_directory_works_as_discovery_url(server) -> None:
    node, base = server
    node.store.apply(Command(Op.SET, "/disc/tok/_config/size", "1"))
    result = await discover(f"{base}/v2/keys/disc/tok", "solo", [peer(2), peer(1)], LOG,
                            member_id=0xABC, **FAST)
    assert result == (("solo", peer(1)), ("solo", peer(2)))
    assert node.store.value_of("/disc/tok/abc") == f"solo={peer(1)},solo={peer(2)}"


async def test_size_key_errors(server) -> None:
    node, base = server
    with pytest.raises(DiscoveryError, match=SIZE_NOT_FOUND):
        await discover(f"{base}/v2/keys/none", "a", [peer(1)], LOG, member_id=1, **FAST)
    node.store.apply(Command(Op.SET, "/bad/_config/size", "three"))
    with pytest.raises(DiscoveryError, match=BAD_SIZE):
        await discover(f"{base}/v2/keys/bad", "a", [peer(1)], LOG, member_id=1, **FAST)


async def test_registrations_that_do_not_make_a_cluster(server) -> None:
    node, base = server
    node.store.apply(Command(Op.SET, "/d/_config/size", "2"))
    node.store.apply(Command(Op.CREATE, "/d/77", "a=http://10.0.0.7:2380"))
    with pytest.raises(DiscoveryError, match=DUPLICATE_NAME):
        await discover(f"{base}/v2/keys/d", "a", [peer(1)], LOG, member_id=1, **FAST)
    node.store.apply(Command(Op.SET, "/e/_config/size", "2"))
    node.store.apply(Command(Op.CREATE, "/e/77", "nonsense"))
    with pytest.raises(DiscoveryError, match=INVALID_URL):
        await discover(f"{base}/v2/keys/e", "a", [peer(1)], LOG, member_id=1, **FAST)


async def test_a_waiting_member_can_be_cancelled(server) -> None:
    _, base = server
    url = await new_token(base, 2)
    with trio.move_on_after(0.3) as scope:
        await discover(url, "a", [peer(1)], LOG, member_id=1, **FAST)
    assert scope.cancelled_caught


async def test_unreachable_server_gives_up_after_the_retries() -> None:
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    with pytest.raises(DiscoveryError, match=TOO_MANY_RETRIES):
        await discover(f"http://127.0.0.1:{port}/abc", "a", [peer(1)], LOG, member_id=1, **FAST)


async def test_a_server_that_is_not_etcd(nursery: trio.Nursery) -> None:
    async def not_etcd(request: Request) -> HttpResponse:
        return HttpResponse(200, [], b"<html>hello</html>")

    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    await nursery.start(serve_http, listeners, not_etcd, HttpLimits(), LOG)
    port = listeners[0].socket.getsockname()[1]
    with pytest.raises(DiscoveryError, match=BAD_ENDPOINT):
        await discover(f"http://127.0.0.1:{port}/abc", "a", [peer(1)], LOG, member_id=1, **FAST)


async def test_bad_urls_are_config_errors() -> None:
    for url in ("ftp://h/x", "http:///x", "https:///x", "http://h:1/x?y=1"):
        with pytest.raises(ConfigError):
            await discover(url, "a", [peer(1)], LOG, member_id=1)


@pytest.fixture
async def tls_server(nursery: trio.Nursery, tmp_path):
    """The same server on https (a certificate for 127.0.0.1 from a fresh CA); -> (node,
    base URL, the CA's PEM file)."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    node = FakeApi()
    tcp = await trio.open_tcp_listeners(0, host="127.0.0.1")
    listeners = [trio.SSLListener(tcp[0], context, https_compatible=True)]
    await nursery.start(serve_http, listeners, App(node), HttpLimits(), LOG)
    return node, f"https://127.0.0.1:{tcp[0].socket.getsockname()[1]}", str(ca_file)


async def test_https_discovery_trusts_the_system_roots_and_ssl_cert_file(tls_server,
                                                                        monkeypatch) -> None:
    node, base, ca_file = tls_server
    node.store.apply(Command(Op.SET, "/disc/tls/_config/size", "1"))
    url = f"{base}/v2/keys/disc/tls"
    # the CA is in no system store: refused, and retried as an unreachable server is
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    with structlog.testing.capture_logs() as logs, pytest.raises(DiscoveryError,
                                                                 match=TOO_MANY_RETRIES):
        await discover(url, "solo", [peer(1)], LOG, member_id=0xABC, **FAST)
    assert any("error #0: x509: certificate signed by unknown authority" in e.get("error", "")
               for e in logs), logs
    assert node.store.value_of("/disc/tls/abc") is None
    # OpenSSL's default paths honour SSL_CERT_FILE, as Go's system roots do
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    assert await discover(url, "solo", [peer(1)], LOG, member_id=0xABC, **FAST) == (
        ("solo", peer(1)),)
    assert node.store.value_of("/disc/tls/abc") == f"solo={peer(1)}"


def test_registration_is_etcds_urlsmap_text() -> None:
    assert registration("n", ["http://b:2", "http://a:1"]) == "n=http://a:1,n=http://b:2"


async def test_a_waiting_member_sees_later_registrations_through_the_service(server) -> None:
    node, base = server
    url = await new_token(base, 2)
    results: list = []

    async def first() -> None:
        results.append(await discover(url, "a", [peer(1)], LOG, member_id=1, **FAST))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(first)
        # "b" must register while "a" waits: "a" watches the token only after registering
        # (its own registration's wait is answered from history, never registered).
        with trio.fail_after(5):
            while node.store.stats.watchers == 0:
                await trio.sleep(0.005)
        second = await discover(url, "b", [peer(2)], LOG, member_id=2, **FAST)
    assert results == [second] == [(("a", peer(1)), ("b", peer(2)))]
