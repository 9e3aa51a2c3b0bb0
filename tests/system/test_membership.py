"""Runtime membership with real processes: add (catch up by snapshot, then vote), remove a
follower, remove the leader, standbys under activeSize, removeDelay, and /_etcd/machines
kept equal to /v2/members throughout. Each test is a few seconds of real cluster time."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
from urllib.parse import quote_plus

import pytest

from .cluster_harness import ELECTION_MS, HEARTBEAT_MS, Cluster, wait_for
from .conftest import EXIT_TIMEOUT, Node, Nodes, free_port


def call(url: str, method: str = "GET", body: object = None, timeout: float = 10.0) -> tuple[int, bytes]:
    """One request to any URL (client or peer port); JSON body when given."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body) if not isinstance(body, str) else body
            headers["Content-Type"] = "application/json"
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), body=data,
                     headers=headers)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def client_url(member: Node) -> str:
    return f"http://127.0.0.1:{member.port}"


def members_of(member: Node) -> list[dict]:
    status, body = call(client_url(member) + "/v2/members")
    assert status == 200, body
    return json.loads(body)["members"]


def machines_of(member: Node) -> dict[str, str]:
    """/_etcd/machines as {name: value} (a local read on `member`)."""
    reply = member.get("/_etcd/machines", "recursive=true")
    if reply.status == 404:
        return {}
    nodes = reply.json()["node"].get("nodes", [])
    return {n["key"].rsplit("/", 1)[1]: n["value"] for n in nodes}


def expected_machines(members: list[dict]) -> dict[str, str]:
    return {m["name"]: f"etcd={quote_plus(m['clientURLs'][0], safe='')}&raft={quote_plus(m['peerURLs'][0], safe='')}"
            for m in members if m["name"]}


def machines_match(live: list[Node]) -> bool:
    """Every live member lists the same members, and /_etcd/machines mirrors them."""
    try:
        views = [(members_of(m), machines_of(m)) for m in live]
    except (OSError, http.client.HTTPException, ValueError, KeyError):
        return False
    first = sorted(views[0][0], key=lambda m: m["id"])
    return all(sorted(ms, key=lambda m: m["id"]) == first and mach == expected_machines(first)
               for ms, mach in views)


def joiner(nodes: Nodes, cluster: Cluster, name: str, *extra: str) -> tuple[Node, str]:
    """A node handle for a new member, not started; returns it and its peer URL."""
    peer = f"http://127.0.0.1:{free_port()}"
    initial = ",".join(f"{n}={u}" for n, u in cluster.peer_urls.items()) + f",{name}={peer}"
    node = nodes.node(name, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                      "--initial-cluster", initial, "--initial-cluster-state", "existing",
                      "--heartbeat-interval", str(HEARTBEAT_MS), "--election-timeout", str(ELECTION_MS),
                      *extra)
    return node, peer


def add(member: Node, peer: str) -> dict:
    status, body = call(client_url(member) + "/v2/members", "POST", {"peerURLs": [peer]})
    assert status == 201, body
    return json.loads(body)


def remove(member: Node, member_id: str) -> None:
    status, body = call(client_url(member) + f"/v2/members/{member_id}", "DELETE")
    assert status == 204, body


def id_of(cluster: Cluster, member: Node) -> str:
    stats = cluster.self_stats(member)
    assert stats is not None
    return stats["id"]


def live_writes(member: Node, prefix: str, count: int) -> None:
    for i in range(count):
        assert member.put(f"{prefix}/{i}", value=str(i)).status in (200, 201)


@pytest.fixture
def cluster(nodes: Nodes) -> Cluster:
    c = Cluster(nodes, 3).start()
    c.published()
    wait_for(lambda: machines_match(c.running()), 10, "machines keys mirror members", c.describe)
    return c


def test_added_member_catches_up_by_snapshot_and_votes(nodes: Nodes, cluster: Cluster) -> None:
    leader = cluster.leader()
    live_writes(leader, "/before", 30)
    new, peer = joiner(nodes, cluster, "node4")
    follower = cluster.followers(leader)[0]
    added = add(follower, peer)  # through a follower: forwarded to the leader by Raft
    assert added["peerURLs"] == [peer] and added["name"] == "" and added["clientURLs"] == []
    assert any(m["id"] == added["id"] and m["name"] == "" for m in members_of(leader))
    new.start()
    cluster.members.append(new)
    wait_for(lambda: machines_match(cluster.running()), 15, "node4 published everywhere", cluster.describe)
    assert cluster.tree(new, "/before") == cluster.tree(leader, "/before")
    assert new.log_lines(event="snapshot_installed"), "caught up by snapshot"
    # 4 voters need 3 acks: with one original member down, every write needs node4's vote.
    victim = cluster.followers(cluster.leader())[0] if cluster.followers(cluster.leader())[0] is not new \
        else cluster.followers(cluster.leader())[1]
    victim.kill()
    live = [m for m in cluster.running()]
    writer = cluster.leader(members=live)
    live_writes(writer, "/after", 10)
    assert cluster.tree(new, "/after") is not None


