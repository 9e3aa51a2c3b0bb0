"""trionodectl against the real etcdctl: the same command lines, the same output.

Every case of ctlcases.py runs twice on the same server: once through `etcdctl`
(ETCDCTL_API=2, other ETCDCTL_* variables removed) and once through the tool under test
(`python -m trionode.ctl`), each run under its own key prefix. Exit code, stdout and
stderr must match after normalization (ctlrun.py: symbolic indexes, TTL tolerance, the
prefix and ports masked, `ls` lines sorted). Watches run in the background with a
concurrent writer. The server is a trionode node, and (second parametrization) the
reference etcd 3.4 when installed.

Documented superset: with `-o extended` trionodectl also prints Etcd-Index, Raft-Index
and Raft-Term after `Index:`; they are checked (Etcd-Index == Index) and then dropped.
Help and usage errors are compared by exit code only. Cases that never reach a server
(unreachable endpoints, usage errors, 1ns timeouts) run in the trionode parametrization
only, with {url} a port that accepts connections and never answers.

TRIONODE_CTL_UNDER_TEST=etcdctl swaps trionodectl for etcdctl itself: every case must then
pass, which proves the harness (no flaky normalization, no ordering races).
TRIONODE_COMPAT_TARGET=etcd (harness.py) makes the "trionode" server a second etcd.

All cases of one server run one at a time in a background thread (global indexes show in
error lines, so runs must not interleave); the two servers run at the same time.
"""

from __future__ import annotations

import concurrent.futures
import difflib
import shutil
import socket

import pytest
from requirements import missing, require_tool

from . import harness
from .ctlcases import CASES
from .ctlrun import ETCDCTL, Put, Tool, Where, normalize_run, run_case, tool_under_test

pytestmark = pytest.mark.compat

SERVERS = ("trionode", "etcd")


class Runner:
    """The selected cases on one server, both tools, one run at a time, in the background."""

    def __init__(self, server: harness.Server, names: list[str], dut: Tool, dead: str,
                 silent: str):
        self.server, self.dut, self.dead, self.silent = server, dut, dead, silent
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        by_name = {k.name: k for k in CASES}
        self.futures = {n: self.pool.submit(self._both, by_name[n]) for n in names}

    def where(self, tool: Tool, label: str, case) -> Where:
        # An offline case must not reach a server, so it gets one that never answers: even a
        # tool that does connect (etcdctl with a 1ns timeout on a busy machine sometimes
        # does) can then only time out, as the other run did.
        url = self.silent if case.offline else self.server.url
        return Where(url, tool, f"/ctl-{label}-{case.name}", self.dead)

    def _both(self, case):
        ref, dut = self.where(ETCDCTL, "ref", case), self.where(self.dut, "dut", case)
        return (ref, run_case(case.steps, ref)), (dut, run_case(case.steps, dut))

    def result(self, name: str):
        return self.futures[name].result(timeout=120)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _selected(request) -> dict[str, list[str]]:
    """Which (server, case) pairs this session will run, so -k runs only those."""
    wanted: dict[str, list[str]] = {s: [] for s in SERVERS}
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        if getattr(item, "module", None) is request.module and spec is not None:
            server, case = spec.params["server"], spec.params["case"]
            if not (case.offline and server == "etcd"):
                wanted[server].append(case.name)
    return wanted


def _start(kind: str):
    """A server for one parametrization, or the reason there is none."""
    if kind == "etcd" and shutil.which("etcd") is None:
        return ("etcd is not on PATH: the reference-etcd parametrization needs etcd 3.4 "
                "(apt-get install etcd-server)")
    real = harness.target_kind() if kind == "trionode" else "etcd"
    try:
        return harness.start_server(f"ctl-{kind}", real, f"ctl{kind}")
    except RuntimeError as exc:
        return exc


@pytest.fixture(scope="module")
def runners(request):
    require_tool("etcdctl", "trionodectl is compared with the real etcdctl "
                            "(apt-get install etcd-client)")
    wanted, dut = _selected(request), tool_under_test()
    dead = f"http://127.0.0.1:{harness.free_port()}"
    kinds = [k for k in SERVERS if wanted[k]]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        started = dict(zip(kinds, pool.map(_start, kinds)))
    # listens (the kernel completes connections) but never accepts: nothing ever answers
    silent = socket.create_server(("127.0.0.1", 0))
    silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    found = {k: Runner(s, wanted[k], dut, dead, silent_url)
             if isinstance(s, harness.Server) else s for k, s in started.items()}
    try:
        yield found
    finally:
        for thing in found.values():
            if isinstance(thing, Runner):
                thing.close()
                thing.server.stop()
        silent.close()


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _describe(case, step_no: int, ref_n, dut_n, where_ref: Where, where_dut: Where) -> str:
    step = case.steps[step_no]
    diff = "\n".join(difflib.unified_diff(ref_n.text.splitlines(), dut_n.text.splitlines(),
                                          "etcdctl", where_dut.tool.name, lineterm="", n=2))
    ttls = "" if ref_n.ttls == dut_n.ttls else f"\n  ttls: {ref_n.ttls} vs {dut_n.ttls}"
    return (f"--- step {step_no}: {step.text()}\n  etcdctl:\n{_indent(ref_n.text)}\n"
            f"  {where_dut.tool.name}:\n{_indent(dut_n.text)}\n  diff:\n{_indent(diff)}{ttls}")


@pytest.mark.parametrize("case", CASES, ids=[k.name for k in CASES])
@pytest.mark.parametrize("server", SERVERS)
def test_same_output(server, case, runners):
    if case.offline and server == "etcd":
        pytest.skip("never reaches a server: the trionode parametrization covers it")
    runner = runners.get(server)
    if isinstance(runner, str):
        missing(runner)
    if isinstance(runner, Exception):
        pytest.fail(f"the {server} server could not start:\n{runner}", pytrace=False)
    (where_ref, ref), (where_dut, dut) = runner.result(case.name)
    a, b = normalize_run(case.steps, ref, where_ref), normalize_run(case.steps, dut, where_dut)
    problems = [_describe(case, i, x, y, where_ref, where_dut)
                for i, (x, y) in enumerate(zip(a, b)) if x is not None and not x.matches(y)]
    if problems:
        listing = "\n".join(f"  {i}: {s if isinstance(s, Put) else s.text()}"
                            for i, s in enumerate(case.steps))
        raise AssertionError(f"case {case.name!r} on {server} ({runner.server.url}): "
                             f"{len(problems)} command line(s) differ\nsteps:\n{listing}\n"
                             + "\n".join(problems))
