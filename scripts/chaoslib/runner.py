"""The run inside the namespace: start the cluster, load it while the nemesis strikes, heal
and read the final state (all in trio), then check and report (plain code, after trio).

Phases are bounded: setup by SETUP_TIMEOUT, load by --duration, settling by
--converge-timeout, the checker by --check-timeout. SIGINT/SIGTERM (forwarded by the outer
process) ends the current phase: the first during the load skips to settling and
reporting what was gathered; another one skips settling too. Whatever happens, every node
process is killed by PID before this returns.
"""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import tlsfiles  # scripts/tlsfiles.py: scripts/ is on the path
import trio

from .checker import check_queue, check_registers
from .cluster import Cluster, node_specs
from .final import FinalState, settle
from .firewall import Firewall, FirewallError
from .history import write_history
from .nemesis import Nemesis
from .options import NAMESPACE_PREFIX, SETUP_TIMEOUT, Options
from .progress import Progress
from .report import Outcome, write_reports
from .workload import Workload

__all__ = ["run_inside"]

LEADER_POLL = 1.0


@dataclasses.dataclass(slots=True)
class Gathered:
    ops: list = dataclasses.field(default_factory=list)
    events: list = dataclasses.field(default_factory=list)
    crashes: list = dataclasses.field(default_factory=list)
    errors: list = dataclasses.field(default_factory=list)
    final: FinalState | None = None
    ran: float = 0.0
    interrupted: bool = False


class Phases:
    """The scope of the running phase, for the signal handler to cancel."""

    def __init__(self) -> None:
        self.scope: trio.CancelScope | None = None
        self.signals = 0

    async def watch(self) -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM, signal.SIGHUP) as received:
            async for _ in received:
                self.signals += 1
                if self.scope is not None:
                    self.scope.cancel()


async def _watch_leader(cluster: Cluster, box: list) -> None:
    while True:
        box[0] = await cluster.leader()
        await trio.sleep(LEADER_POLL)


async def _load(opts: Options, cluster: Cluster, firewall: Firewall, phases: Phases,
                got: Gathered) -> Nemesis:
    leader: list = [await cluster.leader()]
    epoch = time.monotonic()
    workload = Workload(cluster.specs, clients=opts.clients, registers=opts.registers,
                        rate=opts.rate, timeout=opts.timeout, unsafe_reads=opts.unsafe_reads,
                        seed=opts.seed, leader=lambda: leader[0],
                        ssl_context=cluster.ssl_context)
    nemesis = Nemesis(cluster, firewall, opts.nemeses, random.Random(opts.seed),
                      opts.quiet, opts.fault, epoch,
                      members_rng=random.Random(f"{opts.seed}/members"))
    # the same lists: whatever ends the load, what was gathered is reported
    got.ops, got.events, got.crashes = workload.ops, nemesis.events, nemesis.crashes
    progress = Progress(sys.stderr, workload, nemesis, lambda: leader[0], epoch, opts.duration)
    with trio.CancelScope() as phases.scope:
        phases.scope.deadline = trio.current_time() + opts.duration
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch_leader, cluster, leader)
            nursery.start_soon(progress.run)
            nursery.start_soon(nemesis.watch_crashes)
            nursery.start_soon(workload.run)
            await nemesis.run(epoch + opts.duration)
            await trio.sleep_forever()      # until the deadline (or a signal)
    got.ran = time.monotonic() - epoch
    got.interrupted = phases.signals > 0
    return nemesis


async def _gather(opts: Options, out: Path, token: str, got: Gathered) -> None:
    phases = Phases()
    specs = node_specs(opts.nodes, "https" if opts.tls else "http")
    tls = None
    if opts.tls:    # one certificate for every node: it names all their hosts
        tls = tlsfiles.make(out / "tls", [*tlsfiles.DEFAULT_HOSTS, *(s.host for s in specs)])
    cluster = Cluster(specs, opts.node_command, out, token, tls)
    firewall = Firewall()
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(phases.watch)
            _say(f"starting {opts.nodes} {opts.server} nodes; logs in {out}")
            with trio.CancelScope() as phases.scope:
                await firewall.install()
                cluster.start_all()
                if not await cluster.wait_agreed(SETUP_TIMEOUT):
                    got.errors.append(f"the cluster did not elect a leader within "
                                      f"{SETUP_TIMEOUT:.0f}s (see the node logs in {out})")
            if phases.scope.cancelled_caught:
                got.errors.append("interrupted during setup")
            if not got.errors:
                nemesis = await _load(opts, cluster, firewall, phases, got)
                if phases.signals < 2:
                    _say("healing, waiting for convergence, reading every node")
                    with trio.CancelScope() as phases.scope:
                        got.final = await settle(cluster, nemesis, token, opts.converge_timeout)
            nursery.cancel_scope.cancel()
    except* FirewallError as group:
        got.errors.extend(str(exc) for exc in group.exceptions)
    finally:
        cluster.kill_all_now()
        with trio.CancelScope(shield=True):
            await cluster.aclose()


def _say(text: str) -> None:
    print(f"chaos: {text}", file=sys.stderr, flush=True)


def _check(opts: Options, got: Gathered) -> tuple[tuple, object | None]:
    # each checker takes only the kinds of operation it checks
    verdicts = tuple(check_registers(got.ops, deadline=time.monotonic() + opts.check_timeout))
    queue_state = got.final.queue if got.final is not None else None
    queue = check_queue(got.ops, queue_state) if queue_state is not None else None
    return verdicts, queue


def _in_own_namespace() -> bool:
    # iptables rules must never land in the host's firewall: only run inside a namespace
    # named as netns.py names them
    try:
        name = subprocess.run(["ip", "netns", "identify", str(os.getpid())],
                              capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return name.startswith(NAMESPACE_PREFIX)


def run_inside(opts: Options) -> int:
    """The whole run; the exit status (0 pass, 1 a check failed, 2 could not run, 130 cut
    short by a signal)."""
    if not _in_own_namespace():
        print("chaos: --inside is only for the namespace scripts/chaos creates", file=sys.stderr)
        return 2
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    got = Gathered()
    trio.run(_gather, opts, out, f"chaos-{os.getpid()}-{opts.seed}", got)
    ops = sorted(got.ops, key=lambda op: op.invoke)
    write_history(out / "history.jsonl", ops)
    for signum in (signal.SIGTERM, signal.SIGHUP):   # like SIGINT from here on
        signal.signal(signum, signal.default_int_handler)
    _say(f"checking {len(ops)} operations")
    try:
        verdicts, queue = _check(opts, got)
    except KeyboardInterrupt:            # a signal while checking: report without verdicts
        verdicts, queue = (), None
        got.errors.append("interrupted during the check")
    outcome = Outcome(
        label=f"{opts.server} nodes={opts.nodes} nemesis={opts.nemesis_label} seed={opts.seed}"
              + (" unsafe-reads" if opts.unsafe_reads else "") + (" tls" if opts.tls else ""),
        planned=opts.duration, ran=got.ran, interrupted=got.interrupted, ops=tuple(ops),
        verdicts=verdicts, queue=queue, final=got.final, crashes=tuple(got.crashes),
        events=tuple(got.events), errors=tuple(got.errors))
    summary = write_reports(out, outcome, dataclasses.asdict(opts))
    print(summary, flush=True)
    _say(f"history, reports and node logs: {out}")
    if got.errors:
        return 2
    if not outcome.passed:
        return 1
    return 130 if got.interrupted else 0
