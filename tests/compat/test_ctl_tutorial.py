"""The tutorial's etcdctl session, replayed with trionodectl, prints what the tutorial shows.

The commands and the output shown under each are parsed from the tutorial
(../shared/reference/etcd-tutorial.txt beside the repository): every line starting with
`etcdctl ` from the `_etcd/machines` commands of the discovery section through "Etcdctl
Usage" and "Hidden Values", in document order. The replay reads them from
tutorial-etcdctl.txt, an excerpt of just those lines kept in the repository so that it also
runs where the tutorial is absent; test_excerpt_follows_tutorial checks the excerpt
against the tutorial whenever it is there. They run on one fresh trionode node loaded with the data the tutorial
assumes (test_etcdctl.SETUP). Indexes aside (the tutorial's cluster had thousands of
writes), trionodectl must print the lines shown. Not replayed: the
`while true; do etcdctl watch --recursive /example; done` loop, which is the preceding
command run repeatedly.

The tutorial is etcd 0.4; trionodectl behaves as etcdctl 3.4. Where 3.4 intentionally
prints something else, DIFFERENCES says what and why. Watches show no output in the
document (they wait); WATCHES gives each a concurrent writer and what the prose says it
prints. TRIONODE_CTL_UNDER_TEST=etcdctl replays with etcdctl instead (which lacks the
`-o extended` superset lines: then they are an expected difference too).
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from pathlib import Path

import pytest
from requirements import require_tool

from . import harness
from .ctlrun import UNDER_TEST_ENV, Ctl, Put, Where, put, run_ctl, tool_under_test
from .test_etcdctl import SETUP

pytestmark = pytest.mark.compat

TUTORIAL = harness.REPO.parent / "shared" / "reference" / "etcd-tutorial.txt"
EXCERPT = Path(__file__).with_name("tutorial-etcdctl.txt")
END = "Etcd HTTP/JSON API Usage"            # the curl half is test_etcdctl's
_INDEXES = re.compile(r"^(Created-Index|Modified-Index|Index|Etcd-Index|Raft-Index|Raft-Term)"
                      r": \d+$")
SUPERSET = ("Etcd-Index:", "Raft-Index:", "Raft-Term:")
ELISION = ". . ."


@dataclasses.dataclass(frozen=True)
class Shown:
    line: int                           # where the command is in the parsed text (1-based)
    argv: tuple[str, ...]               # after "etcdctl"
    output: tuple[str, ...]             # the lines shown under it

    @property
    def command(self) -> str:
        return " ".join(self.argv)


def parse_tutorial(text: str) -> list[Shown]:
    """Each `etcdctl ...` line and the block under it, up to a blank line. `-o extended`
    prints a blank line and then the value (v2-spec §7.3): that block runs one line on."""
    lines = text.split("\n")
    lines = lines[:lines.index(END)] if END in lines else lines
    shown = []
    for no, line in enumerate(lines):
        if not line.startswith("etcdctl "):
            continue
        argv = tuple(shlex.split(line)[1:])
        block, i = [], no + 1
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        if "extended" in argv and i + 1 < len(lines) and lines[i + 1].strip():
            block += ["", lines[i + 1]]
        shown.append(Shown(no + 1, argv, tuple(block)))
    return shown


@dataclasses.dataclass(frozen=True)
class Expect:
    why: str
    output: tuple[str, ...] | None = None   # instead of the lines shown
    code: int = 0


# Where etcdctl 3.4 (and so trionodectl) intentionally differs from the 0.4 tutorial.
DIFFERENCES = {
    # 0.4 printed the deleted node's (empty) value; 3.4 prints the value it had
    "rm /a/b/c": Expect("3.4 prints the old value of a deleted key", ("PrevNode.Value: here",)),
    # the message goes to stderr with exit 1 in 3.4; the tutorial shows a terminal
    "get /coreos.com": Expect("3.4 exits 1 on a directory", code=1),
    # 0.4 printed only the value; 3.4 names the action and key of a recursive watch first
    "watch --recursive /example": Expect("3.4 prints '[action] key' for -r",
                                         ("[set] /example/hello", "again")),
}
# Watches print nothing until something changes: the writer each gets, and what the prose
# says appears ("the new value will be returned", 'This will echo "hello"').
WATCHES = {
    "watch /example/hello": (Put("/example/hello", "world"), ("world",)),
    "watch --recursive /example": (Put("/example/hello", "again"), ("again",)),
    "exec-watch --recursive /example -- echo hello": (Put("/example/key", "changed"), ("hello",)),
}
# `-o extended`: 3.4 also prints `Index: N` (X-Etcd-Index) after TTL; an extra line we allow.
EXTRA_EXTENDED = "Index:"
# The replaying node is a machine too: as in 0.4 it registers itself under /_etcd/machines,
# beside the tutorial's three machines that SETUP writes by hand.
NODE_NAME = "tutorial"
OWN_MACHINE = f"/_etcd/machines/{NODE_NAME}"


def _mask(lines) -> list[str]:
    return [_INDEXES.sub(lambda m: m[1] + ": <n>", line) for line in lines]


def expected(shown: Shown, superset: bool) -> tuple[list[str], int]:
    diff = DIFFERENCES.get(shown.command)
    watch = WATCHES.get(shown.command)
    lines = list(diff.output if diff and diff.output is not None
                 else watch[1] if watch else shown.output)
    if not superset:                    # replaying with etcdctl itself: no superset lines
        lines = [ln for ln in lines if not ln.startswith(SUPERSET)]
    return _mask(lines), diff.code if diff else 0


def compare(shown: Shown, ours: list[str], want: list[str]) -> list[str]:
    """What is wrong with our lines, given the expected ones (already masked)."""
    ours = _mask(ours)
    if "extended" in shown.argv:
        ours = [ln for ln in ours if not ln.startswith(EXTRA_EXTENDED)]
    if shown.argv[0] == "ls":            # server order: the tutorial's own two listings differ
        ours, want = sorted(ln for ln in ours if ln != OWN_MACHINE), sorted(want)
    if ELISION in want:                 # the tutorial elides: what it shows must be there
        missing = [ln for ln in want if ln != ELISION and ln not in ours]
        return [f"missing {ln!r}" for ln in missing]
    return [] if ours == want else [f"expected {want!r}", f"printed  {ours!r}"]


SHOWN = parse_tutorial(EXCERPT.read_text())


@pytest.fixture(scope="module")
def node():
    """A fresh node with the tutorial's data, and the tool that replays the session."""
    tool = tool_under_test()
    if tool.argv[0] == "etcdctl":
        require_tool("etcdctl", f"{UNDER_TEST_ENV}=etcdctl replays the tutorial with etcdctl")
    try:
        server = harness.start_server("ctl-tutorial", harness.target_kind(), NODE_NAME)
    except RuntimeError as exc:
        pytest.fail(f"the node could not start:\n{exc}", pytrace=False)
    where = Where(server.url, tool, "/ctl-tutorial", f"http://127.0.0.1:{harness.free_port()}")
    try:
        for key, value in SETUP:
            put(Put(key, value), where, [])
        yield where
    finally:
        server.stop()


