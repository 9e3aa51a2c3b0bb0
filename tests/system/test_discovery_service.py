"""The discovery service of a real trionode (--enable-discovery-service) and discover() against
real servers: trionode's service, a plain etcd 3.4 directory, and etcd 3.4 using our service."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest
import structlog
import trio

from trionode.membership.discovery import FULL, DiscoveryError, discover

from .conftest import READY_TIMEOUT, Node, Nodes, free_port

pytestmark = pytest.mark.system
LOG = structlog.get_logger()
needs_etcd = pytest.mark.requires_tool("etcd", "etcd 3.4 takes part in the discovery")


def new_token(service: Node, size: int) -> str:
    reply = service.request("GET", f"/new?size={size}")
    assert reply.status == 200, reply
    url = reply.body.decode()
    assert url.startswith(f"http://127.0.0.1:{service.port}/") and len(url.rpartition("/")[2]) == 32
    return url


async def discover_all(url: str, names: list[str], first_id: int = 1) -> list:
    results: list = [None] * len(names)

    async def one(i: int) -> None:
        try:
            results[i] = await discover(url, names[i], [f"http://127.0.0.1:{7000 + i}"], LOG,
                                        member_id=first_id + i, retries=2, backoff_s=0.01)
        except DiscoveryError as exc:
            results[i] = exc

    async with trio.open_nursery() as nursery:
        for i in range(len(names)):
            nursery.start_soon(one, i)
    return results


async def test_service_token_three_members_then_full_then_duplicate(nodes: Nodes) -> None:
    service = nodes.start("svc", "--enable-discovery-service")
    url = new_token(service, 3)
    token = url.rpartition("/")[2]
    results = await discover_all(url, ["a", "b", "c"])
    assert results[0] == results[1] == results[2] and len(results[0]) == 3
    assert sorted(name for name, _ in results[0]) == ["a", "b", "c"]
    with pytest.raises(DiscoveryError, match=FULL):
        await discover(url, "d", ["http://127.0.0.1:7009"], LOG, member_id=9)
    with pytest.raises(DiscoveryError, match="duplicate id"):
        await discover(url, "a", ["http://127.0.0.1:7000"], LOG, member_id=1)
    listing = service.request("GET", f"/{token}").json()
    assert listing["node"]["key"] == f"/_etcd/registry/{token}"
    assert len(listing["node"]["nodes"]) == 3


def start_etcd(nodes: Nodes, name: str, *extra: str) -> tuple[subprocess.Popen, str, str]:
    """An etcd 3.4 process (v2 enabled) on fresh ports: (process, client URL, peer URL)."""
    client, peer = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    with open(nodes.root / f"{name}.log", "wb") as log:
        proc = nodes.popen(["etcd", "--enable-v2", "--name", name, "--data-dir", str(nodes.root / name),
                            "--listen-client-urls", client, "--advertise-client-urls", client,
                            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                            *(extra or ("--initial-cluster", f"{name}={peer}"))], log)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{client}/health", timeout=1) as reply:
                if json.load(reply)["health"] == "true":
                    return proc, client, peer
        except OSError:
            time.sleep(0.1)
    raise AssertionError((nodes.root / f"{name}.log").read_text())


@needs_etcd
async def test_discover_against_a_plain_etcd_directory(nodes: Nodes) -> None:
    _, base, _ = start_etcd(nodes, "ref")
    request = urllib.request.Request(f"{base}/v2/keys/disc/tok/_config/size", b"value=2",
                                     method="PUT")
    urllib.request.urlopen(request, timeout=5).read()
    results = await discover_all(f"{base}/v2/keys/disc/tok", ["x", "y"], first_id=0xA0)
    assert results[0] == results[1] and sorted(n for n, _ in results[0]) == ["x", "y"]
    with urllib.request.urlopen(f"{base}/v2/keys/disc/tok/a0", timeout=5) as reply:
        assert json.load(reply)["node"]["value"] == "x=http://127.0.0.1:7000"


@needs_etcd
def test_etcd_34_bootstraps_from_our_service(nodes: Nodes) -> None:
    service = nodes.start("svc", "--enable-discovery-service")
    url = new_token(service, 1)
    _, _, peer = start_etcd(nodes, "e1", "--discovery", url)
    token = url.rpartition("/")[2]
    (entry,) = service.request("GET", f"/{token}").json()["node"]["nodes"]
    assert entry["value"] == f"e1={peer}"


def spawn_discovering(nodes: Nodes, name: str, url: str) -> tuple[subprocess.Popen, str]:
    """A trionode started with nothing but its own URLs and --discovery."""
    client, peer = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    argv = [sys.executable, "-m", "trionode", "--name", name, "--data-dir",
            str(nodes.root / name), "--listen-client-urls", client, "--advertise-client-urls",
            client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--discovery", url, "--heartbeat-interval", "50", "--election-timeout", "500"]
    log = open(nodes.root / f"{name}.log", "wb")
    with log:
        return nodes.popen(argv, log), client


def members_of(client: str) -> list[str] | None:
    try:
        with urllib.request.urlopen(f"{client}/v2/members", timeout=1) as reply:
            return sorted(m["name"] for m in json.load(reply)["members"])
    except OSError:
        return None


def test_three_trionodes_form_a_cluster_by_discovery(nodes: Nodes) -> None:
    service = nodes.start("svc", "--enable-discovery-service")
    url = new_token(service, 3)
    started = [spawn_discovering(nodes, f"d{i}", url) for i in range(3)]
    deadline = time.monotonic() + 2 * READY_TIMEOUT
    while time.monotonic() < deadline:
        if all(members_of(client) == ["d0", "d1", "d2"] for _, client in started):
            break
        time.sleep(0.1)
    else:
        logs = "\n".join((nodes.root / f"d{i}.log").read_text() for i in range(3))
        raise AssertionError(f"no 3-member cluster formed:\n{logs}")
    late, _ = spawn_discovering(nodes, "d3", url)
    assert late.wait(READY_TIMEOUT) != 0
    assert FULL in (nodes.root / "d3.log").read_text()
    # A rebuilt cluster reusing the token: same names, fresh data dirs, same member ids.
    for proc, _ in started:
        proc.kill()
        proc.wait()
    for i in range(3):
        shutil.rmtree(nodes.root / f"d{i}")
    again, _ = spawn_discovering(nodes, "d0", url)
    assert again.wait(READY_TIMEOUT) != 0
    assert "duplicate id" in (nodes.root / "d0.log").read_text()
