"""The end of a run: heal, wait for convergence, and read every node's data.

Nodes are compared at one log position: after a quorum write (the barrier) each node is
read with a plain local GET (recursive, sorted) until all of them report the same
X-Etcd-Index, at or past the barrier's. Two nodes that applied the same log prefix must
hold the same data, so any difference at equal indexes is a divergence. Waiting for equal
indexes rather than stopping at the barrier also covers a request that a paused node
still had in its socket and applies late.
"""

from __future__ import annotations

import dataclasses
import time

import trio

from trionode.client import Client, ClientError, KeyNotFound, Node

from .cluster import Cluster
from .nemesis import Nemesis
from .workload import PREFIX, QUEUE, number

__all__ = ["FinalState", "settle", "flatten"]

BARRIER_KEY = "/chaos-barrier"
READ_TIMEOUT = 2.0
POLL = 0.2

Entry = tuple[str, str | None, int, int]       # key, value (None: a dir), created, modified


@dataclasses.dataclass(frozen=True, slots=True)
class FinalState:
    converged: bool
    problems: tuple[str, ...]                  # why convergence or the reads failed
    trees: dict[str, tuple[Entry, ...] | None]  # node -> its data; None: could not read
    indexes: dict[str, int]
    identical: bool
    differences: tuple[str, ...]
    queue: tuple[object, ...] | None           # the queue's values in key order (None: unread)
    seconds: float


def flatten(node: Node | None) -> tuple[Entry, ...]:
    """Depth-first, in the server's (sorted) order; the root of the listing itself excluded."""
    out: list[Entry] = []
    stack = list(reversed((node.nodes or ()) if node is not None else ()))
    while stack:
        item = stack.pop()
        out.append((item.key or "", None if item.dir else item.value,
                    item.created_index, item.modified_index))
        stack.extend(reversed(item.nodes or ()))
    return tuple(out)


def _queue(entries: tuple[Entry, ...]) -> tuple[object, ...]:
    folder = f"{PREFIX}/{QUEUE}/"
    values = []
    for key, value, _, _ in entries:
        if key.startswith(folder) and value is not None:
            values.append(number(value))
    return tuple(values)


async def _barrier(clients: dict[str, Client], token: str, deadline: float) -> int | None:
    """A quorum write through any node; its index, or None when none took it in time."""
    with trio.move_on_at(deadline):
        while True:
            for client in clients.values():
                try:
                    reply = await client.set(BARRIER_KEY, token)
                    return reply.node.modified_index
                except ClientError:
                    await trio.sleep(POLL)
    return None


async def _read(client: Client) -> tuple[tuple[Entry, ...], int] | None:
    try:
        reply = await client.get(PREFIX, recursive=True, sorted=True)
    except KeyNotFound as exc:
        return (), exc.index
    except ClientError:
        return None
    return flatten(reply.node), reply.etcd_index


async def _read_all(clients: dict[str, Client]) -> dict[str, tuple | None]:
    got: dict[str, tuple | None] = {}

    async def one(name: str) -> None:
        got[name] = await _read(clients[name])

    async with trio.open_nursery() as nursery:
        for name in clients:
            nursery.start_soon(one, name)
    return {name: got[name] for name in clients}


def _compare(trees: dict[str, tuple[Entry, ...] | None]) -> tuple[str, ...]:
    read = {name: tree for name, tree in trees.items() if tree is not None}
    if not read:
        return ("no node could be read",)
    ref_name, ref = next(iter(read.items()))
    out = [f"{name} could not be read" for name, tree in trees.items() if tree is None]
    for name, tree in read.items():
        if tree != ref:
            extra = sorted(set(tree) - set(ref))[:3]
            missing = sorted(set(ref) - set(tree))[:3]
            out.append(f"{name} differs from {ref_name}: {len(tree)} vs {len(ref)} entries; "
                       f"only on {name}: {extra}; only on {ref_name}: {missing}")
    return tuple(out)


async def settle(cluster: Cluster, nemesis: Nemesis, token: str, timeout: float) -> FinalState:
    """Heal everything, then read all nodes at one index (bounded by `timeout`)."""
    started = time.monotonic()
    deadline = trio.current_time() + timeout
    problems: list[str] = []
    await nemesis.heal_all()
    clients = {s.name: cluster.client(s, READ_TIMEOUT) for s in cluster.specs}
    try:
        if not await cluster.wait_agreed(timeout / 2):
            problems.append(f"nodes did not agree on a leader within {timeout / 2:.0f}s")
        index = await _barrier(clients, token, deadline)
        if index is None:
            problems.append("the barrier write did not succeed in time")
        reads = await _read_all(clients)
        with trio.move_on_at(deadline):
            while not _settled(reads, index or 0):
                await trio.sleep(POLL)
                reads = await _read_all(clients)
    finally:
        with trio.CancelScope(shield=True):
            for client in clients.values():
                await client.aclose()
    return _final_state(reads, index, problems, time.monotonic() - started)


def _settled(reads: dict[str, tuple | None], index: int) -> bool:
    indexes = {r[1] for r in reads.values() if r is not None}
    return None not in reads.values() and len(indexes) == 1 and indexes.pop() >= index


def _final_state(reads: dict[str, tuple | None], index: int | None, problems: list[str],
                 seconds: float) -> FinalState:
    if not _settled(reads, index or 0):
        shown = {n: (r[1] if r else "unreadable") for n, r in reads.items()}
        problems.append(f"nodes did not reach one index past the barrier ({index}): {shown}")
    trees = {name: (r[0] if r else None) for name, r in reads.items()}
    differences = _compare(trees)
    first = next((t for t in trees.values() if t is not None), None)
    return FinalState(
        converged=not problems, problems=tuple(problems), trees=trees,
        indexes={n: r[1] for n, r in reads.items() if r}, identical=not differences,
        differences=differences, queue=None if first is None else _queue(first),
        seconds=seconds)
