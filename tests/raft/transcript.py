"""Transcripts: a command per block, then `----`, then the output it must produce.

    # comments and blank lines between blocks are kept on rewrite
    propose 1 x
    ----
    <expected output, no blank lines>

Commands (ids are decimal; `all` = every member that is up):
    add-nodes N [pre_vote=0|1] [check_quorum=0|1] [election_tick=T] [heartbeat_tick=T]
              [max_inflight=N] [max_msg_entries=N]
    campaign ID | tick ID|all [N] | propose ID DATA | read-index ID CTX | transfer ID TO
    process-ready [ID...]                 take, persist, send, apply and advance a Ready
    deliver [to=ID,..] [frm=ID,..] [type=APP,..]   step queued messages (one round)
    drop    [to=...] [frm=...] [type=...]           discard queued messages
    stabilize [ID...]                    process-ready + deliver until nothing moves (without
                                         ids: everyone; messages to members down are lost)
    partition 1 | 2 3 / heal             messages between groups are lost on delivery
    crash ID / restart ID                lose what was not synced / start from the disk
    compact ID INDEX                     snapshot the app at INDEX (its applied index)
    unreachable ID PEER / snap-status ID PEER ok|fail
    status ID / log ID
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trionode.raft import MsgType
from trionode.raft.describe import entries as describe_entries

from .cluster import Cluster

SEPARATOR = "----"


@dataclass
class Block:
    leading: list[str]  # comment and blank lines before the command
    command: str
    expected: list[str]
    line: int  # 1-based line number of the command


def parse(text: str) -> tuple[list[Block], list[str]]:
    """The blocks, and any comment lines after the last one."""
    lines = text.splitlines()
    blocks: list[Block] = []
    leading: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            leading.append(line)
            i += 1
            continue
        if i + 1 >= len(lines) or lines[i + 1] != SEPARATOR:
            raise ValueError(f"line {i + 1}: command {line!r} must be followed by {SEPARATOR}")
        j = i + 2
        while j < len(lines) and lines[j].strip():
            j += 1
        blocks.append(Block(leading, line, lines[i + 2:j], i + 1))
        leading = []
        i = j
    return blocks, leading


def render(blocks: list[Block], outputs: list[list[str]], trailing: list[str]) -> str:
    lines: list[str] = []
    for block, output in zip(blocks, outputs):
        lines += block.leading + [block.command, SEPARATOR] + output
    return "\n".join(lines + trailing) + "\n"


def run(path: Path) -> tuple[str, str]:
    """(the file as it is, the file as the code says it should be)."""
    text = path.read_text()
    blocks, trailing = parse(text)
    cluster_out: list[str] = []
    cluster = Cluster(cluster_out)
    outputs = []
    for block in blocks:
        cluster_out.clear()
        try:
            execute(cluster, block.command)
        except Exception as exc:  # noqa: BLE001 - shown in the diff with its command
            raise AssertionError(f"{path.name}:{block.line}: {block.command!r} failed: {exc!r}") from exc
        outputs.append([line.rstrip() for line in cluster_out])
    return text, render(blocks, outputs, trailing)


def execute(cluster: Cluster, command: str) -> None:
    name, *args = command.split()
    handler = COMMANDS.get(name)
    if handler is None:
        raise ValueError(f"unknown command {name!r}")
    handler(cluster, args)


def _ids(cluster: Cluster, args: list[str]) -> list[int]:
    if not args or args == ["all"]:
        return cluster.up()
    return [int(a) for a in args]


def _filters(args: list[str]) -> dict[str, set]:
    filters: dict[str, set] = {}
    for arg in args:
        key, _, value = arg.partition("=")
        items = value.split(",")
        filters[key] = set(items) if key == "type" else {int(v) for v in items}
    return filters


def _add_nodes(cluster: Cluster, args: list[str]) -> None:
    options: dict[str, object] = {}
    for arg in args[1:]:
        key, _, value = arg.partition("=")
        options[key] = bool(int(value)) if key in ("pre_vote", "check_quorum") else int(value)
    cluster.add(int(args[0]), **options)


def _tick(cluster: Cluster, args: list[str]) -> None:
    ids = _ids(cluster, args[0].split(",")) if args[0] != "all" else cluster.up()
    for _ in range(int(args[1]) if len(args) > 1 else 1):
        for i in ids:
            cluster.core(i).tick()


def _partition(cluster: Cluster, args: list[str]) -> None:
    groups, group = [], set()
    for arg in args + ["|"]:
        if arg == "|":
            groups.append(group)
            group = set()
        else:
            group.add(int(arg))
    cluster.groups = groups


def _restart(cluster: Cluster, args: list[str]) -> None:
    member = cluster.members[int(args[0])]
    assert member.core is None, "restart a crashed member only"
    member.start()


def _status(cluster: Cluster, args: list[str]) -> None:
    for i in _ids(cluster, args):
        cluster.out.append(cluster.core(i).status.describe())


def _log(cluster: Cluster, args: list[str]) -> None:
    for i in _ids(cluster, args):
        member, log = cluster.members[i], cluster.core(i).log
        cluster.out.append(
            f"{i:x}: snap={log.snap_term}/{log.snap_index} entries={describe_entries(log.entries)}"
            f" stable={log.stable} commit={log.committed} applied={log.applied}"
            f" app=[{' '.join(p.decode() for p in member.app)}]")


COMMANDS: dict[str, Callable[[Cluster, list[str]], None]] = {
    "add-nodes": _add_nodes,
    "campaign": lambda c, a: c.report(int(a[0]), MsgType.HUP, int(a[0])),
    "tick": _tick,
    "propose": lambda c, a: c.propose(int(a[0]), a[1].encode()),
    "read-index": lambda c, a: c.read_index(int(a[0]), a[1].encode()),
    "transfer": lambda c, a: c.core(int(a[0])).transfer_leadership(int(a[1])),
    "process-ready": lambda c, a: c.process_ready(_ids(c, a)),
    "deliver": lambda c, a: c.deliver(**_filters(a)),
    "drop": lambda c, a: c.deliver(drop=True, **_filters(a)),
    "stabilize": lambda c, a: c.stabilize([int(x) for x in a] or sorted(c.members)),
    "partition": _partition,
    "heal": lambda c, a: setattr(c, "groups", []),
    "crash": lambda c, a: c.crash(int(a[0])),
    "restart": _restart,
    "compact": lambda c, a: c.compact(int(a[0]), int(a[1])),
    "unreachable": lambda c, a: c.report(int(a[0]), MsgType.UNREACHABLE, int(a[1])),
    "snap-status": lambda c, a: c.report(int(a[0]), MsgType.SNAP_STATUS, int(a[1]), a[2] == "fail"),
    "status": _status,
    "log": _log,
}
