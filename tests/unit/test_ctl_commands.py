"""trionodectl's commands over a scripted client (no server): what each prints, its exit
status, what it asks the client, and exec-watch's children and their environment."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import trio

from trionode.client import (
    ClusterError,
    EndpointError,
    EventIndexCleared,
    KeyNotFound,
    Member,
    Node,
    Response,
)
from trionode.ctl import main, session
from trionode.ctl.members import health_summary, initial_cluster, member_lines
from trionode.ctl.watch import start_error, watch_environment


class FakeClient:
    """Records calls; answers from `replies` (a Response, an exception, or a callable)."""

    replies: dict = {}
    events: list = []
    calls: list = []
    made: list = []                 # every FakeClient made, in order

    def __init__(self, endpoints, *, timeout=None, on_request=None, ssl_context=None):
        self.endpoints = tuple(endpoints)
        self.ssl_context = ssl_context
        FakeClient.made.append(self)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        return None

    def __getattr__(self, name):
        async def call(*args, **kwargs):
            FakeClient.calls.append((name, args, kwargs))
            reply = FakeClient.replies.get(name)
            if isinstance(reply, BaseException):
                raise reply
            return reply(*args) if callable(reply) else reply
        return call

    async def watch(self, key, **kwargs):
        FakeClient.calls.append(("watch", (key,), kwargs))
        for event in FakeClient.events:
            if isinstance(event, BaseException):
                raise event
            yield event
        await trio.sleep_forever()


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(session, "Client", FakeClient)
    FakeClient.replies = {"sync": ("http://127.0.0.1:2379",)}
    FakeClient.events, FakeClient.calls, FakeClient.made = [], [], []
    return FakeClient


def run(*argv: str, stdin: bytes = b"") -> tuple[str, str, int]:
    out, err = io.BytesIO(), io.BytesIO()
    code = main(list(argv), env={}, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return out.getvalue().decode(), err.getvalue().decode(), code


def event(action, key, value, index, prev=None, dir=False):
    node = Node(key, None if dir else value, dir=dir, created_index=index, modified_index=index)
    return Response(action, node, prev, index, None, None)


def calls(name):
    return [(args, kwargs) for n, args, kwargs in FakeClient.calls if n == name]


# ---------------------------------------------------------------- keys

def test_set_sends_what_etcdctl_sends(fake):
    fake.replies["set"] = event("set", "/k", "v", 4)
    assert run("set", "/k", "v", "--ttl", "9", "--swap-with-value", "o",
               "--swap-with-index", "-1") == ("v\n", "", 0)
    [(args, kwargs)] = calls("set")
    assert args == ("/k", "v")
    assert kwargs == {"ttl": 9, "prev_value": "o", "prev_index": (1 << 64) - 1}
    assert calls("sync")                # synced first, unless --no-sync


def test_value_from_stdin(fake):
    fake.replies["create"] = lambda key, value: event("create", key, value, 4)
    assert run("--no-sync", "mk", "/k", stdin=b"x\ny\n") == ("x\ny\n\n", "", 0)
    assert not calls("sync")


def test_get_on_a_directory(fake):
    fake.replies["get"] = event("get", "/d", None, 3, dir=True)
    assert run("get", "/d") == ("", "/d: is a directory\n", 1)
    assert run("-o", "json", "get", "/d") == ("", "/d: is a directory\n", 1)
    fake.replies["get"] = Response("get", Node(None, None, dir=True), None, 3, None, None)
    assert run("get", "/") == ("", ": is a directory\n", 1)


def test_etcd_errors_are_exit_4_in_every_output_mode(fake):
    fake.replies["get"] = KeyNotFound(100, "Key not found", "/nokey", 6, 404)
    for argv in (("get", "/nokey"), ("-o", "json", "get", "/nokey"), ("ls", "/nokey")):
        assert run(*argv) == ("", "Error:  100: Key not found (/nokey) [6]\n", 4)


def test_a_one_shot_failure_has_no_detail(fake):
    fake.replies["create"] = EndpointError("dial tcp 127.0.0.1:1: connect: connection refused")
    assert run("mk", "/k", "v") == (
        "", "Error:  dial tcp 127.0.0.1:1: connect: connection refused\n", 4)


def test_dir_commands_print_only_outside_simple_mode(fake):
    fake.replies["mkdir"] = event("create", "/d", None, 3, dir=True)
    assert run("mkdir", "/d") == ("", "", 0)
    assert run("-o", "json", "mkdir", "/d")[0].startswith('{"action":"create"')
    assert run("-o", "yaml", "mkdir", "/d") == ("", "Unsupported output format: yaml\n", 0)
    fake.replies["delete"] = event("delete", "/d", None, 4, dir=True)
    assert run("rm", "-r", "/d") == ("", "", 0)
    assert run("rmdir", "/d") == ("", "", 0)
    assert run("-o", "extended", "rmdir", "/d")[0].startswith("Key: /d\n")
    fake.replies["delete"] = event("delete", "/f", None, 4, prev=Node("/f", "old"))
    assert run("rm", "/f") == ("PrevNode.Value: old\n", "", 0)


def test_setdir_and_updatedir_requests(fake):
    fake.replies["set"] = event("set", "/d", None, 3, dir=True)
    run("setdir", "/d")
    run("updatedir", "/d", "--ttl", "5")
    assert [kw for _, kw in calls("set")] == [{"ttl": None, "dir": True},
                                              {"ttl": 5, "dir": True, "prev_exist": True}]


def test_ls_modes(fake):
    fake.replies["get"] = Response("get", Node("/d", None, dir=True, nodes=(
        Node("/d/x", "1"), Node("/d/s", None, dir=True))), None, 5, None, None)
    assert run("ls", "/d", "-p") == ("/d/x\n/d/s/\n", "", 0)
    assert run("ls") == ("/d/x\n/d/s\n", "", 0)
    assert calls("get")[-1] == (("/",), {"recursive": False, "sorted": False, "quorum": False})
    assert run("-o", "extended", "ls", "/d")[0].startswith("Key: /d\nCreated-Index: 0\n")


def test_sync_failure_that_is_not_a_connection_error_is_ignored(fake):
    fake.replies["sync"] = ClusterError(("client: etcd member http://h:1 has no leader",))
    fake.replies["get"] = event("get", "/k", "v", 3)
    assert run("get", "/k") == ("v\n", "", 0)


# ---------------------------------------------------------------- watch

def test_watch_once_skips_dirs_and_prints_the_first_file_event(fake):
    fake.events = [event("set", "/w/sub", None, 5, dir=True), event("set", "/w/f", "v", 6),
                   event("set", "/w/g", "w", 7)]
    assert run("watch", "-r", "/w") == ("[set] /w/f\nv\n", "", 0)
    assert calls("watch") == [(("/w",), {"recursive": True, "after_index": 0,
                                         "resync": False})]


def test_watch_forever_until_an_error(fake):
    fake.events = [event("set", "/k", "1", 5), event("delete", "/k", None, 6,
                                                     prev=Node("/k", "1")),
                   EventIndexCleared(401, "The event in requested index is outdated and "
                                     "cleared", "the requested history has been cleared "
                                     "[2/7]", 1007, 400)]
    out, err, code = run("watch", "--forever", "--after-index", "4", "/k")
    assert out == "1\nPrevNode.Value: 1\n" and code == 4
    assert err == ("Error:  401: The event in requested index is outdated and cleared "
                   "(the requested history has been cleared [2/7]) [1007]\n")
    assert calls("watch")[0][1]["after_index"] == 4


# ---------------------------------------------------------------- exec-watch

def test_watch_environment():
    env = watch_environment({"PATH": "/bin", "ETCD_WATCH_KEY": "old"},
                            event("delete", "/k", None, 9, prev=Node("/k", "gone")))
    assert env == {"PATH": "/bin", "ETCD_WATCH_ACTION": "delete", "ETCD_WATCH_KEY": "/k",
                   "ETCD_WATCH_VALUE": "", "ETCD_WATCH_MODIFIED_INDEX": "9"}


def test_start_error_text():
    assert start_error("/no/such", FileNotFoundError(2, "x")) == (
        "fork/exec /no/such: no such file or directory")
    assert start_error("/etc", PermissionError(13, "x")) == "fork/exec /etc: permission denied"


def test_exec_watch_runs_commands_concurrently(fake, tmp_path, monkeypatch):
    """The slow command waits for a gate the test opens only after exec-watch returned, so
    exec-watch returning with the slow line unwritten proves it did not wait for its
    commands (no clock involved). Were it to wait, the slow command's own bounded wait (10 s)
    would run out first and its line would already be there."""
    out, gate = tmp_path / "out", tmp_path / "gate"
    monkeypatch.setenv("OUT", str(out))
    monkeypatch.setenv("GATE", str(gate))
    script = ('if [ "$ETCD_WATCH_VALUE" = slow ]; then i=0; '
              'while [ ! -e "$GATE" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; fi; '
              'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE '
              '$ETCD_WATCH_MODIFIED_INDEX" >> "$OUT"')
    fake.events = [event("set", "/w/a", "slow", 5), event("set", "/w/d", None, 6, dir=True),
                   event("set", "/w/b", "fast", 7), KeyNotFound(100, "Key not found", "/w", 8)]
    result = run("exec-watch", "-r", "/w", "--", "sh", "-c", script)
    assert result == ("", "Ignored dir /w/d change\nError:  100: Key not found (/w) [8]\n", 4)
    def written() -> str:          # the children outlive the command, as with etcdctl
        return out.read_text() if out.exists() else ""

    def until(lines: int) -> str:
        deadline = time.monotonic() + 5
        while written().count("\n") < lines and time.monotonic() < deadline:
            time.sleep(0.05)
        return written()

    assert "slow" not in written()                  # returned without waiting for it
    assert until(1) == "set /w/b fast 7\n"         # ran while the slow one was held
    gate.touch()
    assert until(2) == "set /w/b fast 7\nset /w/a slow 5\n"


def test_exec_watch_command_that_cannot_start(fake):
    fake.events = [event("set", "/k", "v", 5)]
    assert run("exec-watch", "no-such-command-here", "/k") == (
        "", 'exec: "no-such-command-here": executable file not found in $PATH', 1)
    assert run("exec-watch", "/no/such/cmd", "/k") == (
        "", "fork/exec /no/such/cmd: no such file or directory", 1)


# ---------------------------------------------------------------- members

M1 = Member("8e9e05c52164694d", "n1", ("http://127.0.0.1:2380",), ("http://127.0.0.1:2379",))
M2 = Member("91bc3c398fb3c146", "", ("http://127.0.0.1:2382",), ())


def test_member_lines():
    assert member_lines([M1, M2], M1.id) == (
        "8e9e05c52164694d: name=n1 peerURLs=http://127.0.0.1:2380 "
        "clientURLs=http://127.0.0.1:2379 isLeader=true\n"
        "91bc3c398fb3c146[unstarted]: peerURLs=http://127.0.0.1:2382\n")


def test_member_add_prints_the_new_members_settings(fake):
    fake.replies["add_member"] = M2
    fake.replies["members"] = [M1, M2]
    assert run("member", "add", "n2", "http://127.0.0.1:2382")[0] == (
        "Added member named n2 with ID 91bc3c398fb3c146 to cluster\n\n"
        'ETCD_NAME="n2"\n'
        'ETCD_INITIAL_CLUSTER="n1=http://127.0.0.1:2380,n2=http://127.0.0.1:2382"\n'
        'ETCD_INITIAL_CLUSTER_STATE="existing"\n')
    assert initial_cluster([M1], "x", "y") == "n1=http://127.0.0.1:2380"


def test_member_list_leader_failure(fake):
    fake.replies["members"] = [M1]
    fake.replies["leader"] = ClusterError(("client: etcd member http://h:1 has no leader",))
    assert run("member", "list") == ("", (
        "Failed to get leader:  client: etcd cluster is unavailable or misconfigured; "
        "error #0: client: etcd member http://h:1 has no leader\n\n"), 1)


def test_member_remove(fake):
    fake.replies["members"] = [M1]
    assert run("member", "remove", "n1") == ("", (
        "Found a member named n1; if this is correct, please use its ID, eg:\n"
        "\tetcdctl member remove 8e9e05c52164694d\n"
        "For more details, read the documentation at https://github.com/etcd-io/etcd/blob/"
        "master/Documentation/runtime-configuration.md#remove-a-member\n\n"
        "Couldn't find a member in the cluster with an ID of n1.\n"), 1)
    assert run("member", "remove", M1.id) == (f"Removed member {M1.id} from cluster\n", "", 0)


def test_cluster_health(fake):
    fake.replies["members"] = [M1, M2]
    fake.replies["health"] = True
    assert run("cluster-health") == (
        "member 8e9e05c52164694d is healthy: got healthy result from http://127.0.0.1:2379\n"
        "member 91bc3c398fb3c146 is unreachable: no available published client urls\n"
        "cluster is degraded\n", "", 5)
    assert not calls("sync")                    # cluster-health never syncs
    fake.replies["members"] = [M1]
    fake.replies["health"] = EndpointError("dial tcp 127.0.0.1:2379: connect: connection refused")
    assert run("cluster-health") == (
        "failed to check the health of member 8e9e05c52164694d on http://127.0.0.1:2379: "
        'Get "http://127.0.0.1:2379/health": dial tcp 127.0.0.1:2379: connect: connection '
        "refused\n"
        "member 8e9e05c52164694d is unreachable: [http://127.0.0.1:2379] are all unreachable\n"
        "cluster is unavailable\n", "", 5)
    assert health_summary(2, 2) == "cluster is healthy\n"
    assert health_summary(0, 0) == "cluster is healthy\n"


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX signals")
def test_ctrl_c_ends_watch_with_status_0():
    with socket.socket() as s:          # a listener that never answers: the watch waits
        s.bind(("127.0.0.1", 0))
        s.listen()
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        proc = subprocess.Popen([sys.executable, "-m", "trionode.ctl", "--no-sync",
                                 "--endpoints", url, "watch", "/k"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        conn, _ = s.accept()             # its long poll has been sent
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        conn.close()
    assert (out, err, proc.returncode) == (b"", b"", 0)
