"""A real 3-member cluster on loopback: replication, failover, catch-up, crash of all members,
the real etcdctl, graceful leader hand-over.

Each test starts its own cluster (fresh data dirs, fresh ports) through cluster_harness
with 50 ms heartbeats and a 500 ms election timeout, so an election takes well under a
second. Every wait has a deadline; a timed-out wait prints each member's state and log tail.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from .cluster_harness import ELECTION_MS, Cluster, Writer, raft_headers, wait_for
from .conftest import Node

pytestmark = pytest.mark.system

ELECTION_S = ELECTION_MS / 1000
#: A new leader must serve writes within this many election timeouts of the old one's crash.
FAILOVER_ELECTIONS = 6
WRITERS_PER_MEMBER = 2
LOAD_SECONDS = 1.0
ETCDCTL = shutil.which("etcdctl")


def leaf_values(tree: dict) -> dict[str, tuple[str, int]]:
    """key -> (value, modifiedIndex) for every key under a recursive listing's node."""
    found: dict[str, tuple[str, int]] = {}
    pending = [tree["node"]]
    while pending:
        node = pending.pop()
        if node.get("dir"):
            pending.extend(node.get("nodes", []))
        else:
            found[node["key"]] = (node["value"], node["modifiedIndex"])
    return found


def shows(member: Node, key: str, value: str, index: int) -> bool:
    """Whether a plain (local) GET of `key` on `member` gives `value` at `index`."""
    reply = member.get(key)
    return reply.status == 200 and (reply.json()["node"]["value"], reply.json()["node"]["modifiedIndex"]) == (
        value, index)


def test_follower_write_is_read_with_quorum_from_the_other_follower(nodes):
    cluster = Cluster(nodes).start()
    leader = cluster.leader()
    states = sorted(cluster.self_stats(m)["state"] for m in cluster.members)
    assert states == ["StateFollower", "StateFollower", "StateLeader"], cluster.describe()
    writer, reader = cluster.followers(leader)

    written = writer.put("/t/k", value="from-a-follower")
    assert written.status == 201, written
    index = written.json()["node"]["modifiedIndex"]
    # The follower answers once it applied the entry itself: a local read there sees it at once.
    assert shows(writer, "/t/k", "from-a-follower", index), writer.get("/t/k")
    read = reader.get("/t/k", "quorum=true")
    assert read.status == 200, read
    assert (read.json()["node"]["value"], read.json()["node"]["modifiedIndex"]) == ("from-a-follower", index)
    for member in cluster.members:
        wait_for(lambda: shows(member, "/t/k", "from-a-follower", index), 5.0,
                 f"plain GET /t/k on {member.name} shows the write at {index}", cluster.describe)

    # /v2/stats/leader: etcd 3.4 refuses it on followers and lists the followers on the leader.
    for follower in (writer, reader):
        refused = follower.request("GET", "/v2/stats/leader")
        assert (refused.status, refused.json()) == (403, {"message": "not current leader"}), refused
    follower_ids = {cluster.ids[writer.name], cluster.ids[reader.name]}

    def leader_stats() -> dict | None:
        stats = leader.request("GET", "/v2/stats/leader").json()
        counts = [f["counts"] for f in stats["followers"].values()]
        return stats if all(c["success"] > 0 for c in counts) else None
    stats = wait_for(leader_stats, 5.0, "the leader counts heartbeat successes for both followers",
                     cluster.describe)
    assert stats["leader"] == cluster.ids[leader.name]
    assert set(stats["followers"]) == follower_ids
    for follower in stats["followers"].values():
        assert isinstance(follower["counts"]["fail"], int) and follower["latency"]["maximum"] >= 0

    cluster.published()
    for member in cluster.members:
        assert {m["id"] for m in cluster.member_list(member)} == set(cluster.ids.values())
    terms = {raft_headers(member.get("/t/k"))[0] for member in cluster.members}
    assert len(terms) == 1, terms
    assert not cluster.error_lines(), cluster.error_lines()


