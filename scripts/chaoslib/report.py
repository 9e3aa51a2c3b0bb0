"""What a run found: the outcome record, the one summary line, report.json and report.txt.

PASS needs every register linearizable ("unknown" is shown, not counted as a violation),
the queue check ok, the nodes converged with identical data, and no node that died by
itself. Everything else in the report is there to explain a failure.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

from .final import FinalState
from .history import Op

__all__ = ["Outcome", "summary_line", "write_reports"]


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    label: str                 # "trionode nodes=3 nemesis=partition seed=1"
    planned: float             # --duration
    ran: float                 # seconds of load actually run
    interrupted: bool
    ops: tuple[Op, ...]
    verdicts: tuple            # checker.Verdict per register
    queue: object | None       # checker.QueueVerdict, None when the final queue was unread
    final: FinalState | None   # None when the run ended before the final reads
    crashes: tuple[str, ...]
    events: tuple[dict, ...]   # the nemesis timeline
    errors: tuple[str, ...]    # what kept the run from completing (setup failures...)

    @property
    def violations(self) -> tuple:
        return tuple(v for v in self.verdicts if v.status == "not linearizable")

    @property
    def unknown(self) -> tuple:
        return tuple(v for v in self.verdicts if v.status == "unknown")

    @property
    def passed(self) -> bool:
        return (not self.errors and not self.violations and not self.crashes
                and self.queue is not None and self.queue.ok
                and self.final is not None and self.final.converged and self.final.identical)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _registers_part(o: Outcome) -> str:
    total = len(o.verdicts)
    if o.violations:
        keys = ",".join(v.key for v in o.violations)
        text = f"NOT LINEARIZABLE {keys} ({len(o.violations)}/{total} registers)"
    else:
        text = f"linearizable {total - len(o.unknown)}/{total} registers"
    return text + (f" ({len(o.unknown)} unknown)" if o.unknown else "")


def _queue_part(o: Outcome) -> str:
    q = o.queue
    if q is None:
        return "queue UNREAD"
    acked = sum(1 for op in o.ops if op.kind == "enqueue" and op.outcome == "ok")
    if q.ok:
        return f"queue ok ({acked} acked, 0 lost)"
    bad = [f"{len(items)} {name}" for name, items in (
        ("lost", q.lost), ("duplicated", q.duplicated), ("unexpected", q.unexpected),
        ("misordered", q.misordered)) if items]
    return f"queue BAD ({acked} acked, {', '.join(bad)})"


def _nodes_part(o: Outcome) -> str:
    f = o.final
    if f is None:
        return "nodes UNCHECKED"
    if not f.identical:
        return "nodes DIFFER"
    return "nodes identical" if f.converged else "nodes NOT CONVERGED"


def summary_line(o: Outcome) -> str:
    counts = Counter(op.outcome for op in o.ops)
    n = len(o.ops)
    head = f"chaos {o.label} {o.planned:g}s"
    if o.interrupted:
        head += f" (interrupted at {o.ran:.0f}s)"
    parts = [f"{head}: ops={n} ok={_percent(counts['ok'], n)} info={_percent(counts['info'], n)}"]
    if o.errors:
        parts.append("ERROR " + "; ".join(o.errors))
    parts += [_registers_part(o), _queue_part(o), _nodes_part(o)]
    if o.crashes:
        parts.append(f"{len(o.crashes)} node CRASHES")
    parts.append("PASS" if o.passed else "FAIL")
    return " | ".join(parts)


def _op_table(ops: tuple[Op, ...]) -> list[str]:
    table = Counter((op.kind, op.outcome) for op in ops)
    lines = [f"{'kind':<8} {'ok':>7} {'fail':>7} {'info':>7}"]
    for kind in ("read", "write", "cas", "enqueue"):
        lines.append(f"{kind:<8} " + " ".join(f"{table[(kind, o)]:>7}" for o in ("ok", "fail", "info")))
    per_node = Counter((op.node, op.outcome) for op in ops)
    for node in sorted({op.node for op in ops}):
        lines.append(f"@{node:<7} " + " ".join(f"{per_node[(node, o)]:>7}"
                                               for o in ("ok", "fail", "info")))
    return lines


def _report_text(o: Outcome, summary: str) -> str:
    lines = [summary, ""]
    lines += [f"error: {e}" for e in o.errors]
    lines += ["operations:"] + ["  " + line for line in _op_table(o.ops)] + [""]
    lines.append("registers:")
    for v in o.verdicts:
        lines.append(f"  {v.key}: {v.status} ({v.ops} ops)")
        if v.status != "linearizable" and v.detail:
            lines += ["    " + line for line in v.detail.splitlines()]
    lines += ["", f"queue: {_queue_part(o)}"]
    if o.queue is not None and o.queue.detail:
        lines += ["  " + line for line in o.queue.detail.splitlines()]
    if o.final is not None:
        f = o.final
        lines += ["", f"final state ({f.seconds:.1f}s to settle): indexes {f.indexes}"]
        lines += [f"  problem: {p}" for p in f.problems]
        lines += [f"  difference: {d}" for d in f.differences]
    lines += ["", "crashes:" if o.crashes else "crashes: none"] + [f"  {c}" for c in o.crashes]
    lines += ["", "nemesis timeline (seconds from the start of the load):"]
    lines += [f"  {e['t']:8.3f} {e['event']:<6} {e['detail']}" for e in o.events]
    return "\n".join(lines) + "\n"


def _jsonable(value: object) -> object:
    if dataclasses.is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def write_reports(out: Path, o: Outcome, options: dict) -> str:
    """report.json, report.txt and final-data.json (each node's data) into `out`;
    returns the summary line."""
    summary = summary_line(o)
    counts = Counter(op.outcome for op in o.ops)
    doc = {
        "summary": summary, "passed": o.passed, "options": options,
        "ran_seconds": round(o.ran, 3), "interrupted": o.interrupted, "errors": o.errors,
        "ops": {"total": len(o.ops), **{k: counts[k] for k in ("ok", "fail", "info")}},
        "registers": _jsonable(o.verdicts),
        "queue": _jsonable(o.queue),
        "final": _jsonable(dataclasses.replace(o.final, trees={}) if o.final else None),
        "crashes": o.crashes, "nemesis": o.events,
    }
    (out / "report.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    (out / "report.txt").write_text(_report_text(o, summary))
    if o.final is not None:
        (out / "final-data.json").write_text(json.dumps(_jsonable(o.final.trees)) + "\n")
    return summary
