"""Stale observations, found without search: an op that needs a value every writer of
which was certainly overwritten before the op began.

Let R be an "ok" read of v (or an "ok" successful cas expecting v), and P an op that may
have written v: an "ok" write of v or successful cas to v, an "info" one, or the initial
state when v is the initial value. P can be the write R saw only if P took effect before
R; so P must have been invoked before R completed. And if some "ok" op X that leaves a
value other than v (a write, a successful cas) was invoked after P completed and
completed before R was invoked, then X falls between P and R in every linearization, so R
did not see P either. When no P is left, R cannot be linearized: the history is not
linearizable. (Info ops never complete, so nothing certainly falls after them.) This is
the shape of the anomaly most worth finding — a stale read — and it costs O(n log n) even
where the search, with many concurrent ops, would give up.
"""

from __future__ import annotations

import bisect
import math

from .wgl import CAS, READ, WRITE, Call

__all__ = ["find_stale"]


def find_stale(required: list[Call], optional: list[Call],
               initial: object) -> tuple[Call, list[tuple[Call | None, Call]]] | None:
    """The first stale op R by invoke, and for each possible writer P of what it needs
    (None: the initial state) an op X certainly between them; None if there is none."""
    writers: dict[object, list[Call]] = {}
    for c in required + optional:
        if c.code is WRITE or c.code is CAS:
            writers.setdefault(c.output, []).append(c)
    between = _Overwrites([c for c in required if c.code is WRITE or c.code is CAS])
    for r in sorted(required, key=lambda c: c.invoke):
        if r.code is not READ and r.code is not CAS:
            continue
        chain = []
        sources: list[Call | None] = [None] if r.arg == initial else []
        sources += [p for p in writers.get(r.arg, ()) if p is not r and p.invoke <= r.complete]
        for p in sources:
            x = between.find(-math.inf if p is None else p.complete, r.invoke, r.arg)
            if x is None:
                break
            chain.append((p, x))
        else:
            return r, chain
    return None


class _Overwrites:
    """Answers: an op invoked after t1, completed before t2, leaving a value other than v?
    Over the ops sorted by invoke, each suffix keeps its earliest-completing op and the
    earliest-completing one that leaves a different value from that."""

    def __init__(self, ops: list[Call]) -> None:
        ops = sorted(ops, key=lambda c: c.invoke)
        self.invokes = [c.invoke for c in ops]
        self.best: list[tuple[Call | None, Call | None]] = [(None, None)] * (len(ops) + 1)
        first = second = None
        for k in range(len(ops) - 1, -1, -1):
            c = ops[k]
            if first is None or c.complete < first.complete:
                if first is not None and first.output != c.output:
                    second = first
                first = c
            elif c.output != first.output and (second is None
                                                      or c.complete < second.complete):
                second = c
            self.best[k] = (first, second)

    def find(self, after: float, before: float, value: object) -> Call | None:
        first, second = self.best[bisect.bisect_right(self.invokes, after)]
        x = first if first is None or first.output != value else second
        return x if x is not None and x.complete < before else None