def test_kill_9_of_the_leader_fails_over_and_the_node_catches_up(nodes):
    cluster = Cluster(nodes).start()
    old = cluster.leader()
    survivors = cluster.followers(old)
    seen: dict[str, list[tuple[int, int]]] = {m.name: [] for m in cluster.members}

    def observe(member: Node, key: str = "/f/before") -> None:
        reply = member.get(key)
        assert reply.status in (200, 404), reply
        seen[member.name].append(raft_headers(reply))

    before = old.put("/f/before", value="0")
    assert before.status == 201, before
    before_index = before.json()["node"]["modifiedIndex"]
    for member in survivors:
        wait_for(lambda: shows(member, "/f/before", "0", before_index), 5.0,
                 f"{member.name} applied /f/before", cluster.describe)
    for member in cluster.members:
        observe(member)
    old_term = max(term for term, _ in seen[old.name])
    old_index = max(index for _, index in seen[old.name])

    killed_at = time.monotonic()
    old.kill()

    def new_leader() -> Node | None:
        for member in survivors:
            observe(member)
        return cluster.agreed_leader(survivors)
    new = wait_for(new_leader, FAILOVER_ELECTIONS * ELECTION_S, "a new leader among the survivors",
                   cluster.describe)
    elected_after = time.monotonic() - killed_at
    first = new.put("/f/after/0", value="0")
    served_after = time.monotonic() - killed_at
    assert first.status == 201, first
    print(f"\nkill -9 of the leader: new leader {new.name} seen after {elected_after * 1000:.0f} ms, "
          f"first write acknowledged after {served_after * 1000:.0f} ms "
          f"(election timeout {ELECTION_MS} ms)")
    assert served_after < FAILOVER_ELECTIONS * ELECTION_S, cluster.describe()

    # Writes while the old leader is down, on both survivors (the follower forwards).
    acked = {"/f/after/0": ("0", first.json()["node"]["modifiedIndex"])}
    for n in range(1, 21):
        reply = survivors[n % 2].put(f"/f/after/{n}", value=str(n))
        assert reply.status == 201, reply
        acked[f"/f/after/{n}"] = (str(n), reply.json()["node"]["modifiedIndex"])
        seen[survivors[n % 2].name].append(raft_headers(reply))
    for member in survivors:
        observe(member)
    follower = next(m for m in survivors if m is not new)
    latest = follower.get("/f/after/20", "quorum=true")
    assert latest.status == 200 and latest.json()["node"]["modifiedIndex"] == acked["/f/after/20"][1], latest
    new_term = max(term for term, _ in seen[new.name])
    assert new_term > old_term, seen
    for member in survivors:  # one incarnation each: term and index never go back
        assert seen[member.name] == sorted(seen[member.name]), (member.name, seen[member.name])
        assert [i for _, i in seen[member.name]] == sorted(i for _, i in seen[member.name]), seen[member.name]

    old.restart()
    # Healthy means serving: never an older state than the member served before its crash.
    assert shows(old, "/f/before", "0", before_index), (old.get("/f/before"), old.log())

    def caught_up() -> bool:
        tree = cluster.tree(old, "/f/after")
        return tree is not None and leaf_values(tree) == acked
    wait_for(caught_up, 10.0, f"the restarted {old.name} shows every write made while it was down",
             cluster.describe)
    observe(old)
    term, index = seen[old.name][-1]
    assert term >= new_term and index > old_index, seen[old.name]
    assert cluster.leader() in survivors  # the restarted member does not disrupt the new leader
    assert not cluster.error_lines(), cluster.error_lines()


def test_follower_catches_up_from_a_snapshot_after_compaction(nodes):
    cluster = Cluster(nodes, 3, "--snapshot-count", "50").start()
    leader = cluster.leader()
    lagging, other = cluster.followers(leader)
    assert leader.put("/s/ttl", value="t", ttl=600).status == 201
    lagging.kill()

    for n in range(300):
        member = other if n % 10 == 0 else leader
        reply = member.put(f"/s/k{n:03}", value=f"v{n}")
        assert reply.status == 201, reply
    assert leader.log_lines(event="snapshot_saved"), f"the leader never compacted its log:\n{cluster.describe()}"

    lagging.restart()

    def converged() -> bool:
        trees = [cluster.tree(m) for m in cluster.members]
        return trees[0] is not None and all(t == trees[0] for t in trees)
    wait_for(converged, 10.0, "recursive sorted GET / equal on all members", cluster.describe)
    assert len(leaf_values(cluster.tree(lagging))) == 301
    assert lagging.log_lines(event="snapshot_installed"), (
        f"{lagging.name} caught up without a snapshot install:\n{lagging.log()}")
    assert not cluster.error_lines(), cluster.error_lines()