def test_removed_follower_stops_and_the_cluster_keeps_serving(cluster: Cluster) -> None:
    leader = cluster.leader()
    victim = cluster.followers(leader)[0]
    remove(leader, id_of(cluster, victim))
    assert victim.wait_exit(EXIT_TIMEOUT) == 0
    assert "removed from the cluster" in victim.log()
    live = cluster.running()
    assert len(members_of(leader)) == 2
    wait_for(lambda: machines_match(live), 10, "machines keys follow the removal", cluster.describe)
    live_writes(leader, "/still", 5)
    status, body = call(client_url(leader) + f"/v2/members/{id_of(cluster, leader)}0", "DELETE")
    assert status == 404, body


@pytest.mark.parametrize("asked", ["follower", "leader"])
def test_removing_the_leader_hands_over_first(cluster: Cluster, asked: str) -> None:
    leader = cluster.leader()
    follower = cluster.followers(leader)[0]
    remove(follower if asked == "follower" else leader, id_of(cluster, leader))
    assert leader.wait_exit(EXIT_TIMEOUT) == 0
    live = cluster.running()
    new_leader = cluster.leader(timeout=5, members=live)
    assert leader.log_lines(event="raft.hand_over"), \
        "the removed leader handed over instead of leaving an election timeout behind"
    # and its TIMEOUT_NOW reached the successor, which had applied the removal itself
    assert new_leader.log_lines(event="raft.timeout_now"), "the successor was not told to campaign"
    live_writes(new_leader, "/next", 5)
    wait_for(lambda: machines_match(live), 10, "machines keys follow the leader's removal", cluster.describe)


def test_standby_is_promoted_when_a_voter_leaves(nodes: Nodes, cluster: Cluster) -> None:
    leader = cluster.leader()
    peer_port = urllib.parse.urlsplit(cluster.peer_urls[leader.name]).port
    admin = f"http://127.0.0.1:{peer_port}/v2/admin"
    status, body = call(admin + "/config", "PUT", '{"activeSize":3}')
    assert status == 200 and json.loads(body)["activeSize"] == 3, body
    new, peer = joiner(nodes, cluster, "node4")
    add(leader, peer)
    new.start()
    cluster.members.append(new)

    def states() -> dict[str, str]:
        status, body = call(admin + "/machines")
        return {m["name"]: m["state"] for m in json.loads(body)} if status == 200 else {}

    wait_for(lambda: states().get("node4") == "standby", 15, "node4 is a standby", cluster.describe)
    victim = cluster.followers(leader)[0] if cluster.followers(leader)[0] is not new else cluster.followers(leader)[1]
    remove(leader, id_of(cluster, victim))
    victim.wait_exit(EXIT_TIMEOUT)
    wait_for(lambda: states().get("node4") == "follower", 15, "node4 promoted", cluster.describe)
    wait_for(lambda: machines_match(cluster.running()), 10, "machines mirror members", cluster.describe)


def test_a_silent_member_is_removed_after_remove_delay(cluster: Cluster) -> None:
    leader = cluster.leader()
    peer_port = urllib.parse.urlsplit(cluster.peer_urls[leader.name]).port
    status, body = call(f"http://127.0.0.1:{peer_port}/v2/admin/config", "PUT", '{"removeDelay":2}')
    assert status == 200, body
    victim = cluster.followers(leader)[0]
    victim_id = id_of(cluster, victim)
    victim.kill()
    wait_for(lambda: all(m["id"] != victim_id for m in members_of(leader)), 15,
             "the silent member removed", cluster.describe)
    assert leader.log_lines(event="membership.auto_remove")


