"""System-test harness: real `python -m trionode` processes on loopback.

`nodes` (function scope) hands out a `Nodes` factory. Every process it starts is tracked by
PID; at teardown each one still alive gets SIGKILL and is reaped, and the temp dir holding
data dirs and logs is removed. Nothing is ever killed by name.

A node's stderr goes to a file (not a pipe) so that a node we never read from cannot block
on a full pipe, and so the log survives the process for post-mortem assertions.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

#: How long a node may take from exec to a 200 on /health (imports + recovery).
READY_TIMEOUT = 15.0
#: How long a process that should stop (SIGTERM, or a refused start) may take.
EXIT_TIMEOUT = 10.0
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port the OS just handed out; closed again so the node can bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NodeExited(AssertionError):
    """The process ended while we waited for it to become ready."""


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def etcd_index(self) -> int:
        return int(self.headers["X-Etcd-Index"])

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.body[:200]!r})"


class Node:
    """One trionode process (and its later incarnations on the same data dir)."""

    def __init__(self, owner: Nodes, name: str, data_dir: Path, extra: Sequence[str],
                 tls: ssl.SSLContext | None = None, env: dict[str, str] | None = None) -> None:
        self._owner = owner
        self.tls = tls  # https URLs (the TLS flags are in `extra`), and our client's context
        self.env = env  # extra environment variables
        self.name = name
        self.serial = len(owner.nodes)  # two handles may share a name (and a data dir)
        self.data_dir = data_dir
        self.extra = list(extra)
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.runs = 0
        self.log_path: Path | None = None
        self._conn: http.client.HTTPConnection | None = None

    # --- process control -------------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def wal_dir(self) -> Path:
        return self.data_dir / "member" / "wal"

    @property
    def snap_dir(self) -> Path:
        return self.data_dir / "member" / "snap"

    def spawn(self, name: str | None = None) -> subprocess.Popen:
        """Exec a process on this node's data dir (fresh port, fresh log file); no waiting."""
        self.close_client()
        self.runs += 1
        self.port = free_port()
        url = f"{self.scheme}://127.0.0.1:{self.port}"
        self.log_path = self._owner.root / f"{self.serial}-{self.name}.run{self.runs}.log"
        argv = [sys.executable, "-m", "trionode", "--name", name or self.name,
                "--data-dir", str(self.data_dir), "--listen-client-urls", url,
                "--advertise-client-urls", url, *self.extra]
        if not {"--initial-cluster", "--discovery"} & set(self.extra):  # alone: a peer port of its own
            peer = f"{self.scheme}://127.0.0.1:{free_port()}"
            argv += ["--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                     "--initial-cluster", f"{name or self.name}={peer}"]
        with open(self.log_path, "wb") as log:
            self.proc = self._owner.popen(argv, log, self.env)
        return self.proc

    @property
    def scheme(self) -> str:
        return "http" if self.tls is None else "https"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> Node:
        """Spawn and wait for /health; retries once if the OS gave our port away meanwhile."""
        for attempt in range(3):
            self.spawn()
            try:
                self.wait_ready()
                return self
            except NodeExited:
                # Someone took the port between free_port() and the node's bind: take another.
                if "address already in use" not in self.log().lower() or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NodeExited(f"{self.name} exited {self.proc.returncode} before ready:\n{self.log()}")
            try:
                if self.request("GET", "/health", timeout=1.0).status == 200:
                    return
            except OSError:
                self.close_client()
            time.sleep(0.02)
        raise AssertionError(f"{self.name} not ready after {timeout}s:\n{self.log()}")

    def restart(self) -> Node:
        assert self.proc is None or self.proc.poll() is not None, "restart a stopped node only"
        return self.start()

    def kill(self) -> int:
        """SIGKILL (by PID) and reap: a crash with no chance to clean up."""
        return self._signal_and_wait(signal.SIGKILL)

    def terminate(self, timeout: float = EXIT_TIMEOUT) -> int:
        """SIGTERM (by PID) and wait for the exit code."""
        return self._signal_and_wait(signal.SIGTERM, timeout)

    def wait_exit(self, timeout: float = EXIT_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} (pid {self.pid}) still running after {timeout}s:\n"
                                 f"{self.log()}") from None

    def _signal_and_wait(self, signum: int, timeout: float = EXIT_TIMEOUT) -> int:
        self.close_client()
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signum)
        return self.wait_exit(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def log_lines(self, **fields: str) -> list[str]:
        """Log lines carrying every given key=value (values as the text renderer writes them)."""
        wanted = [f"{key}={value}" for key, value in fields.items()]
        return [line for line in self.log().splitlines() if all(w in line.split() for w in wanted)]

    def error_lines(self) -> list[str]:
        """Every error-level line of the current run's log: none is expected while serving."""
        return [line for line in self.log().splitlines() if "level=error" in line.split()]

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS line")

    # --- HTTP -----------------------------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        if self.tls is not None:
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=self.tls)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method: str, path: str, form: dict | None = None,
                timeout: float = 10.0) -> Response:
        """One request on this node's keep-alive client connection (reconnects when closed)."""
        if self._conn is None:
            self._conn = self.connect(timeout)
        self._conn.timeout = timeout  # for a reconnect; an open socket needs its own update
        if self._conn.sock is not None:
            self._conn.sock.settimeout(timeout)
        body, headers = None, {}
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self._conn.request(method, path, body=body, headers=headers)
            reply = self._conn.getresponse()
            return Response(reply.status, reply.headers, reply.read())
        except BaseException:
            self.close_client()
            raise

    def put(self, key: str, **form) -> Response:
        return self.request("PUT", f"/v2/keys{key}", {k: str(v) for k, v in form.items()})

    def get(self, key: str, query: str = "") -> Response:
        return self.request("GET", f"/v2/keys{key}" + (f"?{query}" if query else ""))

    def store_stats(self) -> dict:
        return self.request("GET", "/v2/stats/store").json()

    def close_client(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class Nodes:
    """Starts nodes under one temp dir; `cleanup()` kills what is left and removes the dir."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="trionode-system-"))
        self._procs: list[subprocess.Popen] = []
        self.nodes: list[Node] = []

    def node(self, name: str = "n1", *extra: str, data_dir: Path | None = None,
             tls: ssl.SSLContext | None = None, env: dict[str, str] | None = None) -> Node:
        """A node handle (not started): its own data dir unless one is given. With `tls`
        its URLs are https and our requests use that context (`extra` has the TLS flags)."""
        node = Node(self, name, data_dir or self.root / f"{name}.data", extra, tls, env)
        self.nodes.append(node)
        return node

    def start(self, name: str = "n1", *extra: str, tls: ssl.SSLContext | None = None) -> Node:
        return self.node(name, *extra, tls=tls).start()

    def popen(self, argv: list[str], log, env: dict[str, str] | None = None) -> subprocess.Popen:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                cwd=REPO, start_new_session=True, env=env and {**os.environ, **env})
        self._procs.append(proc)
        return proc

    def cleanup(self) -> None:
        for node in self.nodes:
            node.close_client()
        try:
            for proc in self._procs:
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGKILL)  # by PID: only processes we started
                proc.wait(EXIT_TIMEOUT)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def nodes() -> Iterator[Nodes]:
    factory = Nodes()
    try:
        yield factory
    finally:
        factory.cleanup()
