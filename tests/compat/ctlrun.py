"""Running etcdctl-style command lines on a server, and making two tools' runs comparable.

A case (ctlcases.py) is a short list of steps: Put (a setup write over raw HTTP, never
compared) and Ctl (one command line of the tool, compared). A Ctl with triggers or `lines`
runs in the background: it is started, the harness waits until the server counts one
more watcher (/v2/stats/store "watchers"), fires the triggers, collects what it prints
and stops it with SIGINT to its process group, as Ctrl-C would.

Each run of a case (one tool on one server) gets its own key prefix and its own
Normalizer: indexes become symbols in order of first appearance, TTLs are compared with
a tolerance, the prefix and 127.0.0.1 ports are masked, and `ls` lines are sorted (Go map
order). Runs of one server go one at a time: error lines and `Index:` show the server's
global index, which another run's writes would move.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

from . import harness
from .harness import FORM, REPO, build_request, exchange, wait_until
from .normalize import Normalized, Normalizer

UNDER_TEST_ENV = "TRIONODE_CTL_UNDER_TEST"
WAIT = 5.0                              # longest wait for a watch to register or to print
# global flags that take a value: the command is the first word after them
_VALUED = {"-o", "--output", "--endpoints", "--endpoint", "--peers", "-C", "--timeout",
           "--total-timeout", "-D", "--discovery-srv", "--cert-file", "--key-file",
           "--ca-file", "-u", "--username"}
_PLACEHOLDER = re.compile(r"\{(p|q|url|hp|dead|m\d+)\}")
_INDEX_LINE = re.compile(r"^((?:Created-|Modified-)?Index: )(\d+)$")
_NUMBERED = re.compile(r"\b(waitIndex|prevIndex|modified-index)=(\d+)")
_SUPERSET = re.compile(r"(Etcd-Index|Raft-Index|Raft-Term): (\d+)")
# A total deadline that passes before the answer: etcdctl's client selects between its expired
# context and the request, whose dial the same deadline fails at once, and Go picks either when
# both are ready. So it prints "context deadline exceeded" or this cluster error naming the
# dial's i/o timeout (2 runs in 150 of `--total-timeout 1ns get` on a busy 2-core machine).
# Both say the deadline passed first: the second is read as the first.
_DEADLINE_AT_DIAL = re.compile(
    r"Error:  client: etcd cluster is unavailable or misconfigured; error #0: dial tcp (\S+): "
    r"i/o timeout\n\nerror #0: dial tcp \1: i/o timeout\n\n")
DEADLINE = "Error:  context deadline exceeded\n"


# ---------------------------------------------------------------- steps

@dataclasses.dataclass(frozen=True)
class Put:
    """A setup write over raw HTTP, not compared. value None makes a directory. Later
    steps see this write's node modifiedIndex as {mN}, N its position in the case."""
    key: str
    value: str | None = ""
    ttl: int | None = None


@dataclasses.dataclass(frozen=True)
class Ctl:
    """One command line. Placeholders: {p} the run's key prefix, {q} the same without the
    leading slash, {url} the server, {hp} its host:port, {dead} a closed port, {mN} see
    Put."""
    argv: tuple[str, ...]
    stdin: str | None = None            # None: /dev/null
    env: tuple[tuple[str, str], ...] = ()
    endpoints: bool = True              # prepend --endpoints {url}
    exit_only: bool = False             # help and usage text differ on purpose
    root: bool = False                  # a root listing: keep only this run's own lines
    triggers: tuple["Put | Ctl", ...] = ()      # writes fired once the watch is waiting
    lines: int | None = None            # stop after this many stdout lines (None: it ends)

    @property
    def background(self) -> bool:
        return bool(self.triggers) or self.lines is not None

    def text(self) -> str:
        return "$ ctl " + " ".join(_shell_word(a) for a in self.argv)


