"""Side-by-side harness: server processes and a raw HTTP client.

The same request sequence (steps.py) runs against a reference etcd 3.4 and against the
target (trionode, or a second etcd when TRIONODE_COMPAT_TARGET=etcd); normalize.py then
makes the two transcripts comparable.

Requests are written on raw sockets (one connection per request, `Connection: close`) so
that what is sent is exactly what the step says, malformed or not.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from pki import Pki
from requirements import require_tool

TARGET_ENV = "TRIONODE_COMPAT_TARGET"
FORM = (("Content-Type", "application/x-www-form-urlencoded"),)
REPO = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- processes

def free_port() -> int:
    """A port the OS just handed out (bound to 0, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass
class Server:
    label: str                    # "reference" or "target"
    kind: str                     # "etcd" or "trionode"
    port: int
    proc: subprocess.Popen
    data_dir: Path
    log_path: Path
    # A TLS session: `port` is https (client certificates required) and advertised; the
    # harness's own raw probes use `plain_port`, an extra http listener of the same server.
    tls: Pki | None = None
    plain_port: int = 0

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def probe_port(self) -> int:
        return self.plain_port or self.port

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "<no log>"

    def stop(self) -> None:
        """End the process by its PID; escalate to SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def _cluster_args(name: str, data_dir: Path, port: int, peer: int, tls: Pki | None,
                  plain_port: int) -> list[str]:
    scheme = "https" if tls else "http"
    client, peer_url = f"{scheme}://127.0.0.1:{port}", f"{scheme}://127.0.0.1:{peer}"
    listen = f"{client},http://127.0.0.1:{plain_port}" if tls else client
    return ["--name", name, "--data-dir", str(data_dir),
            "--listen-client-urls", listen, "--advertise-client-urls", client,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"{name}={peer_url}", *(tls.server_flags() if tls else ())]


def start_server(label: str, kind: str, name: str, timeout: float = 20.0,
                 tls: Pki | None = None) -> Server:
    """Start one etcd or trionode on fresh ports and a fresh data dir; wait for /health.
    With `tls`, both ports are TLS with client certificates required (Pki.server_flags)."""
    root = Path(tempfile.mkdtemp(prefix=f"compat-{label}-"))
    data_dir, log_path = root / "data", root / "log"
    port, peer, plain = free_port(), free_port(), free_port() if tls else 0
    args = _cluster_args(name, data_dir, port, peer, tls, plain)
    if kind == "etcd":
        argv = ["etcd", "--enable-v2", *args]
    else:
        argv = [sys.executable, "-m", "trionode", *args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                stdin=subprocess.DEVNULL)
    server = Server(label, kind, port, proc, data_dir, log_path, tls, plain)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise RuntimeError(f"{label} {kind} exited with {proc.returncode} before "
                               f"serving:\n{' '.join(argv)}\n--- its output:\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.probe_port}/health", timeout=1) as r:
                if r.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.1)
    tail = server.log_tail()
    server.stop()
    raise RuntimeError(f"{label} {kind} did not answer /health within {timeout}s:\n"
                       f"{' '.join(argv)}\n--- its output:\n{tail}")


def target_kind() -> str:
    kind = os.environ.get(TARGET_ENV, "trionode").strip() or "trionode"
    if kind not in ("etcd", "trionode"):
        raise ValueError(f"{TARGET_ENV} must be 'etcd' or 'trionode', not {kind!r}")
    return kind


def server_pair(ref_name: str, tgt_name: str, tls: Pki | None = None):
    """Generator fixture body: yields (reference, target); always stops both by PID."""
    require_tool("etcd", "the compat suite compares with a real etcd 3.4 "
                         "(apt-get install etcd-server)")
    kind = target_kind()
    started = []
    try:
        started.append(start_server("reference", "etcd", ref_name, tls=tls))
        try:
            started.append(start_server("target", kind, tgt_name, tls=tls))
        except RuntimeError as exc:
            failure = f"the compat target could not start:\n{exc}"
        else:
            failure = ""
        if failure:
            pytest.fail(failure, pytrace=False)
        yield tuple(started)
    finally:
        for server in started:
            server.stop()


def watchers(port: int) -> int:
    """How many watchers the server holds (/v2/stats/store "watchers", etcd's and ours)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/stats/store", timeout=2) as r:
        return int(json.load(r)["watchers"])


def wait_until(check, timeout: float) -> bool:
    """Poll check() until it holds (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def wait_for_watcher(port: int, base: int, ended, timeout: float = 5.0) -> bool:
    """Until the server holds more than `base` watchers or ended() (the watching client gave
    up, or was answered without waiting). A watcher of an earlier run that goes away
    meanwhile lowers the base, so that it cannot hide the new one."""
    low = [base]

    def registered() -> bool:
        now = watchers(port)
        low[0] = min(low[0], now)
        return now > low[0] or ended()
    return wait_until(registered, timeout)


# ---------------------------------------------------------------- raw HTTP

@dataclasses.dataclass
class Response:
    status: int                         # 0 when nothing parseable came back
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    sent_at: float                      # wall clock, for expiration checks
    done_at: float
    complete: bool = True               # False: timed out / cut off by us
    error: str = ""

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        return json.loads(self.body)


def _dechunk(data: bytes) -> tuple[bytes, bool]:
    """Decode as many complete chunks as `data` holds; True once the last chunk is seen."""
    out, pos = bytearray(), 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return bytes(out), False
        size = int(data[pos:eol].split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out), True
        if len(data) < eol + 2 + size + 2:
            return bytes(out), False
        out += data[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2


def parse_response(buf: bytes, head: bool) -> tuple[Response | None, bool]:
    """Parse what has arrived so far: (response or None if headers incomplete, complete?)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, False
    lines = buf[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    headers = [tuple(s.strip() for s in ln.split(":", 1)) for ln in lines[1:] if ":" in ln]
    resp = Response(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, b"", 0, 0)
    rest = buf[end + 4:]
    if head or resp.status in (204, 304) or 100 <= resp.status < 200:
        return resp, True
    if (resp.header("Transfer-Encoding") or "").lower() == "chunked":
        resp.body, done = _dechunk(rest)
        return resp, done
    length = resp.header("Content-Length")
    if length is not None:
        resp.body = rest[:int(length)]
        return resp, len(rest) >= int(length)
    resp.body = rest
    return resp, False                  # until EOF


def build_request(port: int, method: str, target: str, headers, body: bytes) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body or method in ("PUT", "POST"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(port: int, raw: bytes, *, head: bool = False, timeout: float = 5.0,
             stop_after_lines: int | None = None,
             on_headers: threading.Event | None = None) -> Response:
    """Send raw request bytes; read until the response is complete, EOF or timeout.

    stop_after_lines: for stream watches, stop once the body holds that many lines.
    on_headers: set as soon as the status line and headers have arrived.
    """
    sent_at = time.time()
    buf, resp, complete, error = b"", None, False, ""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                error = "timeout"
                break
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                error = "timeout"
                break
            except OSError as exc:
                error = f"{type(exc).__name__}: {exc}"
                break
            if not data:
                complete = True if resp is not None else complete
                break
            buf += data
            resp, complete = parse_response(buf, head)
            if resp is not None and on_headers is not None:
                on_headers.set()
            if complete:
                break
            if (resp is not None and stop_after_lines is not None
                    and resp.body.count(b"\n") >= stop_after_lines):
                error = "closed by harness after the expected stream events"
                break
    if resp is None:
        resp, complete = parse_response(buf, head)
    if on_headers is not None:
        on_headers.set()
    if resp is None:
        resp = Response(0, "", [], buf, 0, 0, error=error or "no response")
    resp.sent_at, resp.done_at = sent_at, time.time()
    resp.complete, resp.error = bool(complete), resp.error or error
    return resp