def test_all_members_killed_during_writes_lose_no_acknowledged_write(nodes):
    cluster = Cluster(nodes).start()
    cluster.leader()
    stop = threading.Event()
    writers = [Writer(f"/w/{member.name}-{i}", member.port, stop)
               for member in cluster.members for i in range(WRITERS_PER_MEMBER)]
    for writer in writers:
        writer.start()
    time.sleep(LOAD_SECONDS)
    cluster.kill_all()
    stop.set()
    for writer in writers:
        writer.join(15)
        assert not writer.is_alive(), f"{writer.name} still running"
    acked = {key: ack for writer in writers for key, ack in writer.acked.items()}
    unexpected = [line for writer in writers for line in writer.unexpected]
    assert acked, "no write was acknowledged before the crash"

    cluster.start()
    cluster.leader()

    def complete(member: Node) -> bool:
        tree = cluster.tree(member, "/w")
        if tree is None:
            return False
        values = leaf_values(tree)
        return all(values.get(key) == ack for key, ack in acked.items())
    for member in cluster.members:
        wait_for(lambda: complete(member), 10.0, f"every acknowledged write on {member.name}",
                 cluster.describe)
    wait_for(lambda: len({repr(cluster.tree(m, "/w")) for m in cluster.members}) == 1, 10.0,
             "the same /w tree on every member", cluster.describe)
    print(f"\nall 3 members killed under load: {len(acked)} acknowledged writes by {len(writers)} "
          f"writers, all present on every member after restart; {len(unexpected)} refused")
    assert not unexpected, unexpected[:10]
    assert not cluster.error_lines(), cluster.error_lines()


@pytest.mark.requires_tool("etcdctl", "the real etcdctl is run against every member")
def test_etcdctl_v2_works_against_every_member(nodes):
    cluster = Cluster(nodes).start()
    leader = cluster.leader()
    cluster.published()  # etcdctl syncs its endpoints from /v2/members' client URLs
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")} | {"ETCDCTL_API": "2"}

    for n, member in enumerate(cluster.members):
        def ctl(*args: str) -> subprocess.CompletedProcess:
            done = subprocess.run([ETCDCTL, "--endpoints", f"http://127.0.0.1:{member.port}", *args],
                                  env=env, capture_output=True, text=True, timeout=20)
            assert done.returncode == 0, (member.name, args, done.returncode, done.stdout, done.stderr)
            return done
        value = f"v{n}"
        assert ctl("set", "/e/k", value).stdout.strip() == value
        assert ctl("get", "/e/k").stdout.strip() == value
        assert ctl("ls", "/e").stdout.split() == ["/e/k"]
        listed = ctl("member", "list").stdout.splitlines()
        assert len(listed) == 3, listed
        assert sorted(line.split("name=")[1].split()[0] for line in listed) == ["node1", "node2", "node3"]
        leaders = [line for line in listed if "isLeader=true" in line.split()]
        assert len(leaders) == 1 and leaders[0].startswith(f"{cluster.ids[leader.name]}:"), listed
        health = ctl("cluster-health").stdout
        assert "cluster is healthy" in health and health.count("is healthy: got healthy result") == 3, health


def test_sigterm_of_the_leader_hands_leadership_over(nodes):
    cluster = Cluster(nodes).start()
    old = cluster.leader()
    survivors = cluster.followers(old)
    reply = old.put("/g/k", value="before")
    assert reply.status == 201, reply
    old_term = raft_headers(reply)[0]

    old.close_client()
    signalled_at = time.monotonic()
    os.kill(old.pid, signal.SIGTERM)
    new = wait_for(lambda: cluster.agreed_leader(survivors), 4 * ELECTION_S,
                   "a new leader among the survivors", cluster.describe, interval=0.002)
    handed_over = time.monotonic() - signalled_at
    code = old.wait_exit()
    print(f"\nSIGTERM of the leader: {new.name} leads after {handed_over * 1000:.0f} ms "
          f"(election timeout {ELECTION_MS} ms); old leader exited {code}")
    assert code == 0, old.log()
    assert old.log_lines(event="leader_transfer"), old.log()
    assert handed_over < ELECTION_S, f"no hand-over: an election took {handed_over:.3f}s\n{cluster.describe()}"

    after = new.put("/g/k", value="after")
    assert after.status == 200, after
    assert raft_headers(after)[0] > old_term
    assert not cluster.error_lines(), cluster.error_lines()
