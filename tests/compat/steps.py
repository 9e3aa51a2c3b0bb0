"""Request sequences as data: step types, captures, and the runner.

A sequence is a list of steps run in order on one server; run_pair runs it on the
reference and the target at the same time. Steps refer to earlier responses of the same
server through captures ({m0}, {x2-999}, ...), see Req.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import re
import threading
import time

from .harness import FORM, Response, Server, build_request, exchange

#: longest wait for a watch's response headers (the server registered the watcher by then)
WATCH_READY_S = 5.0

# ---------------------------------------------------------------- steps

@dataclasses.dataclass(frozen=True)
class Req:
    """One request. target/body may hold {p} (the sequence's key prefix) and captures:
    {mN} node.modifiedIndex, {cN} node.createdIndex, {xN} X-Etcd-Index, {kN} node.key
    of step N's response, optionally with +k/-k ({x3+1})."""
    method: str
    target: str
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    shape: bool = False                 # compare JSON structure only (stats, members, ...)
    only_prefix: bool = False           # root listings: keep only this sequence's subtree
    timeout: float = 5.0


@dataclasses.dataclass(frozen=True)
class Watch:
    """Start a request in the background (a watch); its response is compared where it
    stands in the sequence. lines=N: a stream watch, cut after N events."""
    name: str
    target: str
    lines: int | None = None
    timeout: float = 6.0


@dataclasses.dataclass(frozen=True)
class Collect:
    name: str


@dataclasses.dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclasses.dataclass(frozen=True)
class Bulk:
    """Many writes, one connection each, only their statuses checked (history filler)."""
    count: int
    target: str
    body: str = "value=x"


def get(target, **kw):
    return Req("GET", "/v2/keys" + target, **kw)


def put(target, body="", **kw):
    return Req("PUT", "/v2/keys" + target, body, kw.pop("headers", FORM), **kw)


def post(target, body="", **kw):
    return Req("POST", "/v2/keys" + target, body, kw.pop("headers", FORM), **kw)


def delete(target, **kw):
    return Req("DELETE", "/v2/keys" + target, **kw)


def req(method, target, body="", **kw):
    return Req(method, target, body, **kw)


# ---------------------------------------------------------------- running

_CAPTURE = re.compile(r"\{(p|[mcxk]\d+)([+-]\d+)?\}")


def _capture(resp: Response | None, what: str) -> str:
    if resp is None:
        return "CAPTURE-MISSING"
    if what == "x":
        return resp.header("X-Etcd-Index") or "CAPTURE-MISSING"
    try:
        node = json.loads(resp.body.splitlines()[0])["node"]
        return str(node[{"m": "modifiedIndex", "c": "createdIndex", "k": "key"}[what]])
    except (ValueError, KeyError, IndexError, TypeError):
        return "CAPTURE-MISSING"


def expand(text: str, prefix: str, results: list) -> str:
    def sub(m):
        if m.group(1) == "p":
            return prefix
        value = _capture(results[int(m.group(1)[1:])], m.group(1)[0])
        if m.group(2) and value.isdigit():
            value = str(int(value) + int(m.group(2)))
        return value
    return _CAPTURE.sub(sub, text)


def run_sequence(server: Server, steps, prefix: str) -> list:
    """Run steps in order on one server; one entry per step (None for Sleep/Bulk)."""
    results: list = []
    pending: dict[str, tuple[concurrent.futures.Future, int]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for step in steps:
            if isinstance(step, Req):
                body = expand(step.body, prefix, results).encode()
                raw = build_request(server.port, step.method,
                                    expand(step.target, prefix, results), step.headers, body)
                results.append(exchange(server.port, raw, head=step.method == "HEAD",
                                        timeout=step.timeout))
            elif isinstance(step, Watch):
                raw = build_request(server.port, "GET",
                                    expand(step.target, prefix, results), (), b"")
                ready = threading.Event()
                fut = pool.submit(exchange, server.port, raw, timeout=step.timeout,
                                  stop_after_lines=step.lines, on_headers=ready)
                # Later steps write; the watcher must be registered by then. Both servers
                # register it before the response headers go out (etcd's handleKeyWatch
                # writes them after store.Watch; trionode's _WatchStream registers when made),
                # so headers back, or the whole reply (history, error), is the condition.
                if not ready.wait(WATCH_READY_S):
                    raise AssertionError(f"{server.label} {server.kind}: watch {step.name!r} "
                                         f"sent no headers within {WATCH_READY_S}s")
                pending[step.name] = (fut, len(results))
                results.append(None)
            elif isinstance(step, Collect):
                fut, at = pending.pop(step.name)
                results[at] = fut.result()
                results.append(None)
            elif isinstance(step, Sleep):
                time.sleep(step.seconds)
                results.append(None)
            elif isinstance(step, Bulk):
                target = expand(step.target, prefix, results)
                statuses = set()
                for _ in range(step.count):
                    raw = build_request(server.port, "PUT", target, FORM, step.body.encode())
                    statuses.add(exchange(server.port, raw).status)
                results.append(statuses)
            else:
                raise TypeError(step)
        for name, (fut, at) in pending.items():
            results[at] = fut.result()
    return results


def run_pair(ref: Server, tgt: Server, steps, prefix: str) -> tuple[list, list]:
    """Run the sequence on both servers at once (halves the time of sleeping steps)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        a = pool.submit(run_sequence, ref, steps, prefix)
        b = pool.submit(run_sequence, tgt, steps, prefix)
        return a.result(), b.result()
