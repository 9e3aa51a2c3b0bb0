"""Real trionode processes with TLS on both ports (certificates from tests/system/pki.py).

Covered: one member and three with client-cert-auth on both ports; writes on a follower,
quorum reads, a leader kill, catch-up by snapshot; curl and the real etcdctl; the clients
a port must refuse (no certificate, another CA's, plain HTTP) and the peer connections it
must refuse (plain TCP, another CA's certificate) while the cluster keeps serving; auto-TLS.
Joins and discovery over TLS are in test_tls_join.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import warnings

import pytest
from pki import Pki

from .cluster_harness import Cluster, wait_for
from .conftest import Node, Nodes

pytestmark = pytest.mark.system
ETCDCTL = shutil.which("etcdctl")
needs_curl = pytest.mark.requires_tool("curl", "curl is the client under test")
needs_etcdctl = pytest.mark.requires_tool("etcdctl", "the real etcdctl is the client under test")


@pytest.fixture
def pki(nodes: Nodes) -> Pki:
    return Pki(nodes.root / "pki")


def run(argv: list[str], timeout: float = 20.0) -> subprocess.CompletedProcess:
    env = {**os.environ, "ETCDCTL_API": "2"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def handshake_failures(member: Node) -> int:
    return len(member.log_lines(event="tls.handshake_failed"))


@needs_curl
@needs_etcdctl
def test_one_member_with_tls_on_both_ports_serves_curl_and_etcdctl(nodes: Nodes, pki: Pki) -> None:
    node = nodes.start("n1", *pki.server_flags(), tls=pki.context())
    assert node.put("/t/a", value="1").status == 201
    got = run([*pki.curl(), f"{node.url}/v2/keys/t/b", "-XPUT", "-d", "value=2"])
    assert got.returncode == 0 and '"value":"2"' in got.stdout, got
    etcdctl = ["etcdctl", "--endpoints", node.url, *pki.etcdctl()]
    assert run([*etcdctl, "set", "/t/c", "3"]).stdout == "3\n"
    assert run([*etcdctl, "get", "/t/b"]).stdout == "2\n"
    assert sorted(run([*etcdctl, "ls", "/t"]).stdout.split()) == ["/t/a", "/t/b", "/t/c"]
    members = run([*etcdctl, "member", "list"])
    assert members.returncode == 0 and f"clientURLs={node.url}" in members.stdout, members
    assert "peerURLs=https://" in members.stdout
    health = run([*etcdctl, "cluster-health"])
    assert health.returncode == 0 and "cluster is healthy" in health.stdout, health


@needs_curl
@needs_etcdctl
def test_refused_clients_are_closed_and_the_node_keeps_serving(nodes: Nodes, pki: Pki) -> None:
    node = nodes.start("n1", *pki.server_flags(), tls=pki.context())
    url = f"{node.url}/v2/keys/"
    no_cert = run([*pki.curl(None), url])
    assert no_cert.returncode != 0 and "certificate required" in no_cert.stderr, no_cert
    foreign = run([*pki.curl("foreign"), url])
    assert foreign.returncode != 0 and "unknown ca" in foreign.stderr, foreign
    plain = run(["curl", "-sS", f"http://127.0.0.1:{node.port}/v2/keys/"])
    assert plain.returncode == 52 and "Empty reply" in plain.stderr, plain  # closed, no bytes
    unknown_server = run(["etcdctl", "--endpoints", node.url, "get", "/x"])
    assert unknown_server.returncode == 4, unknown_server
    assert "error #0: x509: certificate signed by unknown authority" in unknown_server.stderr
    refused = run(["etcdctl", "--endpoints", node.url, *pki.etcdctl(None), "get", "/x"])
    assert refused.returncode == 4 and "error #0: remote error: tls: certificate required" in refused.stderr
    assert handshake_failures(node) >= 4, node.log()
    # A client that connects and never says a word is closed by the request timeout, not
    # held for ever; it holds nothing meanwhile: the node serves others.
    with socket.create_connection(("127.0.0.1", node.port)) as silent:
        assert node.put("/after", value="ok").status == 201
        silent.settimeout(0.2)
        with pytest.raises(TimeoutError):
            silent.recv(1)
    assert not node.error_lines(), node.error_lines()


def tls_cluster(nodes: Nodes, pki: Pki, *extra: str) -> Cluster:
    return Cluster(nodes, 3, *extra, *pki.server_flags(), tls=pki.context()).start()


def test_three_members_on_tls_replicate_fail_over_and_catch_up_by_snapshot(nodes: Nodes, pki: Pki) -> None:
    cluster = tls_cluster(nodes, pki, "--snapshot-count", "50")
    leader = cluster.leader()
    writer, reader = cluster.followers(leader)
    written = writer.put("/t/k", value="from-a-follower")
    assert written.status == 201, written
    quorum = reader.get("/t/k", "quorum=true")
    assert quorum.json()["node"]["value"] == "from-a-follower", quorum

    reader.kill()
    for n in range(200):
        assert (leader if n % 2 else writer).put(f"/s/k{n:03}", value=f"v{n}").status == 201
    assert leader.log_lines(event="snapshot_saved"), cluster.describe()
    reader.restart()
    assert reader.log_lines(event="snapshot_installed") or wait_for(
        lambda: reader.log_lines(event="snapshot_installed"), 10.0, "a snapshot install over TLS",
        cluster.describe)

    leader.kill()
    survivors = [writer, reader]
    new_leader = cluster.leader(members=survivors)
    assert new_leader is not leader
    assert new_leader.put("/after/failover", value="1").status == 201
    wait_for(lambda: reader.get("/after/failover").status == 200, 10.0, "the write on every survivor",
             cluster.describe)
    assert reader.get("/s/k199").json()["node"]["value"] == "v199"
    assert not cluster.error_lines(), cluster.error_lines()


def test_peer_ports_refuse_plain_tcp_and_foreign_certificates(nodes: Nodes, pki: Pki) -> None:
    cluster = tls_cluster(nodes, pki)
    target = cluster.leader()
    host, port = cluster.peer_urls[target.name].removeprefix("https://").split(":")
    before = handshake_failures(target)

    accepted = len(target.log_lines(event="peer.accepted"))
    # Plain TCP: a frame header and bytes. The port answers at most a TLS alert, and closes.
    with socket.create_connection((host, int(port)), timeout=5) as plain:
        plain.sendall(b"\x00\x00\x00\x20" + b"\x01" * 32)
        answer = b"".join(iter(lambda: plain.recv(1024), b""))
        assert answer == b"" or answer[0] == 0x15, answer  # 0x15: a TLS alert record
    # A certificate of another CA: the handshake is refused before any frame can be sent.
    context = pki.context("foreign")
    context.check_hostname = False
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError)):
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"\x00\x00\x00\x20" + b"\x01" * 32)
                if not tls.recv(1):  # TLS 1.3: the refusal arrives after the client's handshake
                    raise ConnectionError("closed")

    # (the peer port's log is rate-limited: a flood of refusals is one line per interval)
    wait_for(lambda: handshake_failures(target) > before, 5.0, "the refusals logged", cluster.describe)
    assert len(target.log_lines(event="peer.accepted")) == accepted  # neither got as far as a Hello
    for n, member in enumerate(cluster.members):
        assert member.put(f"/still/{n}", value="up").status == 201
    assert cluster.leader() is target
    assert not cluster.error_lines(), cluster.error_lines()


def test_auto_tls_on_both_ports_makes_and_keeps_its_certificates(nodes: Nodes) -> None:
    trust_nothing = ssl.create_default_context()
    trust_nothing.check_hostname, trust_nothing.verify_mode = False, ssl.CERT_NONE
    cluster = Cluster(nodes, 3, "--auto-tls", "--peer-auto-tls", tls=trust_nothing).start()
    leader = cluster.leader()
    assert leader.put("/auto", value="tls").status == 201
    member = cluster.members[0]
    client_cert = member.data_dir / "fixtures" / "client" / "cert.pem"
    assert (member.data_dir / "fixtures" / "peer" / "key.pem").exists()
    trusting = ssl.create_default_context(cafile=str(client_cert))  # the self-signed leaf as a root
    with socket.create_connection(("127.0.0.1", member.port)) as raw:
        with trusting.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
    pem = client_cert.read_bytes()
    member.kill()
    member.restart()
    assert client_cert.read_bytes() == pem  # reused, as etcd reuses its fixtures
    wait_for(lambda: member.get("/auto").status == 200, 10.0, "the restarted member serving",
             cluster.describe)
    assert not cluster.error_lines(), cluster.error_lines()


def test_tls_versions_below_1_2_are_refused(nodes: Nodes, pki: Pki) -> None:
    node = nodes.start("n1", *pki.server_flags(client_cert_auth=False), tls=pki.context())

    def handshake(version: ssl.TLSVersion) -> str:
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.load_verify_locations(pki.ca)
        client.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1 at all
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            client.minimum_version, client.maximum_version = ssl.TLSVersion.TLSv1, version
        with socket.create_connection(("127.0.0.1", node.port), timeout=5) as raw:
            try:
                with client.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                    return tls.version() or ""
            except ssl.SSLError as exc:
                return exc.reason or str(exc)

    assert handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert handshake(ssl.TLSVersion.TLSv1_1) == "TLSV1_ALERT_PROTOCOL_VERSION"  # the server's refusal
    assert node.get("/").status == 200
