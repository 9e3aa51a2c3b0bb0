"""The nemesis: seeded faults alternating with quiet periods, bounded by the run's deadline.

Choosing a fault is pure (`plan`: a seeded random.Random, the node names and the leader
in, a Fault out); applying it is the edge (`Nemesis.run`). Given the same observations
(which node leads) the same seed makes the same choices; which node leads depends on
timing, so two runs with one seed are alike, not identical.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
import time
from collections.abc import Sequence

import trio

from .cluster import Cluster
from .firewall import Firewall
from .membership import Membership

__all__ = ["Fault", "Nemesis", "plan", "NEEDS_LEADER"]

NEEDS_LEADER = frozenset({"kill-leader", "pause", "partition-leader", "members"})
RESTART_ALL_DOWN = (0.5, 2.0)   # seconds all nodes stay dead in restart-all
CRASH_POLL = 0.5                # seconds between checks for nodes that died on their own
MEMBERS_LEADER = 0.25           # how often the members nemesis removes the leader
HEAL_REJOIN = 15.0              # seconds the final heal gives a removed node to rejoin


@dataclasses.dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    stopped: tuple[str, ...] = ()                 # nodes killed or paused
    cuts: tuple[tuple[str, str], ...] = ()        # node pairs that cannot talk

    def describe(self) -> str:
        if self.cuts:
            return f"{self.kind} " + " ".join(f"{a}|{b}" for a, b in self.cuts)
        return f"{self.kind} {','.join(self.stopped)}"


def _between(side_a: Sequence[str], side_b: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(tuple(sorted(p)) for p in itertools.product(side_a, side_b)))


def plan(kind: str, rng: random.Random, names: Sequence[str], leader: str | None) -> Fault:
    """The fault of `kind` to inject now (a random node stands in for an unknown leader)."""
    names = list(names)
    target = leader if leader is not None else rng.choice(names)
    if kind == "kill":
        return Fault(kind, stopped=(rng.choice(names),))
    if kind == "kill-leader":
        return Fault(kind, stopped=(target,))
    if kind == "pause":
        return Fault(kind, stopped=(target if rng.random() < 0.5 else rng.choice(names),))
    if kind == "restart-all":
        return Fault(kind, stopped=tuple(names))
    if kind == "members":
        others = [n for n in names if n != leader]
        pick = rng.random() < MEMBERS_LEADER
        return Fault(kind, stopped=(target if pick or not others else rng.choice(others),))
    if kind == "partition-leader":
        return Fault(kind, cuts=_between([target], [n for n in names if n != target]))
    rng.shuffle(names)
    if kind == "partition":
        k = rng.randint(1, (len(names) - 1) // 2)
        return Fault(kind, cuts=_between(names[:k], names[k:]))
    if kind == "bridge":
        # names[0] sees both halves; the halves do not see each other
        half = (len(names) - 1) // 2
        return Fault(kind, cuts=_between(names[1:1 + half], names[1 + half:]))
    raise ValueError(f"unknown nemesis {kind!r}")


class Nemesis:
    """Injects and repairs faults; `events` is the timeline for the report."""

    def __init__(self, cluster: Cluster, firewall: Firewall, kinds: Sequence[str],
                 rng: random.Random, quiet: tuple[float, float],
                 length: tuple[float, float], epoch: float,
                 members_rng: random.Random | None = None) -> None:
        self._cluster, self._firewall = cluster, firewall
        self._kinds, self._rng = tuple(kinds), rng
        self._quiet, self._length = quiet, length
        self._epoch = epoch
        self.events: list[dict] = []
        self.current = "quiet"
        self.faults = 0
        self.crashes: list[str] = []
        self._killed: set[str] = set()        # nodes down on purpose right now
        # nodes the members nemesis took out and has not brought back (in _killed too);
        # its own random source, so that retries do not shift the seeded fault choices
        self._out: set[str] = set()
        self._membership = Membership(cluster, members_rng or random.Random(0), self._log,
                                      findings=self.crashes)

    def _log(self, event: str, detail: str) -> None:
        self.events.append({"t": round(time.monotonic() - self._epoch, 3), "event": event,
                            "detail": detail})

    async def run(self, deadline: float) -> None:
        """Quiet, fault, repair, ... until `deadline` (time.monotonic())."""
        while True:
            await trio.sleep_until(_trio_at(min(deadline, time.monotonic()
                                                + self._rng.uniform(*self._quiet))))
            if time.monotonic() >= deadline:
                return
            for name in sorted(self._out):      # a rejoin that did not finish last time
                await self._bring_back(name, "a later retry")
            kind = self._rng.choice(self._kinds)
            leader = await self._cluster.leader() if kind in NEEDS_LEADER else None
            fault = plan(kind, self._rng, [s.name for s in self._cluster.specs], leader)
            length = self._rng.uniform(*self._length)
            self.current, self.faults = fault.describe(), self.faults + 1
            self._log("start", fault.describe() + (f" (leader {leader})" if leader else ""))
            await self._inject(fault)
            await trio.sleep_until(_trio_at(min(deadline, time.monotonic() + length)))
            await self._repair(fault)
            self._log("end", fault.describe())
            self.current = "quiet"

    async def _inject(self, fault: Fault) -> None:
        if fault.kind == "members":
            await self._take_out(fault.stopped[0])
        elif fault.cuts:
            specs = {s.name: s for s in self._cluster.specs}
            await self._firewall.cut([(specs[a], specs[b]) for a, b in fault.cuts])
        elif fault.kind == "pause":
            for name in fault.stopped:
                self._cluster.node(name).pause()
        else:
            for name in fault.stopped:
                self._killed.add(name)
                await self._cluster.node(name).kill()
            if fault.kind == "restart-all":
                await trio.sleep(self._rng.uniform(*RESTART_ALL_DOWN))
                self._restart(fault.stopped)

    async def _repair(self, fault: Fault) -> None:
        if fault.kind == "members":
            await self._bring_back(fault.stopped[0], "end of fault")
            return
        if fault.cuts:
            await self._firewall.heal()
        for name in fault.stopped:
            self._cluster.node(name).resume()
        self._restart(fault.stopped)

    async def _take_out(self, name: str) -> None:
        self._killed.add(name)     # from now on its exit is expected
        self._out.add(name)
        removed, why = await self._membership.remove(name)
        if not removed:            # never removed: still a member and running
            self._out.discard(name)
            self._killed.discard(name)
            self._log("skip", f"{name} not removed within the bound: {why}")

    async def _bring_back(self, name: str, when: str, bound: float | None = None) -> bool:
        if name not in self._out:
            return True
        back, why = await (self._membership.rejoin(name) if bound is None
                           else self._membership.rejoin(name, bound))
        if back:
            self._out.discard(name)
            self._killed.discard(name)
        else:
            self._log("stuck", f"{name} not back at {when}: {why}")
        return back

    def _restart(self, names: Sequence[str]) -> None:
        for name in names:
            if name in self._out:  # only a rejoin may start it (its data dir is gone)
                continue
            node = self._cluster.node(name)
            if not node.alive():
                node.start()
            self._killed.discard(name)

    async def heal_all(self) -> None:
        """End of run: no cut, nobody paused, everybody running."""
        self.check_crashes()
        await self._firewall.heal()
        for node in self._cluster.nodes:
            node.resume()
        for name in sorted(self._out):
            if not await self._bring_back(name, "the final heal", HEAL_REJOIN):
                self.crashes.append(f"{name} never rejoined the cluster after its removal")
                self._log("crash", self.crashes[-1])
        self._restart([s.name for s in self._cluster.specs])
        self.current = "healed"
        self._log("heal", "all")

    async def watch_crashes(self) -> None:
        while True:
            await trio.sleep(CRASH_POLL)
            self.check_crashes()

    def check_crashes(self) -> None:
        """A node that died without being killed is a finding: logged, kept, restarted."""
        for node in self._cluster.nodes:
            name = node.spec.name
            if node.proc is not None and not node.alive() and name not in self._killed:
                self.crashes.append(f"{name} exited by itself (status {node.proc.returncode})")
                self._log("crash", self.crashes[-1])
                node.start()


def _trio_at(monotonic_time: float) -> float:
    """A time.monotonic() instant on trio's clock (trio's clock need not share its origin)."""
    return trio.current_time() + (monotonic_time - time.monotonic())
