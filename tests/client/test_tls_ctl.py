"""trionodectl against etcdctl v2 on the same TLS servers: the same command lines, the same
stdout, stderr and exit code, byte for byte (but the current time in an expiry message).

Servers (tlsservers.py): etcd 3.4, and trionode. Both tools name the alert the server sent
the same way (Go's names), so even the alert lines are compared whole: on etcd both say
"bad certificate", on trionode (OpenSSL) both say "certificate required" or "unknown
certificate authority". A missing etcd or etcdctl skips, and fails under CI=true.

An argument "@name" is the path of that file of certs.py; "{url}" and "{port}" are the
role's server's.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from requirements import require_tool

from .conftest import WHY_ETCD

K = "/tls-ctl/k"
OK_FILES = ("--ca-file", "@ca1.pem", "--cert-file", "@client1.crt", "--key-file", "@client1.key")
CASES = [
    # (role, argv, extra environment)
    ("plain", ("--ca-file", "@ca1.pem", "set", K, "v"), {}),
    ("plain", ("--ca-file", "@ca1.pem", "get", K), {}),
    ("plain", ("--ca-file", "@ca1.pem", "ls", "/tls-ctl"), {}),
    ("plain", ("--ca-file", "@ca1.pem", "member", "list"), {}),
    ("plain", ("--ca-file", "@ca1.pem", "cluster-health"), {}),
    ("plain", ("--ca-file", "@ca1.pem", "--debug", "get", K), {}),
    ("plain", ("get", K), {}),                                 # the system's roots: unknown
    ("plain", ("set", K, "v"), {}),
    ("plain", ("ls",), {}),
    ("plain", ("member", "list"), {}),
    ("plain", ("cluster-health",), {}),
    ("plain", ("--ca-file", "@ca2.pem", "get", K), {}),
    ("plain", ("--ca-file", "@nopem.pem", "--no-sync", "get", K), {}),
    ("plain", ("get", K), {"ETCDCTL_CA_FILE": "@ca1.pem"}),
    ("auth", ("--ca-file", "@ca1.pem", "get", K), {}),       # no client certificate
    ("auth", ("--ca-file", "@ca1.pem", "--no-sync", "set", K, "v"), {}),
    ("auth", ("--ca-file", "@ca1.pem", "ls"), {}),
    ("auth", ("--ca-file", "@ca1.pem", "rm", K), {}),
    ("auth", ("--ca-file", "@ca1.pem", "member", "list"), {}),
    ("auth", ("--ca-file", "@ca1.pem", "cluster-health"), {}),
    ("auth", ("--ca-file", "@ca1.pem", "--cert-file", "@client2.crt", "--key-file", "@client2.key",
              "get", K), {}),
    ("auth", (*OK_FILES, "set", K, "w"), {}),
    ("auth", (*OK_FILES, "get", K), {}),
    ("auth", (*OK_FILES, "ls", "/tls-ctl"), {}),
    ("auth", (*OK_FILES, "member", "list"), {}),
    ("auth", (*OK_FILES, "cluster-health"), {}),
    ("auth", (*OK_FILES, "--debug", "--no-sync", "get", K), {}),
    ("auth", ("get", K), {"ETCDCTL_CA_FILE": "@ca1.pem", "ETCDCTL_CERT_FILE": "@client1.crt",
                          "ETCDCTL_KEY_FILE": "@client1.key"}),
    ("auth", ("--ca-file", "@ca1.pem", "get", K), {"ETCDCTL_CA_FILE": "/nonexistent/ca.pem"}),
    ("wrong", ("--endpoints", "https://localhost:{port}", "--ca-file", "@ca1.pem", "get", K), {}),
    ("wrong", ("--ca-file", "@ca1.pem", "member", "list"), {}),
    ("wrong", ("--ca-file", "@ca1.pem", "cluster-health"), {}),
    ("expired", ("--ca-file", "@ca1.pem", "get", K), {}),
    ("plain", ("--endpoints", "http://127.0.0.1:{port}", "get", K), {}),
    ("plain", ("--endpoints", "http://127.0.0.1:{port}", "--no-sync", "mk", K, "x"), {}),
    # files that cannot be used: refused before any request
    ("plain", ("--ca-file", "/nonexistent/ca.pem", "get", K), {}),
    ("plain", ("--ca-file", "/nonexistent/ca.pem", "cluster-health"), {}),
    ("plain", ("--cert-file", "@client1.crt", "member", "list"), {}),
    ("plain", ("--key-file", "@client1.key", "cluster-health"), {}),
    ("plain", ("--cert-file", "@client1.crt", "--key-file", "@client2.key", "get", K), {}),
    ("plain", ("--cert-file", "@rsa.crt", "--key-file", "@client1.key", "get", K), {}),
]
EXPIRY_TIME = re.compile(r"current time \S+ is after")


@pytest.fixture(params=["etcd", "trionode"])
def servers(request, tls_servers):
    require_tool("etcdctl", WHY_ETCD)
    return tls_servers(request.param)


def _arg(text: str, files: dict[str, str], server) -> str:
    if text.startswith("@"):
        return files[text[1:]]
    return text.replace("{port}", str(server.port)).replace("{url}", server.url)


def _run(tool: list[str], argv: list[str], env: dict[str, str]) -> tuple[str, str, int]:
    done = subprocess.run(tool + argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=60)
    out, err = (EXPIRY_TIME.sub("current time T is after", b.decode(errors="replace"))
                for b in (done.stdout, done.stderr))
    return out, err, done.returncode


def test_trionodectl_prints_what_etcdctl_prints(servers, tls_files):
    base = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
    base["ETCDCTL_API"] = "2"
    failures, exit_codes = [], set()
    for role, argv, extra in CASES:
        server = servers[role]
        args = [_arg(a, tls_files, server) for a in argv]
        if "--endpoints" not in argv:
            args = ["--endpoints", server.url, *args]
        env = {**base, **{k: _arg(v, tls_files, server) for k, v in extra.items()}}
        ref = _run(["etcdctl"], args, env)
        dut = _run([sys.executable, "-m", "trionode.ctl"], args, env)
        exit_codes.add(ref[2])
        if ref != dut:
            failures.append(f"{role}: {' '.join(args)} {extra or ''}\n  etcdctl:     {ref!r}\n"
                            f"  trionodectl: {dut!r}")
    assert not failures, f"{len(failures)} of {len(CASES)} differ:\n" + "\n".join(failures)
    assert exit_codes == {0, 1, 4}          # successes, local refusals and remote failures