def test_tutorial_parsed():
    """The parser found the whole session (guards against a silently empty replay)."""
    assert len(SHOWN) == 24, [s.command for s in SHOWN]
    assert all(s.command in WATCHES for s in SHOWN if "watch" in s.argv[0])


def test_excerpt_follows_tutorial():
    """The excerpt holds exactly the tutorial's commands and shown output, in order."""
    if not TUTORIAL.exists():
        pytest.skip(f"{TUTORIAL} is absent")
    tutorial = parse_tutorial(TUTORIAL.read_text())
    assert [(s.argv, s.output) for s in SHOWN] == [(s.argv, s.output) for s in tutorial]


@pytest.mark.parametrize("shown", SHOWN, ids=[f"L{s.line}-{s.command}" for s in SHOWN])
def test_tutorial_command(shown, node):
    trigger, _ = WATCHES.get(shown.command, (None, None))
    step = Ctl(shown.argv, triggers=(trigger,) if trigger else (),
               lines=1 if trigger and shown.argv[0] == "exec-watch" else None)
    out = run_ctl(step, node, [])
    ours = (out.stdout + out.stderr).splitlines()
    want, code = expected(shown, node.tool.superset)
    problems = compare(shown, ours, want)
    if out.code != code:
        problems.append(f"exit {out.code}, expected {code}")
    problems += [f"harness: {n}" for n in out.notes]
    why = DIFFERENCES.get(shown.command)
    assert not problems, (
        f"{EXCERPT.name} line {shown.line}: {node.tool.name} {shown.command}\n"
        f"  shown in the tutorial: {list(shown.output)!r}\n"
        + (f"  expected difference: {why.why}\n" if why else "")
        + "\n".join("  " + p for p in problems)
        + f"\n  raw stdout: {out.stdout!r}\n  raw stderr: {out.stderr!r}")
