"""The history of a chaos run: one `Op` per client operation, kept as JSON lines.

An op records what a client saw, not what the cluster did: when it was invoked, when (if
ever) it completed, and whether it certainly happened ("ok"), certainly did not ("fail"), or
may have happened at any moment after its invocation ("info": a timeout, a connection lost
after the request left). The checkers (checker.py) read only these fields.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["KINDS", "OUTCOMES", "HistoryError", "Op", "read_history", "write_history"]

KINDS = ("read", "write", "cas", "enqueue")
OUTCOMES = ("ok", "fail", "info")


class HistoryError(ValueError):
    """An op or a history line that does not follow the history format."""


@dataclass(frozen=True, slots=True)
class Op:
    process: int            # client process id; a process runs one op at a time
    kind: str               # "read" | "write" | "cas" | "enqueue"
    key: str                # register name, or the queue name for enqueue
    value: object           # write: the value written; cas: [expected, new]; enqueue: the unique
                            # value; read: None
    invoke: float           # time.monotonic() at invocation (seconds)
    complete: float | None  # time.monotonic() at completion; None when it never completed
    outcome: str            # "ok" | "fail" (nothing applied) | "info" (indeterminate)
    result: object = None   # read ok: the value read, None if the key was absent;
                            # cas ok: True (swapped) or False (compare failed, etcd 101)
    node: str = ""          # the node the client sent it to (for reports)
    error: str = ""         # error text for fail/info

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise HistoryError(f"unknown op kind {self.kind!r}")
        if self.outcome not in OUTCOMES:
            raise HistoryError(f"unknown outcome {self.outcome!r}")
        if self.kind == "cas" and not (isinstance(self.value, (list, tuple))
                                       and len(self.value) == 2):
            raise HistoryError(f"cas value must be [expected, new], got {self.value!r}")
        if self.complete is None:
            if self.outcome == "ok":
                raise HistoryError("an ok op must have a completion time")
        elif self.complete < self.invoke:
            raise HistoryError(f"op completes ({self.complete}) before its invoke ({self.invoke})")
        if self.kind == "cas" and self.outcome == "ok" and not isinstance(self.result, bool):
            raise HistoryError(f"cas ok result must be True or False, got {self.result!r}")

    def describe(self, origin: float = 0.0) -> str:
        """One line: `p3 cas r1 [1, 2] -> ok True [12.031, 12.044] @n2` (times from `origin`)."""
        if self.kind == "cas":
            what = f"{self.value[0]!r}->{self.value[1]!r}"
        elif self.kind == "read":
            what = ""
        else:
            what = repr(self.value)
        shown = f" {self.result!r}" if self.outcome == "ok" and self.kind in ("read", "cas") else ""
        end = "..." if self.complete is None else f"{self.complete - origin:.3f}"
        node = f" @{self.node}" if self.node else ""
        return (f"p{self.process} {self.kind} {self.key}{' ' + what if what else ''} -> "
                f"{self.outcome}{shown} [{self.invoke - origin:.3f}, {end}]{node}")


def write_history(path: str | Path, ops: Iterable[Op]) -> None:
    """One JSON object per line, fields as in `Op`."""
    with open(path, "w", encoding="utf-8") as out:
        for op in ops:
            out.write(json.dumps(asdict(op), separators=(",", ":")) + "\n")


def read_history(path: str | Path) -> list[Op]:
    ops = []
    with open(path, encoding="utf-8") as src:
        for lineno, line in enumerate(src, 1):
            if not line.strip():
                continue
            try:
                ops.append(Op(**json.loads(line)))
            except (ValueError, TypeError) as exc:  # JSONDecodeError, HistoryError: ValueErrors
                raise HistoryError(f"{path}:{lineno}: {exc}") from exc
    return ops
