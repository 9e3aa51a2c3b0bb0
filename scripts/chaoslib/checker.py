"""Checkers for a chaos history: linearizability of each register, and the queue.

Registers: each key is its own register, and linearizability is local (Herlihy & Wing
1990, P-compositionality in Horn & Kroening), so each key is checked alone. How an op
enters the search (wgl.py):
- "fail" ops never happened: dropped. "info" reads observed nothing: dropped.
- "ok" ops are required: a read must see the value it returned (None: the key absent, the
  initial state); a cas True needs the value == expected and sets new; a cas False needs
  the value != expected and changes nothing; a write sets its value.
- "info" writes and cas are optional: they may take effect once at any point after their
  invoke, or never. (An info cas that happened but found another value changed nothing:
  the same as never.)
A quick pass (stale.py) first looks for an op whose value was certainly overwritten before
it began, the common anomaly, in O(n log n); the search runs when it finds none.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .history import HistoryError, Op
from .queuecheck import QueueVerdict, check_queue
from .stale import find_stale
from .wgl import BLOCKED, CAS, CAS_FALSE, READ, WRITE, Call, Search, SearchResult

__all__ = ["QueueVerdict", "Verdict", "check_queue", "check_register", "check_registers"]

REGISTER_KINDS = ("read", "write", "cas")
_SHOWN_CONCURRENT = 6  # ops listed beside a violation


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str   # "linearizable" | "not linearizable" | "unknown"
    key: str
    detail: str   # a violation: the op, the values possible, the ops involved; unknown: the bound
    ops: int      # ops considered (after dropping failed ops and indeterminate reads)


def check_register(ops: Sequence[Op], *, initial: object = None, max_steps: int = 2_000_000,
                   deadline: float | None = None) -> Verdict:
    """Linearizability of one register's ops (all of one key), bounded by `max_steps` search
    steps and the time.monotonic() `deadline`: past either, the verdict is "unknown"."""
    keys = sorted({op.key for op in ops})
    if len(keys) > 1:
        raise HistoryError(f"check_register takes one key's ops, got keys {', '.join(keys)}")
    required, optional = _calls(ops)
    key = keys[0] if keys else ""
    considered = len(required) + len(optional)
    origin = min((op.invoke for op in ops), default=0.0)
    stale = find_stale(required, optional, _hashable(initial))
    if stale is not None:
        return Verdict("not linearizable", key, _explain_stale(*stale, origin), considered)
    result = Search(required, optional, _hashable(initial)).run(max_steps, deadline)
    if result.status == "linearizable":
        detail = f"{considered} ops, {result.steps:,} search steps"
    elif result.status == "unknown":
        detail = (f"search stopped at the {result.bound} after {result.steps:,} steps, "
                  f"{result.linearized} of {len(required)} acknowledged ops linearized")
    else:
        detail = _explain(result, required + optional, _hashable(initial), origin)
    return Verdict(result.status, key, detail, considered)


def check_registers(ops: Sequence[Op], *, deadline: float | None = None,
                    **bounds) -> list[Verdict]:
    """`check_register` for each key of the register ops in `ops` (others are ignored), in
    key order. `bounds` (initial, max_steps) apply to each key; each key gets an equal share
    of the time left before `deadline`, so one hard key cannot starve the others (time a key
    does not use passes on to the next)."""
    by_key: dict[str, list[Op]] = {}
    for op in ops:
        if op.kind in REGISTER_KINDS:
            by_key.setdefault(op.key, []).append(op)
    verdicts = []
    for left, key in zip(range(len(by_key), 0, -1), sorted(by_key)):
        share = None if deadline is None else (
            time.monotonic() + (deadline - time.monotonic()) / left)
        verdicts.append(check_register(by_key[key], deadline=share, **bounds))
    return verdicts


def _hashable(value: object) -> object:
    """JSON turns tuples into lists; the search keys states by value."""
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value


def _calls(ops: Sequence[Op]) -> tuple[list[Call], list[Call]]:
    """Split the ops into required and optional model calls (the module docstring's rules)."""
    required: list[Call] = []
    optional: list[Call] = []
    for op in ops:
        if op.kind not in REGISTER_KINDS:
            raise HistoryError(f"not a register op: {op.describe()}")
        if op.outcome == "fail" or (op.outcome == "info" and op.kind == "read"):
            continue
        if op.kind == "read":
            code, arg, new = READ, _hashable(op.result), None
        elif op.kind == "write":
            code, arg, new = WRITE, _hashable(op.value), None
        else:
            expected, new = (_hashable(v) for v in op.value)
            code, arg = (CAS if op.outcome == "info" or op.result else CAS_FALSE), expected
        if op.outcome == "ok":
            required.append(Call(code, arg, new, op.invoke, op.complete, op))
        else:
            optional.append(Call(code, arg, new, op.invoke, math.inf, op))
    return required, optional


def _explain(result: SearchResult, calls: list[Call], initial: object, origin: float) -> str:
    """The op the search could never linearize, the values the register could hold when that
    op had to take effect (and which op wrote each), who could have written the value it
    wanted, and the ops concurrent with it."""
    bad = result.blocker
    held = "; ".join(_held(bad, state, made_by, needers, origin)
                     for state, (made_by, needers) in result.states.items())
    lines = [f"cannot linearize {bad.source.describe(origin)}",
             f"  the register could only hold: {held}"]
    if bad.code is CAS_FALSE:
        lines.append(f"  it needs a value other than {_show(bad.arg)}")
    elif bad.code is not WRITE:
        writers = ["the initial state"] if bad.arg == initial else []
        writers += [c.source.describe(origin) for c in calls
                    if (c.code is WRITE or c.code is CAS) and c.output == bad.arg]
        lines.append(f"  it needs the value {_show(bad.arg)}, written by: "
                     + ("; ".join(writers[:_SHOWN_CONCURRENT]) or "no op"))
    overlapping = [c for c in calls if c is not bad and _overlaps(c, bad)]
    overlapping.sort(key=lambda c: c.invoke)
    if overlapping:
        more = len(overlapping) - _SHOWN_CONCURRENT
        lines.append("  concurrent with: " + "; ".join(
            c.source.describe(origin) for c in overlapping[:_SHOWN_CONCURRENT])
            + (f"; and {more} more" if more > 0 else ""))
    return "\n".join(lines)


def _held(bad: Call, state: object, made_by: Call | None, needers: tuple[Call, ...],
          origin: float) -> str:
    """A value the register could hold when `bad` had to take effect, who wrote it, and,
    when `bad` fits it but may not change it, the ops that still needed it."""
    text = f"{_show(state)} (from {_origin(made_by, origin)})"
    needers = tuple(c for c in needers if c is not bad)
    if needers and bad.step(state) is not BLOCKED:
        text += (f", which it may not change: still needed by "
                 f"{'; '.join(c.source.describe(origin) for c in needers[:3])}"
                 f"{' and more' if len(needers) > 3 else ''}, and no op can write "
                 f"{_show(state)} again")
    return text


def _overlaps(c: Call, bad: Call) -> bool:
    """Ran at the same time as `bad`. An info op invoked long before is concurrent with
    everything after it, but rarely part of the story: only those invoked while `bad` ran."""
    if c.complete == math.inf:
        return bad.invoke <= c.invoke <= bad.complete
    return c.invoke <= bad.complete and c.complete >= bad.invoke


def _explain_stale(bad: Call, overwritten: list[tuple[Call | None, Call]], origin: float) -> str:
    lines = [f"cannot linearize {bad.source.describe(origin)}",
             f"  it needs the value {_show(bad.arg)}, but every op that could have written it "
             "was overwritten before it began:"]
    lines += [f"  {_origin(p, origin)}, then {x.source.describe(origin)}"
              for p, x in overwritten[:_SHOWN_CONCURRENT]]
    if not overwritten:
        lines[1] = f"  it needs the value {_show(bad.arg)}, which no op wrote before it ended"
    return "\n".join(lines)


def _show(value: object) -> str:
    return "absent" if value is None else repr(value)


def _origin(made_by: Call | None, origin: float) -> str:
    return "the initial state" if made_by is None else made_by.source.describe(origin)
