"""Real servers on TLS for the client and trionodectl tests: etcd 3.4 (the reference) and
trionode, each started on loopback with fresh ports and data dirs, and stopped by PID.

One server per role, started once per test session on first use:
  plain    server1's certificate (CA1; 127.0.0.1 and localhost), no client certificate asked;
  auth     the same, plus --trusted-ca-file ca1.pem --client-cert-auth;
  wrong    a certificate for wrong.example.org only;
  expired  server1's names, but expired yesterday.
The client URL is https and advertised as such (so etcdctl's sync stays on https); peers
are plain http.
"""

from __future__ import annotations

import concurrent.futures
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ROLES", "TlsServer", "start_all"]

REPO = Path(__file__).resolve().parents[2]
ROLES = {
    "plain": ("server1", False),
    "auth": ("server1", True),
    "wrong": ("wrong", False),
    "expired": ("expired", False),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class TlsServer:
    kind: str                   # "etcd" or "trionode"
    role: str
    port: int
    proc: subprocess.Popen
    root: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def log_tail(self, n: int = 3000) -> str:
        try:
            return (self.root / "log").read_text(errors="replace")[-n:]
        except OSError:
            return "<no log>"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def _argv(kind: str, role: str, files: dict[str, str], root: Path, port: int, peer: int) -> list[str]:
    cert, client_auth = ROLES[role]
    client, peer_url = f"https://127.0.0.1:{port}", f"http://127.0.0.1:{peer}"
    args = ["--name", "n1", "--data-dir", str(root / "data"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"n1={peer_url}",
            "--cert-file", files[f"{cert}.crt"], "--key-file", files[f"{cert}.key"]]
    if client_auth:
        args += ["--trusted-ca-file", files["ca1.pem"], "--client-cert-auth"]
    if kind == "etcd":
        return ["etcd", "--enable-v2", *args]
    return [sys.executable, "-m", "trionode", *args]


def _ready(server: TlsServer, files: dict[str, str]) -> bool:
    """GET /health over TLS answers (any certificate accepted, client1's presented)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(files["client1.crt"], files["client1.key"])
    try:
        with urllib.request.urlopen(server.url + "/health", timeout=1, context=context) as reply:
            return reply.status == 200
    except OSError:
        return False


def start(kind: str, role: str, files: dict[str, str], timeout: float = 30.0) -> TlsServer:
    root = Path(tempfile.mkdtemp(prefix=f"tls-{kind}-{role}-"))
    port, peer = _free_port(), _free_port()
    argv = _argv(kind, role, files, root, port, peer)
    with open(root / "log", "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                                stdin=subprocess.DEVNULL)
    server = TlsServer(kind, role, port, proc, root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if _ready(server, files):
            return server
        time.sleep(0.1)
    tail = server.log_tail()
    server.stop()
    raise RuntimeError(f"{kind} ({role}) did not serve TLS within {timeout}s:\n{' '.join(argv)}\n"
                       f"--- its output:\n{tail}")


def start_all(kind: str, files: dict[str, str]) -> dict[str, TlsServer]:
    """Every role's server of `kind`, started side by side; all stopped if one fails."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(ROLES)) as pool:
        futures = {role: pool.submit(start, kind, role, files) for role in ROLES}
    started, failures = {}, []
    for role, future in futures.items():
        try:
            started[role] = future.result()
        except RuntimeError as exc:
            failures.append(str(exc))
    if failures:
        for server in started.values():
            server.stop()
        raise RuntimeError("\n".join(failures))
    return started
