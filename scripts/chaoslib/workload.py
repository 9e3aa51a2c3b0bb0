"""Client processes: each runs one operation at a time and records it as an Op.

Every operation goes to one node chosen at random, followers included (that is where
forwarding and read-barrier bugs live), through a client bound to that node alone: the
library's failover would resend a write or a CAS to a second node after a timeout, and a
resent CAS that finds its own effect would be recorded as a failed compare. A process
whose operation ended indeterminate ("info") may still have it in flight, so it goes on
under a new process id (id + number of clients), as the checker needs one op at a time
per process.

Outcomes: ok when the reply says what happened; fail when nothing can have been applied
(the connection was refused before anything was sent, or etcd rejected the request with a
4xx client error); info otherwise (timeout, connection lost after sending, 5xx, raft
errors, anything unexpected).
"""

from __future__ import annotations

import itertools
import random
import ssl
import time
from collections import Counter
from collections.abc import Callable, Sequence

import trio

from trionode.client import (
    Client,
    ClientError,
    ClusterError,
    EndpointError,
    EtcdError,
    KeyNotFound,
    NodeExists,
    TestFailed,
)

from .cluster import NodeSpec
from .history import Op

__all__ = ["Workload", "classify", "number", "PREFIX", "QUEUE"]

PREFIX = "/chaos"            # every key of the test lives under it
QUEUE = "queue"              # Op.key of enqueues; the directory is PREFIX/QUEUE
KIND_WEIGHTS = {"read": 4, "write": 2, "cas": 2, "enqueue": 2}
BODY_GRACE = 1.0             # the client's timeout covers the reply head; this, the body


def classify(exc: BaseException) -> tuple[str, str]:
    """(outcome, error text) of an operation that raised `exc` (reads and CAS aside)."""
    if isinstance(exc, EtcdError):
        # 1xx/2xx codes with a 4xx status are rejections; 3xx codes are raft internal errors
        definite = exc.code < 300 and 400 <= exc.status < 500
        return ("fail" if definite else "info"), f"etcd {exc.code}: {exc.message}"
    if isinstance(exc, (ClusterError, EndpointError)):
        text = exc.errors[0] if isinstance(exc, ClusterError) and exc.errors else str(exc)
        # a failed dial means the request never left; anything later may have arrived
        return ("fail" if text.startswith("dial tcp") else "info"), text
    if isinstance(exc, trio.TooSlowError):
        return "info", "timeout reading the reply"
    return "info", f"{type(exc).__name__}: {exc}"


class Workload:
    """`clients` processes doing reads, writes and CAS on registers, and enqueues."""

    def __init__(self, specs: Sequence[NodeSpec], *, clients: int, registers: int,
                 rate: float, timeout: float, unsafe_reads: bool, seed: int,
                 leader: Callable[[], str | None],
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._specs = tuple(specs)
        self._ssl = ssl_context               # --tls: https, with the client certificate
        self._clients, self._registers = clients, registers
        self._pause = clients / rate          # mean think time of one process
        self._timeout, self._unsafe = timeout, unsafe_reads
        self._seed, self._leader = seed, leader
        self._values = itertools.count(1)     # unique across all processes
        self.ops: list[Op] = []
        self.counts: Counter[str] = Counter()

    async def run(self) -> None:
        async with trio.open_nursery() as nursery:
            for slot in range(self._clients):
                rng = random.Random(f"{self._seed}/client/{slot}")
                nursery.start_soon(self._process, slot, rng)

    def _record(self, op: Op) -> None:
        self.ops.append(op)
        self.counts[op.outcome] += 1

    async def _process(self, slot: int, rng: random.Random) -> None:
        conns = {s.name: Client([s.client_url], timeout=self._timeout, ssl_context=self._ssl)
                 for s in self._specs}
        last: dict[str, int | None] = {}       # register -> latest value this process saw
        process = slot
        try:
            while True:
                await trio.sleep(rng.expovariate(1 / self._pause))
                op = await self._one(process, rng, conns, last)
                if op.outcome == "info":
                    process += self._clients
        finally:
            with trio.CancelScope(shield=True):
                for conn in conns.values():
                    await conn.aclose()

    def _node_for(self, kind: str, rng: random.Random) -> str:
        names = [s.name for s in self._specs]
        if kind == "read" and self._unsafe:
            followers = [n for n in names if n != self._leader()]
            return rng.choice(followers)
        return rng.choice(names)

    async def _one(self, process: int, rng: random.Random, conns: dict[str, Client],
                   last: dict[str, int | None]) -> Op:
        kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
        key = QUEUE if kind == "enqueue" else f"r{rng.randrange(self._registers)}"
        value: object = None
        if kind in ("write", "enqueue"):
            value = next(self._values)
        elif kind == "cas":
            value = [last.get(key), next(self._values)]
        node = self._node_for(kind, rng)
        invoke = time.monotonic()
        try:
            with trio.fail_after(self._timeout + BODY_GRACE):
                result = await self._call(conns[node], kind, key, value)
            outcome, error = "ok", ""
        except (ClientError, trio.TooSlowError) as exc:
            outcome, result, error = self._failed(kind, exc)
        except trio.Cancelled:
            # the run is over while this op is in flight: it may still be applied
            self._record(Op(process, kind, key, value, invoke, None, "info", None, node,
                            "cancelled at the end of the run"))
            raise
        if outcome == "ok":
            _remember(last, kind, key, value, result)
        op = Op(process, kind, key, value, invoke,
                time.monotonic() if outcome != "info" else None, outcome, result, node, error)
        self._record(op)
        return op

    @staticmethod
    def _failed(kind: str, exc: BaseException) -> tuple[str, object, str]:
        """(outcome, result, error): a missing key or a failed compare is an answer."""
        if kind == "read" and isinstance(exc, KeyNotFound):
            return "ok", None, ""
        if kind == "cas" and isinstance(exc, (KeyNotFound, TestFailed, NodeExists)):
            return "ok", False, ""
        outcome, error = classify(exc)
        return outcome, None, error

    async def _call(self, conn: Client, kind: str, key: str, value: object) -> object:
        path = f"{PREFIX}/{key}"
        if kind == "read":
            reply = await conn.get(path, quorum=not self._unsafe)
            return number(reply.node.value)
        if kind == "write":
            await conn.set(path, str(value))
        elif kind == "cas":
            expected, new = value
            if expected is None:         # nothing seen yet: create only if still absent
                await conn.create(path, str(new))
            else:
                await conn.set(path, str(new), prev_value=str(expected))
            return True
        else:
            await conn.create_in_order(path, str(value))
        return None


def _remember(last: dict[str, object], kind: str, key: str, value: object,
              result: object) -> None:
    """The register's latest value as this process knows it: the next CAS expects it."""
    if kind == "write":
        last[key] = value
    elif kind == "read":
        last[key] = result
    elif kind == "cas" and result:
        last[key] = value[1]


def number(text: str | None) -> object:
    # every value written is an int; anything else is kept as read, for the checker to flag
    try:
        return int(text)
    except (TypeError, ValueError):
        return text