def test_the_tutorials_cluster_commands(cluster: Cluster) -> None:
    """The tutorial's /_etcd and peer-port admin commands, addresses aside."""
    leader = cluster.leader()
    wait_for(lambda: len(machines_of(leader)) == 3 and leader.get("/_etcd/config").status == 200, 10,
             "machines keys and /_etcd/config written", cluster.describe)
    ctl = shutil.which("etcdctl")
    argv = [ctl] if ctl else [sys.executable, "-m", "trionode.ctl"]
    env = {**os.environ, "ETCDCTL_API": "2"}

    def etcdctl(*args: str) -> str:
        done = subprocess.run([*argv, "--endpoints", client_url(leader), *args], env=env,
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stderr
        return done.stdout

    names = sorted(cluster.peer_urls)
    assert sorted(etcdctl("ls", "/_etcd/machines", "--recursive").split()) == [f"/_etcd/machines/{n}" for n in names]
    member = members_of(leader)[0]
    assert etcdctl("get", f"/_etcd/machines/{member['name']}").strip() == expected_machines([member])[member["name"]]
    listed = etcdctl("ls", "--recursive", "/_etcd").split()
    assert sorted(listed) == sorted(["/_etcd/machines", "/_etcd/config",
                                     *[f"/_etcd/machines/{n}" for n in names]])
    assert "/_etcd" not in etcdctl("ls", "/").split()  # hidden from the ordinary listing

    peer = cluster.peer_urls[cluster.followers(leader)[0].name]
    default = b'{"activeSize":9,"removeDelay":1800,"syncInterval":5}'
    assert call(peer + "/v2/admin/config") == (200, default + b"\n")
    assert call(peer + "/v2/admin/config", "PUT", default.decode()) == (200, default + b"\n")
    status, body = call(peer + "/v2/admin/machines")
    machines = json.loads(body)
    assert status == 200 and [m["name"] for m in machines] == names
    assert sorted(m["state"] for m in machines) == ["follower", "follower", "leader"]
    by_name = {m["name"]: m for m in members_of(leader)}
    for m in machines:
        assert m["clientURL"] == by_name[m["name"]]["clientURLs"][0]
        assert m["peerURL"] == by_name[m["name"]]["peerURLs"][0]
    status, body = call(client_url(leader) + "/v2/leader")
    assert status == 200 and body.decode().strip() == cluster.peer_urls[leader.name]


def test_trionodectl_member_add_then_start_with_what_it_printed(nodes: Nodes, cluster: Cluster) -> None:
    """etcdctl's workflow: `member add` prints the new member's ETCD_* settings; a node started
    with them joins; `member list` shows it; `member remove` takes it out again."""
    leader = cluster.leader()
    peer = f"http://127.0.0.1:{free_port()}"

    def ctl(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "trionode.ctl", "--endpoints", client_url(leader), *args],
                              capture_output=True, text=True, timeout=20)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    printed = ctl("member", "add", "node4", peer)
    settings = dict(line.split("=", 1) for line in printed.splitlines() if line.startswith("ETCD_"))
    settings = {k: v.strip('"') for k, v in settings.items()}
    assert settings["ETCD_NAME"] == "node4" and settings["ETCD_INITIAL_CLUSTER_STATE"] == "existing"
    new = nodes.node("node4", "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                     "--initial-cluster", settings["ETCD_INITIAL_CLUSTER"],
                     "--initial-cluster-state", settings["ETCD_INITIAL_CLUSTER_STATE"],
                     "--heartbeat-interval", str(HEARTBEAT_MS), "--election-timeout", str(ELECTION_MS))
    new.start()
    cluster.members.append(new)
    wait_for(lambda: "name=node4" in ctl("member", "list"), 10, "node4 listed by name", cluster.describe)
    new_id = id_of(cluster, new)
    assert printed.startswith(f"Added member named node4 with ID {new_id} to cluster")
    assert ctl("member", "remove", new_id).strip() == f"Removed member {new_id} from cluster"
    assert new.wait_exit(EXIT_TIMEOUT) == 0
    wait_for(lambda: machines_match(cluster.running()), 10, "machines mirror members", cluster.describe)


def test_a_joined_member_restarts_and_a_removed_one_refuses_to(nodes: Nodes, cluster: Cluster) -> None:
    leader = cluster.leader()
    new, peer = joiner(nodes, cluster, "node4")
    add(leader, peer)
    new.start()
    cluster.members.append(new)
    live_writes(leader, "/x", 5)
    new.kill()
    new.start()  # same flags, its data dir now holds the snapshot: a plain restart
    wait_for(lambda: cluster.tree(new, "/x") == cluster.tree(leader, "/x"), 10, "caught up again",
             cluster.describe)
    # 0.4's forceful removal by name on the peer port
    admin = cluster.peer_urls[leader.name] + "/v2/admin/machines/node4"
    status, body = call(admin, "DELETE")
    assert status == 200 and len(body) == 8, body
    assert new.wait_exit(EXIT_TIMEOUT) == 0
    assert call(admin) == (200, b"null\n")
    proc = new.spawn()  # its log ends with its removal: it stops again, never serving
    assert proc.wait(EXIT_TIMEOUT) == 0
    assert "removed from the cluster" in new.log() and not new.log_lines(event="ready")


