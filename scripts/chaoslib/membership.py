"""The members nemesis's two halves: take a node out of the cluster through the members API,
and bring it back as a new member.

Out: DELETE /v2/members/<id> on a random running member, then the removed process must stop
by itself (SIGKILL after EXIT_WAIT), then its data dir is wiped. Back: POST /v2/members with
the same peer URL (the member gets a new id and no name until it starts), then the node is
restarted with --initial-cluster-state existing and --initial-cluster = the current members
(their names and peer URLs) and itself; its name does not change.

A change can be refused for a while: another change is still being applied, there is no
leader ("request timed out", a 5xx), or etcd's strict reconfiguration check finds the
cluster not healthy enough yet (503). Each half retries until CHANGE_BOUND. A request that
timed out may still have been applied, so before every attempt the member list is read
again and the state it shows decides what is left to do: both halves are idempotent, and
`rejoin` also repairs whatever state an interrupted removal left behind.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable, Sequence

import trio

from trionode.client import ClientError, Member

from .cluster import Cluster, initial_cluster

__all__ = ["Membership", "CHANGE_BOUND"]

CHANGE_BOUND = 20.0             # seconds of retries for one removal or one rejoin
RETRY_PAUSE = (0.3, 1.0)        # seconds between two attempts
EXIT_WAIT = 10.0                # seconds a removed member has to stop by itself


class Membership:
    """Removes and re-adds nodes. `log(event, detail)` feeds the nemesis timeline;
    `findings` collects what the server did wrong (a removed member that failed to stop
    cleanly)."""

    def __init__(self, cluster: Cluster, rng: random.Random,
                 log: Callable[[str, str], None], findings: list[str]) -> None:
        self._cluster, self._rng, self._log = cluster, rng, log
        self.findings = findings
        self._fresh: str | None = None      # the node whose member list is newest

    def _askable(self, avoid: Sequence[str] = ()) -> list[str]:
        return [n.spec.name for n in self._cluster.nodes
                if n.alive() and not n.paused and n.spec.name not in avoid]

    def _me(self, members: Sequence[Member], name: str) -> Member | None:
        url = self._cluster.node(name).spec.peer_url
        return next((m for m in members if url in m.peer_urls), None)

    async def _members(self, avoid: Sequence[str]) -> list[Member] | None:
        """The member list, preferably from the node that made the last change (a lagging
        node may not have applied it yet); None when no node answers."""
        names = self._askable(avoid)
        self._rng.shuffle(names)
        if self._fresh in names:
            names.remove(self._fresh)
            names.insert(0, self._fresh)
        for name in names:
            try:
                members = await self._cluster.admin(name).members()
            except ClientError:
                continue
            self._fresh = name
            return members
        return None

    async def remove(self, name: str) -> tuple[bool, str]:
        """Remove `name`, wait for its process to end, wipe its data dir.

        (False, why) when the cluster did not remove it within CHANGE_BOUND: it is then
        still a member and still running, untouched.
        """
        deadline = trio.current_time() + CHANGE_BOUND
        why, refused = "no member answered", 0
        while True:
            members = await self._members(avoid=())
            if members is not None:
                me = self._me(members, name)
                if me is None:              # an earlier attempt was applied after all
                    self._log("remove", f"{name}: gone from the member list{_after(refused, why)}")
                    break
                via = self._rng.choice(self._askable())
                try:
                    await self._cluster.admin(via).remove_member(me.id)
                except ClientError as exc:
                    why, refused = f"DELETE {me.id} via {via}: {_text(exc)}", refused + 1
                else:
                    self._fresh = via if via != name else None
                    self._log("remove", f"{name} (id {me.id}) via {via}{_after(refused, why)}")
                    break
            if trio.current_time() >= deadline:
                return False, why
            await trio.sleep(self._rng.uniform(*RETRY_PAUSE))
        await self._stop(name)
        shutil.rmtree(self._cluster.node(name).data_dir, ignore_errors=True)
        return True, ""

    async def _stop(self, name: str) -> None:
        """The removed member must stop by itself, with status 0; SIGKILL after EXIT_WAIT."""
        node = self._cluster.node(name)
        with trio.move_on_after(EXIT_WAIT):
            while node.alive():
                await trio.sleep(0.05)
        if node.alive():
            await node.kill()
            self.findings.append(f"{name} kept running {EXIT_WAIT:g}s after its removal "
                                 f"(killed)")
            self._log("kill", self.findings[-1])
        elif node.proc is not None:
            status = node.proc.returncode
            self._log("exit", f"{name} stopped by itself, status {status}")
            if status != 0:
                self.findings.append(f"{name} exited with status {status} after its removal")

    async def rejoin(self, name: str, bound: float = CHANGE_BOUND) -> tuple[bool, str]:
        """Make `name` a member again and running: whatever state it is in (still a member,
        removed with its process still up, removed and wiped, added but not started),
        finish the way back. (False, why) when that took longer than `bound`."""
        node = self._cluster.node(name)
        deadline = trio.current_time() + bound
        why, refused = "no member answered", 0
        while True:
            members = await self._members(avoid=(name,))
            if members is not None:
                me = self._me(members, name)
                if me is None:              # removed: make sure it is down and empty, add it
                    if node.alive():
                        await self._stop(name)
                    shutil.rmtree(node.data_dir, ignore_errors=True)
                    via = self._rng.choice(self._askable(avoid=(name,)) or [None])
                    if via is not None:
                        try:
                            me = await self._cluster.admin(via).add_member(node.spec.peer_url)
                        except ClientError as exc:
                            why = f"POST {node.spec.peer_url} via {via}: {_text(exc)}"
                            refused += 1
                        else:
                            self._fresh = via
                            self._log("add", f"{name} (new id {me.id}) via {via}"
                                      + _after(refused, why))
                            members = [*members, me]
                if me is not None:
                    if node.alive():
                        return True, ""     # a member, running
                    if not me.name:         # added, not started yet: join
                        self._cluster.set_join_argv(name, self._initial_cluster(members, name))
                        node.start()
                        self._log("join", f"{name} restarted with state existing")
                        return True, ""
                    # named but not running: a list from before the removal; ask again
                    why = f"{self._fresh} still lists {name} (id {me.id}) as started"
            if trio.current_time() >= deadline:
                return False, why
            await trio.sleep(self._rng.uniform(*RETRY_PAUSE))

    def _initial_cluster(self, members: Sequence[Member], name: str) -> str:
        by_url = {n.spec.peer_url: n.spec.name for n in self._cluster.nodes}
        pairs = []
        for member in members:
            url = member.peer_urls[0]
            pairs.append((member.name or by_url.get(url, name), url))
        return initial_cluster(pairs)


def _after(refused: int, why: str) -> str:
    return f", after {refused} failed attempt(s), the last {why}" if refused else ""


def _text(exc: ClientError) -> str:
    return " ".join(str(exc).split())[:200]
