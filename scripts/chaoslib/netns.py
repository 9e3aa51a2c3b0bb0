"""The outer process: own a network namespace for the length of one run.

It creates `trionode-chaos-<pid>`, brings its loopback up and re-executes scripts/chaos
inside it (`ip netns exec`), in a session of its own so that a Ctrl-C on the terminal
reaches only this process, which passes each SIGINT/SIGTERM/SIGHUP on exactly once. Then,
whatever happened (a normal end, a signal, an error, the inner run overrunning its time
bound), it kills by PID every process still in the namespace (`ip netns pids`: all of them
were started by the inner run) and deletes the namespace. The host's own network and
firewall are never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .options import NAMESPACE_PREFIX, SETUP_TIMEOUT, Options

__all__ = ["run_outside", "NamespaceError"]

TOOLS = ("ip", "iptables", "iptables-restore")
SLACK = 60.0                  # beyond the phases' own bounds, before the inner run is killed
REAP_WAIT = 5.0
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class NamespaceError(Exception):
    """The namespace could not be set up (not root, a tool missing, `ip` failed)."""


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if result.returncode != 0:
        raise NamespaceError(f"ip {' '.join(args)}: {result.stderr.strip()}")


def _pids(namespace: str) -> list[int]:
    result = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True,
                            text=True, timeout=10)
    return [int(word) for word in result.stdout.split() if word.isdigit()]


def _kill_leftovers(namespace: str) -> list[int]:
    """SIGKILL every process in the namespace, by PID, until none is left (bounded)."""
    killed: list[int] = []
    deadline = time.monotonic() + REAP_WAIT
    while time.monotonic() < deadline:
        pids = _pids(namespace)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    return sorted(set(killed))


def _time_bound(opts: Options) -> float:
    return SETUP_TIMEOUT + opts.duration + opts.converge_timeout + opts.check_timeout + SLACK


def _check_environment() -> None:
    if os.geteuid() != 0:
        raise NamespaceError("needs root (it creates a network namespace and iptables rules)")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise NamespaceError(f"missing tools: {', '.join(missing)}")


def _wait(proc: subprocess.Popen, bound: float) -> int:
    try:
        return proc.wait(timeout=bound)
    except subprocess.TimeoutExpired:
        print(f"chaos: the run overran its {bound:.0f}s bound; killing it", file=sys.stderr)
        proc.kill()
        return proc.wait()


def run_outside(argv: list[str], opts: Options, script: str) -> int:
    """Run the inner process in a fresh namespace; its exit status (2: could not run)."""
    try:
        _check_environment()
    except NamespaceError as exc:
        print(f"chaos: {exc}", file=sys.stderr)
        return 2
    out = Path(opts.out) if opts.out else Path(tempfile.mkdtemp(prefix="trionode-chaos-"))
    out.mkdir(parents=True, exist_ok=True)
    namespace = f"{NAMESPACE_PREFIX}{os.getpid()}"
    previous = {signum: signal.getsignal(signum) for signum in FORWARDED}
    proc: subprocess.Popen | None = None
    created = False

    def forward(signum: int, _frame) -> None:
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signum)

    try:
        for signum in FORWARDED:
            signal.signal(signum, forward)
        _ip("netns", "add", namespace)
        created = True
        _ip("-n", namespace, "link", "set", "lo", "up")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, script, *argv,
             "--inside", "--out", str(out)], start_new_session=True)
        return _wait(proc, _time_bound(opts))
    except NamespaceError as exc:
        print(f"chaos: {exc}", file=sys.stderr)
        return 2
    finally:
        if created:
            leftovers = _kill_leftovers(namespace)
            if leftovers:
                print(f"chaos: killed leftover processes {leftovers}", file=sys.stderr)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=10)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