def test_lowering_active_size_turns_a_follower_into_a_standby(nodes: Nodes, cluster: Cluster) -> None:
    leader = cluster.leader()
    new, peer = joiner(nodes, cluster, "node4")
    add(leader, peer)  # activeSize 9: a fourth voter
    new.start()
    cluster.members.append(new)
    admin = cluster.peer_urls[leader.name] + "/v2/admin"

    def states() -> list[str]:
        status, body = call(admin + "/machines")
        return sorted(m["state"] for m in json.loads(body)) if status == 200 else []

    wait_for(lambda: states() == ["follower"] * 3 + ["leader"], 10, "four voters", cluster.describe)
    assert call(admin + "/config", "PUT", '{"activeSize":3}')[0] == 200
    wait_for(lambda: states() == ["follower", "follower", "leader", "standby"], 10, "one standby",
             cluster.describe)
    live_writes(leader, "/three-voters", 3)


def test_a_member_moves_to_a_new_peer_url(nodes: Nodes, cluster: Cluster) -> None:
    """PUT /v2/members/<id>: the others dial the new address; the member restarts on it."""
    leader = cluster.leader()
    mover = cluster.followers(leader)[0]
    mover_id = id_of(cluster, mover)
    new_peer = f"http://127.0.0.1:{free_port()}"
    status, body = call(client_url(leader) + f"/v2/members/{mover_id}", "PUT", {"peerURLs": [new_peer]})
    assert status == 204, body
    assert mover.terminate() == 0
    moved = nodes.node(mover.name, "--listen-peer-urls", new_peer, "--initial-advertise-peer-urls", new_peer,
                       "--initial-cluster", f"{mover.name}={new_peer}", "--initial-cluster-token", cluster.token,
                       "--heartbeat-interval", str(HEARTBEAT_MS), "--election-timeout", str(ELECTION_MS),
                       data_dir=mover.data_dir)
    cluster.members[cluster.members.index(mover)] = moved
    moved.start()
    live_writes(leader, "/moved", 5)
    wait_for(lambda: cluster.tree(moved, "/moved") == cluster.tree(leader, "/moved"), 10,
             "the moved member follows the log at its new address", cluster.describe)
    assert [m["peerURLs"] for m in members_of(moved) if m["id"] == mover_id] == [[new_peer]]
    wait_for(lambda: machines_match(cluster.running()), 10, "machines mirror the new URL", cluster.describe)
    status, body = call(client_url(leader) + f"/v2/members/{mover_id}", "PUT",
                        {"peerURLs": [cluster.peer_urls[leader.name]]})
    assert (status, json.loads(body)) == (409, {"message": "membership: peerURL exists"})


def test_peers_flag_adds_itself_as_in_0_4(nodes: Nodes, cluster: Cluster) -> None:
    """etcd 0.4's `-peers`: a fresh member asks to be added, then joins; no `member add` first."""
    leader = cluster.leader()
    peer = f"http://127.0.0.1:{free_port()}"
    asked = urllib.parse.urlsplit(cluster.peer_urls[leader.name]).netloc
    new = nodes.node("node4", "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                     "--initial-cluster", f"node4={peer}", "-peers", asked,
                     "--heartbeat-interval", str(HEARTBEAT_MS), "--election-timeout", str(ELECTION_MS))
    new.start()
    cluster.members.append(new)
    assert new.log_lines(event="join.added")
    wait_for(lambda: machines_match(cluster.running()), 10, "node4 is a member everywhere", cluster.describe)
    assert sorted(m["name"] for m in members_of(leader)) == ["node1", "node2", "node3", "node4"]


def test_a_member_removed_while_down_learns_it_and_stops(cluster: Cluster) -> None:
    """Nobody talks to a removed member, so one that was down when it was removed asks."""
    leader = cluster.leader()
    victim = cluster.followers(leader)[0]
    victim_id = id_of(cluster, victim)
    victim.kill()
    remove(leader, victim_id)
    proc = victim.spawn()
    assert proc.wait(10 * ELECTION_MS / 1000 + EXIT_TIMEOUT) == 0
    assert victim.log_lines(event="member_removed") and not victim.log_lines(event="ready")


def test_concurrent_changes_are_answered_at_once(cluster: Cluster) -> None:
    """Raft takes one membership change at a time; one that comes while another is being
    applied is refused with a clear error right away, not after a request timeout."""
    leader = cluster.leader()
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(4)]
    with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:
        started = time.monotonic()
        replies = list(pool.map(lambda url: call(client_url(leader) + "/v2/members", "POST",
                                                 {"peerURLs": [url]}), urls))
        took = time.monotonic() - started
    statuses = sorted(status for status, _ in replies)
    assert statuses[0] == 201 and set(statuses) <= {201, 500}, replies
    for status, body in replies:
        if status == 500:
            assert b"another membership change is still being applied; try again" in body
    assert took < 3, f"{took:.1f}s: a refused change waited for the request timeout"
    added = [json.loads(body)["id"] for status, body in replies if status == 201]
    listed = {m["id"] for m in members_of(leader)}
    assert set(added) <= listed and len(listed) == 3 + len(added)