def _shell_word(arg: str) -> str:
    return arg if re.fullmatch(r"[\w/{}.,:=@+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


@dataclasses.dataclass(frozen=True)
class Tool:
    name: str
    argv: tuple[str, ...]
    superset: bool                      # prints Etcd-Index/Raft-Index/Raft-Term in -o extended


ETCDCTL = Tool("etcdctl", ("etcdctl",), False)
TRIONODECTL = Tool("trionodectl", (sys.executable, "-m", "trionode.ctl"), True)


def tool_under_test() -> Tool:
    """TRIONODE_CTL_UNDER_TEST=etcdctl compares etcdctl with itself: proves the harness."""
    name = os.environ.get(UNDER_TEST_ENV, "trionodectl").strip() or "trionodectl"
    tools = {t.name: t for t in (ETCDCTL, TRIONODECTL)}
    if name not in tools:
        raise ValueError(f"{UNDER_TEST_ENV} must be 'etcdctl' or 'trionodectl', not {name!r}")
    return tools[name]


@dataclasses.dataclass(frozen=True)
class Where:
    """What one run needs to know: server, tool, and the run's own key prefix."""
    url: str
    tool: Tool
    prefix: str                         # "/ctl-ref-<case>"
    dead: str                           # an endpoint nobody listens on

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@dataclasses.dataclass
class Outcome:
    code: int | None                    # None: did not end, had to be killed
    stdout: str
    stderr: str
    at: float                           # wall clock at the end, for expiration checks
    notes: tuple[str, ...] = ()         # what the harness saw go wrong (late output, ...)
    triggers: tuple = ()                # outcomes of Ctl triggers, in order


# ---------------------------------------------------------------- running

def expand(text: str, where: Where, marks: list[int]) -> str:
    values = {"p": where.prefix, "q": where.prefix[1:], "url": where.url,
              "hp": where.url.split("//", 1)[1], "dead": where.dead}
    return _PLACEHOLDER.sub(lambda m: values.get(m[1]) or str(marks[int(m[1][1:])]), text)


def tool_env(step: Ctl, where: Where, marks: list[int]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
    env["ETCDCTL_API"] = "2"
    env.update({k: expand(v, where, marks) for k, v in step.env})
    return env


def put(step: Put, where: Where, marks: list[int]) -> int:
    """The write over raw HTTP; returns the node's modifiedIndex."""
    key = urllib.parse.quote(expand(step.key, where, marks))
    form = {} if step.value is None else {"value": step.value}
    if step.ttl is not None:
        form["ttl"] = str(step.ttl)
    target = "/v2/keys" + key + ("?dir=true" if step.value is None else "")
    raw = build_request(where.port, "PUT", target, FORM, urllib.parse.urlencode(form).encode())
    resp = exchange(where.port, raw)
    if resp.status not in (200, 201):
        raise RuntimeError(f"setup {step} failed: {resp.status} {resp.body!r}")
    return int(resp.json()["node"]["modifiedIndex"])


def watchers(where: Where) -> int:
    return harness.watchers(where.port)


def run_case(steps, where: Where) -> list:
    """Run a case on one server; per step the Put's modifiedIndex or the Ctl's Outcome."""
    marks: list[int] = []
    results: list = []
    for step in steps:
        result = put(step, where, marks) if isinstance(step, Put) else run_ctl(step, where, marks)
        marks.append(result if isinstance(result, int) else 0)
        results.append(result)
    return results


def run_ctl(step: Ctl, where: Where, marks: list[int]) -> Outcome:
    argv = [*where.tool.argv, *(("--endpoints", where.url) if step.endpoints else ()),
            *(expand(a, where, marks) for a in step.argv)]
    env = tool_env(step, where, marks)
    if step.background:
        return run_background(step, where, marks, argv, env)
    stdin = None if step.stdin is None else step.stdin.encode()
    try:
        p = subprocess.run(argv, input=stdin, stdin=subprocess.DEVNULL if stdin is None else None,
                           capture_output=True, env=env, cwd=REPO, timeout=15)
    except subprocess.TimeoutExpired as exc:
        return Outcome(None, _text(exc.stdout), _text(exc.stderr), time.time(),
                       ("still running after 15s: killed",))
    return Outcome(p.returncode, _text(p.stdout), _text(p.stderr), time.time())


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="backslashreplace")


class Background:
    """A tool in its own process group; two threads pump its output as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, cwd=REPO,
                                     start_new_session=True)
        self.out, self.err = bytearray(), bytearray()
        pipes = ((self.proc.stdout, self.out), (self.proc.stderr, self.err))
        self.pumps = [threading.Thread(target=self._pump, args=(pipe, sink), daemon=True)
                      for pipe, sink in pipes]
        for t in self.pumps:
            t.start()

    @staticmethod
    def _pump(pipe, sink: bytearray) -> None:
        for chunk in iter(lambda: pipe.read1(65536), b""):
            sink += chunk

    def printed(self) -> int:
        return bytes(self.out).count(b"\n") + bytes(self.err).count(b"\n")

    def exited(self, timeout: float = 0.0) -> bool:
        """Has it ended? Asked without reaping it: until it is reaped, its zombie keeps
        the process group id ours, so signalling the group cannot reach a stranger."""
        def ended():
            flags = os.WEXITED | os.WNOWAIT | os.WNOHANG
            return self.proc.returncode is not None or os.waitid(
                os.P_PID, self.proc.pid, flags) is not None
        return wait_until(ended, timeout)

    def interrupt(self) -> int | None:
        """Ctrl-C: SIGINT to the group; None if it had to be SIGKILLed after 3 s."""
        if not self.exited():
            self._signal(signal.SIGINT)
            self.exited(3.0)
        return self.close()

    def close(self) -> int | None:
        """Kill whatever of the group is left (exec-watch children too), then reap it."""
        if self.proc.returncode is not None:
            return self.proc.returncode
        alive = not self.exited()
        self._signal(signal.SIGKILL)
        self.proc.wait(timeout=5)
        for t in self.pumps:
            t.join(timeout=5)
        return None if alive else self.proc.returncode

    def _signal(self, sig) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass


def run_background(step: Ctl, where: Where, marks: list[int], argv, env) -> Outcome:
    """Start, wait until the server holds its watch, fire the triggers, stop it."""
    base, notes, fired = watchers(where), [], []
    bg = Background(argv, env)
    try:
        def registered():
            return watchers(where) > base or bg.exited()
        if not wait_until(registered, WAIT):
            notes.append(f"no watcher registered within {WAIT}s")
        for i, trigger in enumerate(step.triggers):
            if i:       # the previous event printed (a dir event may not) and waiting again
                wait_until(lambda: bg.printed() > printed, 0.5)
                wait_until(registered, WAIT)
            printed = bg.printed()
            result = (put(trigger, where, marks) if isinstance(trigger, Put)
                      else run_ctl(trigger, where, marks))
            if isinstance(result, Outcome):
                fired.append(result)
        if step.lines is None:
            if not bg.exited(WAIT):
                notes.append(f"still running {WAIT}s after the last trigger")
        elif not wait_until(lambda: bytes(bg.out).count(b"\n") >= step.lines, WAIT):
            notes.append(f"fewer than {step.lines} stdout lines within {WAIT}s")
        time.sleep(0.1)                     # anything printed after what we waited for
        code = bg.interrupt()
    finally:
        bg.close()
    if code is None:
        notes.append("did not end on SIGINT: killed")
    wait_until(lambda: watchers(where) <= base, 2.0)    # the next case counts from here
    return Outcome(code, _text(bytes(bg.out)), _text(bytes(bg.err)), time.time(),
                   tuple(notes), tuple(fired))


# ---------------------------------------------------------------- normalizing

def command_of(argv) -> tuple[str, str]:
    """(command, output mode) of an etcdctl command line."""
    mode, args = "simple", iter(argv)
    for arg in args:
        if arg in ("-o", "--output"):
            mode = next(args, "")
        elif arg.startswith(("-o=", "--output=")):
            mode = arg.split("=", 1)[1]
        elif arg in _VALUED:
            next(args, None)
        elif not arg.startswith("-"):
            return arg, mode
    return "", mode


def strip_superset(text: str, required: bool) -> tuple[str, list[str]]:
    """Drop trionodectl's Etcd-Index/Raft-Index/Raft-Term lines after `Index: N`, checking
    them first: all three when required, in that order, Etcd-Index == Index, Raft-Index
    >= Index (every store write is a raft entry), Raft-Term >= 1."""
    lines, out, problems = text.split("\n"), [], []
    i = 0
    while i < len(lines):
        out.append(lines[i])
        index = re.fullmatch(r"Index: (\d+)", lines[i])
        i += 1
        if not index:
            continue
        extra = []
        while i < len(lines) and (m := _SUPERSET.fullmatch(lines[i])):
            extra.append((m[1], int(m[2])))
            i += 1
        names, values, n = [k for k, _ in extra], dict(extra), int(index[1])
        if not required:
            if extra:
                problems.append(f"unexpected {names} after Index: {n}")
            continue
        if names != ["Etcd-Index", "Raft-Index", "Raft-Term"]:
            problems.append(f"after 'Index: {n}' expected Etcd-Index, Raft-Index, Raft-Term; "
                            f"got {names}")
        if values.get("Etcd-Index", n) != n:
            problems.append(f"Etcd-Index {values['Etcd-Index']} != Index {n}")
        if values.get("Raft-Index", n) < n:
            problems.append(f"Raft-Index {values['Raft-Index']} < Index {n}")
        if values.get("Raft-Term", 1) < 1:
            problems.append(f"Raft-Term {values['Raft-Term']} < 1")
    return "\n".join(out), problems


def normalize_text(norm: Normalizer, text: str, argv, *, where: Where, root: bool,
                   at: float) -> str:
    command, mode = command_of(argv)
    lines = []
    for line in text.split("\n"):
        if root and line.startswith("/") and not (line == where.prefix
                                                  or line.startswith(where.prefix + "/")):
            continue                    # other runs' top-level keys
        line = line.replace(where.prefix[1:], "<q>")
        if mode == "json" and line.startswith("{"):
            body = norm.body(line.encode(), keep_order="--sort" in argv, now=at, shape=False,
                             only_prefix=False)
            lines.append(body.rsplit("\n", 1)[0])
            continue
        line = _INDEX_LINE.sub(lambda m: m[1] + norm.sym(m[2]), line)
        line = re.sub(r"^TTL: (-?\d+)$", lambda m: "TTL: " + norm.ttl(m[1]), line)
        line = _NUMBERED.sub(lambda m: f"{m[1]}={norm.sym(m[2])}", line)
        if line.startswith("Error:  "):
            line = re.sub(r"\[(\d+)\]$", lambda m: f"[{norm.sym(m[1])}]", norm.cause(line))
        lines.append(norm.text(line))
    last = lines.pop() if lines and lines[-1] == "" else None
    if command == "ls" and mode == "simple":
        lines.sort()                    # server order is Go map order
    return "\n".join(lines + ([last] if last is not None else []))


def normalize_outcome(norm: Normalizer, out: Outcome, step: Ctl, where: Where,
                      marks: list[int]) -> Normalized:
    argv = [expand(a, where, marks) for a in step.argv]
    norm.ttls = []
    if step.exit_only:
        return Normalized(f"exit {out.code} (output not compared)", [])
    stdout, problems = strip_superset(out.stdout, where.tool.superset)
    parts = [f"exit {out.code}", "stdout:",
             normalize_text(norm, stdout, argv, where=where, root=step.root, at=out.at),
             "stderr:",
             normalize_text(norm, _DEADLINE_AT_DIAL.sub(DEADLINE, out.stderr), argv,
                            where=where, root=step.root, at=out.at)]
    parts += [f"!! -o extended superset: {p}" for p in problems]
    parts += [f"!! {n}" for n in out.notes]
    ttls = list(norm.ttls)
    ctl_triggers = [t for t in step.triggers if isinstance(t, Ctl)]
    for trigger, fired in zip(ctl_triggers, out.triggers):
        sub = normalize_outcome(norm, fired, trigger, where, marks)
        parts += [f"trigger {trigger.text()}:", sub.text]
        ttls += sub.ttls
    return Normalized("\n".join(parts), ttls)


def normalize_run(steps, results, where: Where) -> list[Normalized | None]:
    """Per step: None for a Put (its index only seeds the symbols), else Normalized."""
    norm, marks, out = Normalizer(where.prefix), [], []
    for step, result in zip(steps, results):
        if isinstance(step, Put):
            norm.sym(result)
            out.append(None)
        else:
            out.append(normalize_outcome(norm, result, step, where, marks))
        marks.append(result if isinstance(result, int) else 0)
    return out
