"""Wing & Gong's linearizability search for one register, with Lowe's memoization.

Theory (Wing & Gong 1993; Lowe, "Testing for linearizability", 2017; Horn & Kroening 2015).
A history is linearizable when its ops can be put in one sequence that the register model
accepts and that keeps real-time order: an op that completed before another was invoked
comes first. The search walks a list of call and return events sorted by time. At a search
node, the *candidates* are the calls before the first return still in the list (an op whose
return came first must be linearized before anything invoked after it). Linearizing a
candidate removes ("lifts") both of its events; backtracking puts them back (dancing links,
so undo is exact and in reverse order). Each configuration reached, (ops linearized, state),
goes into a cache and is never searched twice: what can follow depends on nothing else.

Ops come in two sorts (see checker.py for how an Op becomes a Call):
- required: "ok" ops; each must take effect between its invoke and its return;
- optional: "info" writes and cas; each may take effect at any point after its invoke,
  or never. They have no return event, so they never constrain the candidates.

Four reductions keep the search small. Each preserves the answer (proofs in the notes):
A. Greedy observers. A required read or failed cas that the current state allows is
   linearized at once, and nothing else is tried from that node.
B. Optional ops only on demand: only in a short chain that immediately enables a required
   candidate the current state blocks.
C. Dead values. A value is *live* while some unlinearized op may still compare with it.
   Optional ops that leave a value that is not live are interchangeable, so a blocked
   failed cas tries one of them, not each; in the cache key a state that is not live
   is replaced by DEAD.
D. Pinned states. While ops still need the current value and no op left can write it
   again, only an op that needs it itself, the last one, may change it.
Then allowed candidates are tried earliest return first: the order real time favours.

[note A] Let R be a candidate read (or failed cas) allowed in state s, and suppose the node
has a linearization in which R comes later. Move R to the front: R does not change the
state, so every op after it sees what it saw before. Real time still holds: any op Y that
R overtakes is unlinearized here, so R's invoke <= the first return <= Y's return.

[note B] Take any valid linearization L and an optional op o in it, followed by x. Either
x is allowed both before and after o (then swap them when x is a read or a failed cas,
or drop o when x is a write: x overwrites o, or when x is a successful cas: o then
changed nothing), or o did not change the state (drop o), or x *needs* o. Swaps move
optional ops later, which real time always permits (they have no return); an optional op
left at the end is dropped. Repeating, every optional op in L is immediately followed by an
op that needs it, so optional ops appear only in chains o_k..o_1 x ending at a required x
that the state before the chain blocks. A chain needing state v is a write v or a run of
cas ops from the current state; a run that revisits a value can be cut short, so no
chain repeats a value. A failed cas x blocked in s (s == expected) needs only a chain of
one: the first op of any chain already leaves s, and x changes nothing, so the rest of
the chain can move after x.

[note C] Liveness of v: some unlinearized required op reads v or is a cas (either result)
expecting v, or an optional cas expects v (the last is kept live forever: conservative).
On a search path a dead value stays dead, and no future op can tell two dead values apart:
so the cache may merge them. Two optional ops that both leave a dead value from state s
differ afterwards only in which of them is still unspent; an unspent write can do anything
an unspent cas can, so spending a cas first dominates, and among writes (or among cas from
s) any one will do. Within a group of optional ops with the same effect, only the
earliest-invoked unspent one is ever used: the others are available whenever it was.

[note D] Let s be the state, k > 0 unlinearized required ops still need it (reads of s,
cas expecting s) and no op that may write s is left (required, or optional unspent).
Each of the k must be linearized while the state is s, so before it next changes; after
any change, none of them can be. So a change is allowed only by a cas that is itself the
last of the k; otherwise the node can only linearize non-changing ops. This cuts wrong
orders of concurrent writes at once, rather than when a later read finds them out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["BLOCKED", "CAS", "CAS_FALSE", "READ", "WRITE", "Call", "Search", "SearchResult"]

READ, WRITE, CAS, CAS_FALSE = "read", "write", "cas", "cas-false"
BLOCKED = object()   # a model step the state does not allow
DEAD = object()      # cache key for a state no future op can observe
_CHECK_EVERY = 1024  # steps between deadline checks


@dataclass(frozen=True, slots=True)
class Call:
    """One op as the model sees it; `source` is the history Op (any object) for reports."""
    code: str            # READ | WRITE | CAS | CAS_FALSE
    arg: object          # READ: the value read; WRITE: the value; CAS/CAS_FALSE: expected
    new: object          # CAS: the new value
    invoke: float
    complete: float      # math.inf for an optional op
    source: object = field(compare=False)

    @property
    def output(self) -> object:
        """The value a write or a successful cas leaves."""
        return self.new if self.code is CAS else self.arg

    def step(self, state: object) -> object:
        """The state after this op, or BLOCKED."""
        code = self.code
        if code is WRITE:
            return self.arg
        if code is READ:
            return state if state == self.arg else BLOCKED
        if code is CAS:
            return self.new if state == self.arg else BLOCKED
        return state if state != self.arg else BLOCKED


@dataclass(slots=True)
class SearchResult:
    status: str                      # "linearizable" | "not linearizable" | "unknown"
    steps: int
    bound: str = ""                  # for unknown: which bound was hit
    blocker: Call | None = None      # the op whose return the search never got past
    # the states there -> (the Call that produced it, the ops still needing it while
    # nothing can write it again: why the state could not change)
    states: dict = field(default_factory=dict)
    linearized: int = 0              # most required ops linearized on one path


class Search:
    """One register: `required` and `optional` Calls, each list in any order. Run once."""

    def __init__(self, required: list[Call], optional: list[Call], initial: object) -> None:
        self.calls = sorted(required, key=lambda c: (c.invoke, c.complete))
        self.initial = initial
        self.furthest = -1  # rank of the latest return event at which the search got stuck
        self._link_events()
        # Per value: ops that may still compare with it (note C), unlinearized ops that
        # need it as the state (reads, cas), and ops that may still write it (note D).
        self.live: dict[object, int] = {}
        self.needs: dict[object, int] = {}
        self.made: dict[object, int] = {}
        for c in self.calls:
            self._count(c, 1)
        self._group(optional)

    # -- setup -----------------------------------------------------------------------------
    def _link_events(self) -> None:
        """Event 2i is op i's call, 2i+1 its return; HEAD and TAIL are sentinels."""
        n = len(self.calls)
        events = sorted(range(2 * n), key=lambda e: (
            self.calls[e >> 1].complete if e & 1 else self.calls[e >> 1].invoke, e & 1, e))
        self.head, self.tail = 2 * n, 2 * n + 1
        order = [self.head, *events, self.tail]
        self.nxt = [0] * (2 * n + 2)
        self.prv = [0] * (2 * n + 2)
        self.rank = [0] * (2 * n + 2)  # place in time order, to compare events
        for place, e in enumerate(order):
            self.rank[e] = place
        for a, b in zip(order, order[1:]):
            self.nxt[a], self.prv[b] = b, a

    def _group(self, optional: list[Call]) -> None:
        """Optional ops with the same effect form a group used in invoke order."""
        groups: dict[tuple, list[Call]] = {}
        for c in sorted(optional, key=lambda c: c.invoke):
            groups.setdefault((c.code, c.arg, c.new), []).append(c)
        self.groups = list(groups.values())
        self.used = [0] * len(self.groups)
        self.first_bit: list[int] = []   # bit of a group's first op in the optional bitset
        bit = 0
        self.producers: dict[object, list[int]] = {}  # value -> groups that can write it
        self.writes: list[int] = []                    # groups of optional writes
        self.cas_from: dict[object, list[int]] = {}    # expected -> optional cas groups
        for g, members in enumerate(self.groups):
            self.first_bit.append(bit)
            bit += len(members)
            c = members[0]
            self.made[c.output] = self.made.get(c.output, 0) + len(members)
            self.producers.setdefault(c.output, []).append(g)
            if c.code is WRITE:
                self.writes.append(g)
            else:
                self.cas_from.setdefault(c.arg, []).append(g)
                self.live[c.arg] = self.live.get(c.arg, 0) + 1  # forever: see note C

    # -- the linked event list ------------------------------------------------------------
    def _lift(self, i: int) -> None:
        nxt, prv = self.nxt, self.prv
        for e in (2 * i, 2 * i + 1):
            nxt[prv[e]] = nxt[e]
            prv[nxt[e]] = prv[e]

    def _unlift(self, i: int) -> None:
        nxt, prv = self.nxt, self.prv
        for e in (2 * i + 1, 2 * i):
            nxt[prv[e]] = e
            prv[nxt[e]] = e

    def _frontier(self) -> int:
        """The first return event still in the list (there is one while ops remain)."""
        e = self.nxt[self.head]
        while not e & 1:
            e = self.nxt[e]
        return e

    def _available(self, g: int, deadline: float) -> Call | None:
        """Group g's next unspent op, if it was invoked by `deadline` (the first return)."""
        members = self.groups[g]
        k = self.used[g]
        if k < len(members) and members[k].invoke <= deadline:
            return members[k]
        return None

    # -- moves ------------------------------------------------------------------------------
    def _is_live(self, value: object) -> bool:
        return self.live.get(value, 0) > 0

    def _moves(self, state: object):
        """Yield (chain of optional groups, required op, state after) to try from a node.

        A read or failed cas the state allows comes alone (note A); then the other allowed
        candidates, earliest return first, unless the state is pinned (note D); then chains
        of optional ops for blocked ones (note B). The lists this reads are back to this
        node's contents whenever the generator resumes.
        """
        nxt, calls = self.nxt, self.calls
        allowed = []
        e = nxt[self.head]
        while not e & 1:
            c = calls[e >> 1]
            after = c.step(state)
            if after is not BLOCKED:
                if c.code is READ or c.code is CAS_FALSE:
                    yield (), e >> 1, after
                    return
                allowed.append((e >> 1, after))
            e = nxt[e]
        first_return = calls[e >> 1].complete
        pinned = self.needs.get(state, 0) if not self.made.get(state, 0) else 0
        allowed.sort(key=lambda move: calls[move[0]].complete)
        for i, after in allowed:
            if after == state or pinned <= (calls[i].code is CAS):
                yield (), i, after
        if pinned:
            return  # every chain starts by leaving the state
        e = nxt[self.head]
        while not e & 1:
            c = calls[e >> 1]
            if c.step(state) is BLOCKED:
                if c.code is CAS_FALSE:
                    chains = self._leave(state, first_return)
                else:
                    chains = self._reach(c.arg, state, first_return, (c.arg,))
                for chain in chains:
                    yield chain, e >> 1, c.step(self._run_chain(chain, state))
            e = nxt[e]

    def _run_chain(self, chain: tuple[int, ...], state: object) -> object:
        for g in chain:
            state = self.groups[g][self.used[g]].step(state)
        return state

    def _reach(self, value: object, state: object, by: float,
               seen: tuple) -> list[tuple[int, ...]]:
        """Chains of available optional groups that take `state` to `value` (note B)."""
        out = []
        for g in self.producers.get(value, ()):
            c = self._available(g, by)
            if c is None:
                continue
            if c.code is WRITE or c.arg == state:
                out.append((g,))
            elif c.arg not in seen:
                out.extend(pre + (g,) for pre in self._reach(c.arg, state, by, seen + (c.arg,)))
        return out

    def _leave(self, state: object, by: float) -> list[tuple[int, ...]]:
        """Single optional ops that change `state`: one to a dead value, then each live one."""
        dead: list[tuple[int, ...]] = []
        live: list[tuple[int, ...]] = []
        for g in (*self.cas_from.get(state, ()), *self.writes):
            c = self._available(g, by)
            if c is None or c.step(state) in (BLOCKED, state):
                continue
            if self._is_live(c.step(state)):
                live.append((g,))
            elif not dead:
                dead.append((g,))
        return dead + live

    # -- the search -------------------------------------------------------------------------
    def run(self, max_steps: int, deadline: float | None) -> SearchResult:
        """Depth-first search with an explicit stack; stops at either bound."""
        result = SearchResult("linearizable", 0)
        if not self.calls:
            return result
        calls, state, producer = self.calls, self.initial, None
        bits = opt = 0
        seen: set[tuple] = set()
        trail: list[tuple] = []   # per level: what to undo
        frames = [self._moves(state)]
        steps = 0
        while frames:
            move = next(frames[-1], None)
            if move is None:
                frames.pop()
                self._dead_end(result, state, producer, bits)
                if not trail:
                    result.status = "not linearizable"
                    self._explain_states(result)
                    break
                chain, i, state, producer, bits, opt = trail.pop()
                self._undo(chain, i)
                continue
            steps += 1
            if steps >= max_steps or (deadline is not None and not steps % _CHECK_EVERY
                                      and time.monotonic() >= deadline):
                result.status = "unknown"
                result.bound = (f"step bound {max_steps:,}" if steps >= max_steps
                                else "deadline")
                break
            chain, i, after = move
            new_bits, new_opt, made_by = bits | 1 << i, opt, producer
            for g in chain:
                new_opt |= 1 << (self.first_bit[g] + self.used[g])
                made_by = self._spend(g, 1)
            self._do(i)
            if calls[i].code is WRITE or calls[i].code is CAS:
                made_by = calls[i]
            if len(trail) + 1 == len(calls):
                result.linearized = len(calls)
                result.blocker, result.states = None, {}
                break
            first = self.nxt[self.head] >> 1
            key = (first, new_bits >> first, new_opt, after if self._is_live(after) else DEAD)
            if key in seen:
                self._undo(chain, i)
                continue
            seen.add(key)
            trail.append((chain, i, state, producer, bits, opt))
            result.linearized = max(result.linearized, len(trail))
            state, producer, bits, opt = after, made_by, new_bits, new_opt
            frames.append(self._moves(state))
        result.steps = steps
        return result

    def _count(self, c: Call, delta: int) -> None:
        """Add `delta` to the counts of what the required op `c` needs and makes."""
        if c.code is WRITE:
            self.made[c.arg] = self.made.get(c.arg, 0) + delta
            return
        self.live[c.arg] = self.live.get(c.arg, 0) + delta
        if c.code is READ or c.code is CAS:
            self.needs[c.arg] = self.needs.get(c.arg, 0) + delta
        if c.code is CAS:
            self.made[c.new] = self.made.get(c.new, 0) + delta

    def _spend(self, g: int, delta: int) -> Call:
        """Spend (1) or give back (-1) group g's next optional op; returns that op."""
        if delta < 0:
            self.used[g] -= 1
        c = self.groups[g][self.used[g]]
        self.made[c.output] -= delta
        if delta > 0:
            self.used[g] += 1
        return c

    def _do(self, i: int) -> None:
        self._lift(i)
        self._count(self.calls[i], -1)

    def _undo(self, chain: tuple[int, ...], i: int) -> None:
        self._count(self.calls[i], 1)
        self._unlift(i)
        for g in reversed(chain):
            self._spend(g, -1)

    def _dead_end(self, result: SearchResult, state: object, producer: Call | None,
                  bits: int) -> None:
        """Remember the latest return the search could not get past, and the states there."""
        place = self.rank[self._frontier()]
        if place > self.furthest:
            self.furthest = place
            result.blocker, result.states = self.calls[self._frontier() >> 1], {}
        if place == self.furthest and len(result.states) < 8 and state not in result.states:
            result.states[state] = (producer, bits)  # bits: see _explain_states

    def _explain_states(self, result: SearchResult) -> None:
        """Replace the linearized sets kept with each state by the ops that still needed the
        state where nothing could write it again (why it could not change)."""
        for state, (producer, bits) in result.states.items():
            left = [c for i, c in enumerate(self.calls) if not bits >> i & 1]
            needers = tuple(c for c in left if c.code in (READ, CAS) and c.arg == state)
            rewritable = state in self.producers or any(
                (c.code is WRITE or c.code is CAS) and c.output == state for c in left)
            result.states[state] = (producer, () if rewritable else needers)
