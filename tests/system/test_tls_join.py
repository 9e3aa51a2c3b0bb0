"""Growing a TLS cluster and forming one by https discovery, with real processes.

* member add, then a member started with --initial-cluster-state existing: it asks a peer
  for the member list over https and catches up by snapshot over TLS;
* etcd 0.4's -peers: the member adds itself through the https client URLs, presenting its
  peer certificate;
* a member add with a plain-http peer URL is refused (one scheme per cluster);
* https discovery through our discovery service on an https client URL, and through etcd 3.4
  started with --cert-file/--key-file; members trust the CA through SSL_CERT_FILE, as any
  Python or Go client does.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.parse
import urllib.request

import pytest
from pki import Pki

from .cluster_harness import ELECTION_MS, HEARTBEAT_MS, Cluster, wait_for
from .conftest import READY_TIMEOUT, Node, Nodes, free_port

pytestmark = pytest.mark.system
needs_etcd = pytest.mark.requires_tool("etcd", "etcd 3.4 is the https discovery server")
TIMING = ["--heartbeat-interval", str(HEARTBEAT_MS), "--election-timeout", str(ELECTION_MS)]


@pytest.fixture
def pki(nodes: Nodes) -> Pki:
    return Pki(nodes.root / "pki")


def member_names(member: Node) -> list[str]:
    return sorted(m["name"] for m in member.request("GET", "/v2/members").json()["members"])


def post_member(member: Node, peer_url: str) -> tuple[int, dict]:
    member.close_client()
    conn = member.connect()
    try:
        conn.request("POST", "/v2/members", body=json.dumps({"peerURLs": [peer_url]}),
                     headers={"Content-Type": "application/json"})
        reply = conn.getresponse()
        return reply.status, json.loads(reply.read() or b"{}")
    finally:
        conn.close()


def test_a_member_added_to_a_tls_cluster_joins_and_catches_up_by_snapshot(nodes: Nodes, pki: Pki) -> None:
    cluster = Cluster(nodes, 3, "--snapshot-count", "20", *pki.server_flags(), tls=pki.context()).start()
    leader = cluster.leader()
    for n in range(50):
        assert leader.put(f"/before/{n}", value=str(n)).status == 201
    refused, body = post_member(leader, f"http://127.0.0.1:{free_port()}")
    assert refused == 400 and "mixed http and https peer URLs" in body["message"], body

    peer = f"https://127.0.0.1:{free_port()}"
    status, added = post_member(leader, peer)
    assert status == 201, added
    initial = ",".join(f"{n}={u}" for n, u in cluster.peer_urls.items()) + f",node4={peer}"
    new = nodes.node("node4", "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                     "--initial-cluster", initial, "--initial-cluster-state", "existing",
                     *TIMING, *pki.server_flags(), tls=pki.context())
    new.start()
    cluster.members.append(new)
    wait_for(lambda: new.get("/before/49").status == 200, 15, "node4 caught up", cluster.describe)
    assert new.log_lines(event="snapshot_installed"), new.log()
    assert member_names(leader) == ["node1", "node2", "node3", "node4"]
    assert not cluster.error_lines(), cluster.error_lines()


def test_04_peers_flag_adds_itself_over_tls(nodes: Nodes, pki: Pki) -> None:
    cluster = Cluster(nodes, 3, *pki.server_flags(), tls=pki.context()).start()
    cluster.published()
    leader = cluster.leader()
    peer = f"https://127.0.0.1:{free_port()}"
    asked = urllib.parse.urlsplit(cluster.peer_urls[leader.name]).netloc
    new = nodes.node("node4", "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                     "--initial-cluster", f"node4={peer}", "-peers", asked, *TIMING, *pki.server_flags(),
                     tls=pki.context())
    new.start()
    cluster.members.append(new)
    assert new.log_lines(event="join.added"), new.log()
    wait_for(lambda: member_names(leader) == ["node1", "node2", "node3", "node4"], 10,
             "node4 published", cluster.describe)


def new_token(service: Node, size: int) -> str:
    reply = service.request("GET", f"/new?size={size}")
    assert reply.status == 200, reply
    url = reply.body.decode()
    assert url.startswith(f"https://127.0.0.1:{service.port}/"), url
    return url


def discovering(nodes: Nodes, pki: Pki, name: str, url: str) -> Node:
    peer = f"https://127.0.0.1:{free_port()}"
    return nodes.node(name, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                      "--discovery", url, *TIMING, *pki.server_flags(), tls=pki.context(),
                      env={"SSL_CERT_FILE": pki.ca})


def form_by_discovery(nodes: Nodes, pki: Pki, url: str) -> list[Node]:
    members = [discovering(nodes, pki, f"d{i}", url) for i in range(3)]
    for member in members:
        member.spawn()
    for member in members:
        member.wait_ready(2 * READY_TIMEOUT)
    wait_for(lambda: all(member_names(m) == ["d0", "d1", "d2"] for m in members), 10,
             "one 3-member cluster", lambda: "\n".join(m.log() for m in members))
    return members


def test_https_discovery_through_our_service(nodes: Nodes, pki: Pki) -> None:
    service = nodes.start("svc", "--enable-discovery-service", *pki.server_flags(client_cert_auth=False),
                          tls=pki.context())
    url = new_token(service, 3)
    members = form_by_discovery(nodes, pki, url)
    assert members[0].put("/formed", value="by https discovery").status == 201


def test_https_discovery_needs_a_trusted_server(nodes: Nodes, pki: Pki) -> None:
    service = nodes.start("svc", "--enable-discovery-service", *pki.server_flags(client_cert_auth=False),
                          tls=pki.context())
    url = new_token(service, 1)
    member = discovering(nodes, pki, "d0", url)
    member.env = None  # no SSL_CERT_FILE: our CA is unknown to the system store
    member.spawn()
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and "certificate" not in member.log():
        time.sleep(0.1)
    assert "certificate verify failed" in member.log() or "unknown authority" in member.log(), member.log()


@needs_etcd
def test_https_discovery_through_etcd_34(nodes: Nodes, pki: Pki) -> None:
    client, peer = (f"{scheme}://127.0.0.1:{free_port()}" for scheme in ("https", "http"))
    with open(nodes.root / "etcd.log", "wb") as log:
        proc = nodes.popen(["etcd", "--enable-v2", "--name", "disc", "--data-dir", str(nodes.root / "disc"),
                            "--listen-client-urls", client, "--advertise-client-urls", client,
                            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                            "--initial-cluster", f"disc={peer}", "--cert-file", pki.file("server.crt"),
                            "--key-file", pki.file("server.key")], log)
    context = ssl.create_default_context(cafile=pki.ca)
    token = f"{client}/v2/keys/discovery/tls1"
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        assert proc.poll() is None, (nodes.root / "etcd.log").read_text()
        try:
            request = urllib.request.Request(f"{token}/_config/size", b"value=3", method="PUT")
            urllib.request.urlopen(request, timeout=2, context=context).read()
            break
        except OSError:
            assert time.monotonic() < deadline, (nodes.root / "etcd.log").read_text()
            time.sleep(0.1)
    form_by_discovery(nodes, pki, token)
