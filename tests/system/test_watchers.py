"""Long polls at scale and at shutdown, over raw sockets (one watch per connection)."""

from __future__ import annotations

import json
import resource
import selectors
import socket
import time
from collections.abc import Callable, Iterable, Iterator

import pytest
from requirements import missing

pytestmark = pytest.mark.system

KEYS = 100
PER_KEY_WATCHERS = 10_000
RECURSIVE_WATCHERS = 200
TOTAL = PER_KEY_WATCHERS + RECURSIVE_WATCHERS
#: Connections opened before waiting for the node to register them: well under its
#: listen backlog (1024), so that no connect() ever waits for a SYN retransmission.
BATCH = 500
FIRED_KEY = 7


class Watch:
    """One raw `GET ...?wait=true` on its own socket; parses the chunked reply as it arrives."""

    __slots__ = ("sock", "target", "buf", "head_end")

    def __init__(self, port: int, target: str) -> None:
        self.target = target
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        self.sock.setblocking(False)
        self.buf = b""
        self.head_end = -1

    def read(self) -> bool:
        """Take what the socket has; False at EOF."""
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return True
        except ConnectionError:
            return False
        self.buf += data
        if self.head_end < 0:
            end = self.buf.find(b"\r\n\r\n")
            self.head_end = end + 4 if end >= 0 else -1
        return bool(data)

    @property
    def has_head(self) -> bool:
        return self.head_end >= 0

    @property
    def body_bytes(self) -> bytes:
        return self.buf[self.head_end:] if self.has_head else b""

    def body(self) -> bytes | None:
        """The de-chunked body once the last chunk is in, else None."""
        raw, out, pos = self.body_bytes, [], 0
        while True:
            eol = raw.find(b"\r\n", pos)
            if eol < 0:
                return None
            size = int(raw[pos:eol], 16)
            if size == 0:
                return b"".join(out) if raw[eol + 2:eol + 4] == b"\r\n" else None
            if len(raw) < eol + 2 + size + 2:
                return None
            out.append(raw[eol + 2:eol + 2 + size])
            pos = eol + 2 + size + 2

    def close(self) -> None:
        self.sock.close()


def _pump(watches: Iterable[Watch], done: Callable[[], bool], timeout: float) -> None:
    """Read from every readable socket until `done()` or `timeout` seconds have passed."""
    with selectors.DefaultSelector() as sel:
        for watch in watches:
            sel.register(watch.sock, selectors.EVENT_READ, watch)
        deadline = time.monotonic() + timeout
        while not done() and (left := deadline - time.monotonic()) > 0:
            for key, _ in sel.select(min(left, 0.2)):
                if not key.data.read():
                    sel.unregister(key.fileobj)


def _wait_for(probe: Callable[[], int], want: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (got := probe()) != want and time.monotonic() < deadline:
        time.sleep(0.05)
    return got


@pytest.fixture
def fd_limit() -> Iterator[None]:
    """Enough descriptors in this process for TOTAL sockets (restored afterwards)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = TOTAL + 300
    if soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(hard, max(need, 20_000))
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            missing(f"cannot raise RLIMIT_NOFILE to {need} (soft {soft}, hard {hard}): {exc}")
        if target < need:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            missing(f"RLIMIT_NOFILE hard limit {hard} < {need} sockets needed")
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_ten_thousand_idle_watchers(nodes, fd_limit):
    node = nodes.start("watch")

    def watchers() -> int:
        return node.store_stats()["watchers"]

    rss_idle = node.rss_kib()
    targets = [f"/v2/keys/w/k{i % KEYS}?wait=true" for i in range(PER_KEY_WATCHERS)]
    targets += ["/v2/keys/w?wait=true&recursive=true"] * RECURSIVE_WATCHERS
    watches: list[Watch] = []
    started = time.monotonic()
    try:
        for i in range(0, TOTAL, BATCH):
            watches.extend(Watch(node.port, target) for target in targets[i:i + BATCH])
            assert _wait_for(watchers, len(watches), 10) == len(watches)
        opened_in = time.monotonic() - started
        _pump(watches, lambda: all(w.has_head for w in watches), 10)
        assert all(w.has_head and w.buf.startswith(b"HTTP/1.1 200") for w in watches)
        assert not any(w.body_bytes for w in watches)
        rss = node.rss_kib()

        put = node.put(f"/w/k{FIRED_KEY}", value="fired")
        assert put.status == 201
        expected = [w for w in watches if w.target.startswith(f"/v2/keys/w/k{FIRED_KEY}?")
                    or "recursive" in w.target]
        assert len(expected) == PER_KEY_WATCHERS // KEYS + RECURSIVE_WATCHERS
        _pump(watches, lambda: all(w.body() is not None for w in expected), 10)
        _pump(watches, lambda: False, 1.0)  # anyone else who would (wrongly) get a body
        for w in expected:
            body = w.body()
            assert body is not None, f"{w.target}: no complete body: {w.body_bytes!r}"
            event = json.loads(body)
            assert event["action"] == "set" and event["node"]["key"] == f"/w/k{FIRED_KEY}"
            assert event["node"]["value"] == "fired"
            assert event["node"]["modifiedIndex"] == put.json()["node"]["modifiedIndex"]
        expected_ids = {id(w) for w in expected}
        stray = [w.target for w in watches if id(w) not in expected_ids and w.body_bytes]
        assert not stray, f"{len(stray)} other watchers got bytes, e.g. {stray[:3]}"
        assert _wait_for(watchers, TOTAL - len(expected), 5) == TOTAL - len(expected)
    finally:
        for w in watches:
            w.close()
    assert _wait_for(watchers, 0, 15) == 0, "watchers of closed connections were not freed"
    assert not node.error_lines(), node.error_lines()[:5]
    print(f"\n{TOTAL} idle watchers: opened in {opened_in:.1f}s; node VmRSS {rss} kB "
          f"({rss / 1024:.1f} MiB; {rss_idle} kB before, "
          f"~{(rss - rss_idle) * 1024 / TOTAL:.0f} bytes per watcher); "
          f"after close {node.rss_kib()} kB")


def test_sigterm_closes_open_long_polls(nodes):
    node = nodes.start("term")
    watches = [Watch(node.port, f"/v2/keys/poll/{i}?wait=true") for i in range(5)]
    try:
        assert _wait_for(lambda: node.store_stats()["watchers"], 5, 5) == 5
        node.close_client()
        started = time.monotonic()
        assert node.terminate(timeout=5) == 0, node.log()
        assert time.monotonic() - started < 5
        eof: set[int] = set()

        def all_closed() -> bool:
            eof.update(id(w) for w in watches if w.sock.fileno() >= 0 and not w.read())
            return len(eof) == len(watches)

        deadline = time.monotonic() + 3
        while not all_closed() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(eof) == len(watches), "watch connections left open after the node exited"
        assert all(w.has_head for w in watches)
        assert not node.error_lines(), node.log()
    finally:
        for w in watches:
            w.close()
