"""The queue check: every acknowledged in-order POST is in the final queue once, in order.

Each enqueue carries a unique value. After healing, the runner reads the queue directory's
children in creation order (`final`). Then:
- lost: an "ok" enqueue whose value is absent;
- duplicated: a value present more than once (a retried or replayed append);
- unexpected: a value present that no "ok" or "info" enqueue sent ("fail" ones included:
  they definitely did not happen);
- misordered: (a, b) where a completed before b was invoked, so a's append came first, but
  b is first in the queue. a is acknowledged; b is acknowledged or indeterminate (an info
  append still happened after its invoke, if at all).
Indeterminate enqueues may be present (once) or absent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .history import HistoryError, Op

__all__ = ["QueueVerdict", "check_queue"]

_SHOWN = 10  # values listed per problem in the detail


@dataclass(frozen=True, slots=True)
class QueueVerdict:
    ok: bool
    lost: tuple[int, ...]                    # acknowledged enqueues absent from the final queue
    duplicated: tuple[int, ...]              # values present more than once
    unexpected: tuple[int, ...]              # present but never enqueued (or only with "fail")
    misordered: tuple[tuple[int, int], ...]  # (a, b): a completed before b was invoked; b first
    detail: str


def check_queue(ops: Sequence[Op], final: Sequence[int]) -> QueueVerdict:
    """Check the enqueue ops in `ops` (others are ignored) against the final queue."""
    sent: dict[object, Op] = {}
    for op in ops:
        if op.kind != "enqueue" or op.outcome == "fail":
            continue
        if op.value in sent:
            raise HistoryError(f"enqueue value {op.value!r} sent twice: {op.describe()}")
        sent[op.value] = op
    counts = Counter(final)
    position: dict[object, int] = {}
    for i, value in enumerate(final):
        position.setdefault(value, i)
    acked = [op for op in sent.values() if op.outcome == "ok"]
    lost = tuple(sorted(op.value for op in acked if op.value not in counts))
    duplicated = tuple(sorted(v for v, n in counts.items() if n > 1))
    unexpected = tuple(v for v in position if v not in sent)
    present = [op for op in sent.values() if op.value in position]
    misordered = _misordered([op for op in present if op.outcome == "ok"], present, position)
    ok = not (lost or duplicated or unexpected or misordered)
    detail = _describe(len(acked), len(sent) - len(acked), len(present), len(final),
                       lost, duplicated, unexpected, misordered)
    return QueueVerdict(ok, lost, duplicated, unexpected, misordered, detail)


def _misordered(acked: list[Op], present: list[Op],
                position: dict[object, int]) -> tuple[tuple[int, int], ...]:
    """For each b, the a furthest back in the queue among those that completed before b was
    invoked: b is misordered when that a comes after it. One pair per b, so the list stays
    linear in the history (every other such a is an earlier witness of the same fault)."""
    by_complete = sorted(acked, key=lambda op: op.complete)
    pairs = []
    j = 0
    furthest: Op | None = None
    for b in sorted(present, key=lambda op: op.invoke):
        while j < len(by_complete) and by_complete[j].complete < b.invoke:
            a = by_complete[j]
            if furthest is None or position[a.value] > position[furthest.value]:
                furthest = a
            j += 1
        if furthest is not None and position[furthest.value] > position[b.value]:
            pairs.append((furthest.value, b.value))
    return tuple(pairs)


def _describe(acked: int, maybe: int, present: int, final: int, lost: tuple, duplicated: tuple,
              unexpected: tuple, misordered: tuple) -> str:
    parts = [f"{acked} acknowledged and {maybe} indeterminate enqueues, {present} of them "
             f"present; {final} values in the final queue"]
    for name, items in (("lost", lost), ("duplicated", duplicated), ("unexpected", unexpected),
                        ("misordered (a before b, b found first)", misordered)):
        if items:
            shown = ", ".join(map(str, items[:_SHOWN]))
            more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
            parts.append(f"{name} {len(items)}: {shown}{more}")
    return "; ".join(parts)
