"""One measured run: fork the generator processes, open the window, sample CPU, merge.

Timeline (monotonic clock, shared by every process):
  workers build their requests and dial every connection, then report ready;
  t0 = start sending; [t_from, t_to] = the measured window after `warmup`;
  `until` = t_to + `drain` (a watch lets its watchers catch up), then results come back.
CPU is sampled at t_from and t_to: the nodes under test, the generator processes and the
whole machine (/proc/stat), so a run says how much of the two cores each of them had and
how much went to something else (the other cluster idling, other users of the machine).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from . import engine
from .hist import Histogram
from .servers import CLOCK_TICKS, client_context, cpu_seconds

__all__ = ["EngineJob", "Job", "Measured", "RunError", "Window", "run"]

READY_TIMEOUT = 120.0
RESULT_GRACE = 60.0
CPUS = os.cpu_count() or 1



class Job(Protocol):
    """One generator process's share of a run (the connections of its slots)."""
    done: int                                       # replies so far, for the progress line

    def connect(self) -> None: ...
    def window(self, t_from: float, t_to: float) -> None: ...
    def drive(self, until: float, report: Callable[[], None]) -> int: ...  # -> reconnects
    def result(self) -> dict: ...                   # {"hist": wire form, "counts": {...}}


class EngineJob:
    """A Workload on the epoll engine (the default driver). `tls`: the run's certificates
    (bench --tls); the ssl context is made in the generator process itself."""

    def __init__(self, workload: engine.Workload, slots: list[int],
                 targets: Sequence[tuple[str, int]], tls=None) -> None:
        self.workload, self.slots, self.targets, self.tls = workload, slots, targets, tls
        self.conns: list = []

    @property
    def done(self) -> int:
        return self.workload.done

    def connect(self) -> None:
        self.conns = engine.connect(self.slots, self.targets, client_context(self.tls))

    def window(self, t_from: float, t_to: float) -> None:
        self.workload.window(t_from, t_to)

    def drive(self, until: float, report: Callable[[], None]) -> int:
        return engine.drive(self.workload, self.conns, until, report)

    def result(self) -> dict:
        return self.workload.result()


Factory = Callable[[int, list[int]], Job]       # (process index, its slots) -> its job


class RunError(Exception):
    """A generator process failed or did not report in time."""


@dataclass(frozen=True, slots=True)
class Window:
    warmup: float
    duration: float
    drain: float = 0.0


@dataclass
class Measured:
    ops: int                        # replies inside the window
    latency_ms: dict[str, float | None]   # p50, p99, p999, mean
    counts: Counter
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)   # percent of the whole machine


def latency_ms(hist: Histogram) -> dict[str, float | None]:
    got = {"p50": hist.percentile(50), "p99": hist.percentile(99),
           "p999": hist.percentile(99.9), "mean": hist.mean()}
    return {k: None if v is None else round(v * 1000, 3) for k, v in got.items()}


def cpu_shares(before, after, seconds: float) -> dict[str, float]:
    """Percent of the whole machine (all cores) used by servers, generator and the rest."""
    servers, generator, busy = (b - a for a, b in zip(before, after))
    scale = 100.0 / (seconds * CPUS)
    cpu = {"servers": servers * scale, "generator": generator * scale,
           "other": max(busy - servers - generator, 0.0) * scale}
    return {k: round(v, 1) for k, v in cpu.items()}


def _machine_busy() -> float:
    """Seconds of CPU the whole machine spent not idle since boot."""
    with open("/proc/stat") as stat:
        ticks = [int(x) for x in stat.readline().split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / CLOCK_TICKS


def sample(server_pids: Sequence[int], worker_pids: Sequence[int]) -> tuple[float, float, float]:
    return (sum(cpu_seconds(p) for p in server_pids),
            sum(cpu_seconds(p) for p in worker_pids), _machine_busy())


def _worker(process: int, factory: Factory, mine: list[int], pipe, progress) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # the coordinator ends us, by PID
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        job = factory(process, mine)
        job.connect()
        pipe.send(("ready", None))
        t0, t_from, t_to, until = pipe.recv()
        job.window(t_from, t_to)
        time.sleep(max(t0 - time.monotonic(), 0.0))

        def report() -> None:
            progress[process] = job.done
        reconnects = job.drive(until, report)
        result = job.result()
        result["reconnects"] = reconnects
        pipe.send(("result", result))
    except Exception as exc:   # noqa: BLE001 - shipped to the coordinator, which raises it
        pipe.send(("error", f"{type(exc).__name__}: {exc}"))


def _receive(pipe, deadline: float, what: str):
    if not pipe.poll(max(deadline - time.monotonic(), 0.0)):
        raise RunError(f"a generator process did not send {what} in time")
    kind, value = pipe.recv()
    if kind == "error":
        raise RunError(f"generator process failed: {value}")
    return value


def run(factory: Factory, slots: int, procs: int, window: Window, server_pids: Sequence[int],
        show: Callable[[int, float, float], None]) -> Measured:
    """Run `slots` connections split over `procs` processes; show(done, elapsed, total)."""
    ctx = mp.get_context("fork")
    procs = max(1, min(procs, slots))
    progress = ctx.RawArray("q", procs)
    pipes, workers = [], []
    try:
        for p in range(procs):
            mine = [s for s in range(slots) if s % procs == p]
            parent, child = ctx.Pipe()
            worker = ctx.Process(target=_worker, daemon=True,
                                 args=(p, factory, mine, child, progress))
            worker.start()
            child.close()
            pipes.append(parent)
            workers.append(worker)
        ready_by = time.monotonic() + READY_TIMEOUT
        for pipe in pipes:
            _receive(pipe, ready_by, "ready")
        t0 = time.monotonic() + 0.05
        t_from = t0 + window.warmup
        t_to = t_from + window.duration
        until = t_to + window.drain
        for pipe in pipes:
            pipe.send((t0, t_from, t_to, until))
        pids = [w.pid for w in workers]
        total = until - t0

        def wait_until(when: float) -> float:
            """Sleep until `when`, or until every worker is done (a Load completes early)."""
            while (now := time.monotonic()) < when and not all(p.poll() for p in pipes):
                show(sum(progress), now - t0, total)
                time.sleep(min(0.2, when - now))
            return min(time.monotonic(), when)
        started = wait_until(t_from)
        before = sample(server_pids, pids)
        ended = wait_until(t_to)
        after = sample(server_pids, pids)
        results = [_receive(pipe, until + RESULT_GRACE, "its result") for pipe in pipes]
    finally:
        for worker in workers:
            worker.join(1.0)            # done: it exits once its result is sent
            if worker.is_alive():
                worker.terminate()
                worker.join(5)
        for pipe in pipes:
            pipe.close()
    return _merge(results, t_from, max(ended - started, 1e-3), before, after)


def _merge(results: list[dict], t_from: float, seconds: float, before, after) -> Measured:
    """Sum the workers' parts. A watch counts its events until the last one arrived."""
    hist = Histogram()
    counts: Counter = Counter()
    for result in results:
        hist.merge(Histogram.from_wire(result["hist"]))
        counts.update(result["counts"])
        counts["reconnects"] += result["reconnects"]
    if not counts["reconnects"]:
        del counts["reconnects"]
    cpu = cpu_shares(before, after, seconds)
    ends = [r["span_end"] for r in results if "span_end" in r]
    if ends:
        seconds = max(max(ends) - t_from, seconds)
    return Measured(hist.total, latency_ms(hist), counts, seconds, cpu)
