"""trionodectl's main(): dispatch, help, usage errors and the error lines that need no
server (a closed loopback port refuses at once). Expected texts are etcdctl 3.4.23's."""

from __future__ import annotations

import io
import socket

import pytest

from trionode.ctl import main


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*argv: str, stdin: bytes = b"", env: dict | None = None) -> tuple[str, str, int]:
    out, err = io.BytesIO(), io.BytesIO()
    code = main(list(argv), env=env or {}, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return out.getvalue().decode(), err.getvalue().decode(), code


@pytest.fixture
def dead() -> str:
    return f"http://127.0.0.1:{closed_port()}"


def test_unknown_command_is_exit_3():
    assert run("bogus") == ("", "No help topic for 'bogus'\n", 3)
    assert run("member", "bogus") == ("", "No help topic for 'bogus'\n", 3)
    assert run("help", "bogus") == ("", "No help topic for 'bogus'\n", 3)


@pytest.mark.parametrize("argv", [(), ("--help",), ("-h",), ("help",), ("h",)])
def test_app_help(argv):
    out, err, code = run(*argv)
    assert code == 0 and err == ""
    for name in ("ls", "get", "mk", "mkdir", "set", "setdir", "update", "updatedir", "rm",
                 "rmdir", "watch", "exec-watch", "member", "cluster-health"):
        assert f"   {name} " in out


@pytest.mark.parametrize("argv", [("get", "--help"), ("help", "get"), ("get", "/k", "-h")])
def test_command_help_has_an_example(argv):
    out, err, code = run(*argv)
    assert code == 0 and err == ""
    assert "trionodectl get" in out and "EXAMPLE:\n   trionodectl get /example/key\n" in out


def test_member_help():
    for argv in (("member",), ("member", "--help"), ("member", "list", "--help"),
                 ("help", "member")):
        out, _, code = run(*argv)
        assert code == 0 and "remove <id>" in out


def test_version():
    out, err, code = run("--version")
    assert code == 0 and err == "" and out.endswith("\nAPI version: 2\n")


@pytest.mark.parametrize("argv, message, where", [
    (("--bogus", "get"), "flag provided but not defined: -bogus", "--help"),
    (("-o",), "flag needs an argument: -o", "--help"),
    (("--timeout", "5", "get"), 'invalid value "5" for flag -timeout', "--help"),
    (("set", "--ttl", "abc", "/k", "v"), 'invalid value "abc" for flag -ttl', "set --help"),
    (("member", "list", "--x"), "flag provided but not defined: -x", "member list --help"),
])
def test_usage_errors_are_one_line_and_exit_1(argv, message, where):
    out, err, code = run(*argv)
    assert code == 1 and out == ""
    first, second = err.splitlines()
    assert first.startswith("trionodectl: " + message)
    assert second == f"Run 'trionodectl {where}' for usage."


def test_missing_key_and_value_after_the_client_is_made():
    assert run("--no-sync", "get") == ("", "Error:  key required\n", 1)
    assert run("--no-sync", "set", "/k") == ("", "Error:  value required\n", 1)
    assert run("--no-sync", "watch") == ("", "Error:  key required\n", 1)
    assert run("--no-sync", "exec-watch", "/k") == (
        "", "Error:  key and command to exec required\n", 1)
    # --debug shows the client before the complaint, as etcdctl does
    assert run("--debug", "--no-sync", "rm") == (
        "", "Cluster-Endpoints: http://127.0.0.1:2379, http://127.0.0.1:4001\n"
            "Error:  key required\n", 1)


def test_member_commands_check_arguments_first(dead):
    assert run("--endpoints", dead, "member", "list", "x") == ("", "No arguments accepted\n", 1)
    assert run("member", "add", "a") == ("", "Provide a name and a single member peerURL\n", 1)
    assert run("member", "remove") == ("", "Provide a single member ID\n", 1)
    assert run("member", "update", "a")[1:] == (
        "Provide an ID and a list of comma separated peerURL "
        "(0xabcd http://example.com,http://example1.com)\n", 1)


def test_unreachable_during_sync_is_exit_2(dead):
    host = dead.split("//")[1]
    line = f"dial tcp {host}: connect: connection refused"
    expected = (f"Error:  client: etcd cluster is unavailable or misconfigured; error #0: {line}\n"
                f"\nerror #0: {line}\n\n")
    assert run("--endpoints", dead, "get", "/a") == ("", expected, 2)
    # the sync fails before the command looks at its arguments
    assert run("--endpoints", dead, "set") == ("", expected, 2)
    assert run("--endpoints", dead, "--no-sync", "get", "/a") == ("", expected, 4)
    assert run("--endpoints", dead, "--no-sync", "member", "list") == (
        "", expected[len("Error:  "):expected.index("\n") + 2], 1)


def test_debug_lines_of_a_failed_sync(dead):
    out, err, code = run("--debug", "--endpoints", dead, "get", "/a")
    assert code == 2 and out == ""
    assert err.startswith(f"start to sync cluster using endpoints({dead})\n"
                          f"cURL Command: curl -X GET {dead}/v2/members\n"
                          "Error:  client: etcd cluster")


def test_cluster_health_when_members_cannot_be_listed(dead):
    out, err, code = run("--endpoints", dead, "cluster-health")
    assert code == 4 and out == "cluster may be unhealthy: failed to list members\n"
    assert err.startswith("Error:  client: etcd cluster is unavailable")


def test_total_timeout_zero_is_deadline_exceeded(dead):
    assert run("--endpoints", dead, "--total-timeout", "0", "get", "/a") == (
        "", "Error:  context deadline exceeded\n", 2)
    assert run("--endpoints", dead, "--no-sync", "--total-timeout", "0", "get", "/a") == (
        "", "Error:  context deadline exceeded\n", 4)


def test_endpoints_go_cannot_parse_or_we_cannot_speak():
    assert run("--endpoints", "127.0.0.1:2379", "get", "/a") == (
        "", 'parse "127.0.0.1:2379": first path segment in URL cannot contain colon\n', 1)
    out, err, code = run("--endpoints", "localhost:1", "--no-sync", "get", "/a")
    assert code == 4 and err == (
        'Error:  client: etcd cluster is unavailable or misconfigured; error #0: '
        'unsupported protocol scheme "localhost"\n\nerror #0: unsupported protocol scheme '
        '"localhost"\n\n')
    # a TLS file that cannot be read is refused after the endpoints, before any request
    assert run("--endpoints", "https://h:1", "--ca-file", "/nonexistent/ca.pem", "get", "/a") == (
        "", "open /nonexistent/ca.pem: no such file or directory\n", 1)


def test_environment_endpoints(dead):
    _, err, code = run("--no-sync", "get", "/a", env={"ETCDCTL_ENDPOINTS": dead})
    assert code == 4 and dead.split("//")[1] in err
