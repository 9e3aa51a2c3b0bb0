"""watch and exec-watch (etcdctl/ctlv2/command/watch_command.go, exec_watch_command.go).

Both follow the Go client's Watcher: the first wait is at --after-index + 1 (or "from now"),
each next one at the event's modifiedIndex + 1, and a 401 (history cleared) ends the
command with exit 4, as etcdctl does: there is no resync. Directory events are skipped
(watch) or reported on stderr (exec-watch). Ctrl-C ends either with status 0 (main()).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing

import trio

from ..client import Client, ClientError, Response
from .output import response_text
from .session import EXIT_BAD_ARGS, EXIT_SERVER_ERROR, Call, Exit, fail, open_client, uint64_flag

__all__ = ["COMMANDS", "exec_watch_target", "watch_environment", "start_error"]

def _after_index(call: Call) -> int:
    # Go: AfterIndex is uint64(flag) and the first waitIndex AfterIndex + 1, which wraps
    # to 0 ("from now") for -1.
    after = uint64_flag(call, "after-index")
    return 0 if after == (1 << 64) - 1 else after


def _events(call: Call, client: Client, key: str):
    return client.watch(key, recursive=bool(call.flags["recursive"]),
                        after_index=_after_index(call), resync=False)


async def watch(call: Call) -> None:
    async with open_client(call) as client:
        if not call.args:
            fail(call.console, EXIT_BAD_ARGS, "key required")
        recursive, forever = bool(call.flags["recursive"]), bool(call.flags["forever"])
        try:
            async with aclosing(_events(call, client, call.args[0])) as events:
                async for event in events:
                    if event.node.dir:
                        continue
                    if recursive:
                        call.console.out(f"[{event.action}] {event.node.key or ''}\n")
                    call.console.show(response_text(event, call.options.output))
                    if not forever:
                        return
        except ClientError as exc:
            fail(call.console, EXIT_SERVER_ERROR, exc)


def exec_watch_target(args: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """etcdctl 3.4's rule: with a `--` after the first argument the key is the first
    argument and the command starts at the third; otherwise the key is the last one.

    The arguments arrive after urfave's reorder, which already dropped the first `--`:
    `exec-watch /k -- cmd` watches "cmd" (key last), `exec-watch -r /k -- cmd` watches /k.
    """
    if "--" in args[1:]:
        return args[0], tuple(args[2:])
    return args[-1], tuple(args[:-1])


def watch_environment(base: Mapping[str, str], event: Response) -> dict[str, str]:
    """The inherited environment plus ETCD_WATCH_* (later entries win, as in Go's exec)."""
    env = dict(base)
    env["ETCD_WATCH_ACTION"] = event.action
    env["ETCD_WATCH_MODIFIED_INDEX"] = str(event.node.modified_index)
    env["ETCD_WATCH_KEY"] = event.node.key or ""
    env["ETCD_WATCH_VALUE"] = event.node.value or ""
    return env


def start_error(name: str, exc: OSError) -> str:
    """Go's text for a command that could not start (exec.Cmd.Start's error)."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return f"fork/exec {name}: {reason[:1].lower()}{reason[1:]}"


async def _start(command: tuple[str, ...], env: dict[str, str]) -> trio.Process:
    """Start one command as Go's exec.Command does: a bare name is looked up in $PATH."""
    if not command or not command[0]:
        raise _StartFailed("exec: no command")
    name, executable = command[0], command[0]
    if "/" not in name:
        found = shutil.which(name)
        if found is None:
            raise _StartFailed(f'exec: "{name}": executable file not found in $PATH')
        executable = found
    try:
        return await trio.lowlevel.open_process(list(command), executable=executable,
                                                env=env, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise _StartFailed(start_error(name, exc)) from None


class _StartFailed(Exception):
    """The command of exec-watch could not be started; str() is Go's error text."""


async def exec_watch(call: Call) -> None:
    async with open_client(call) as client:
        if len(call.args) < 2:
            fail(call.console, EXIT_BAD_ARGS, "key and command to exec required")
        key, command = exec_watch_target(call.args)
        # 3.4 starts each command and goes back to watching at once: runs overlap.
        async with trio.open_nursery() as children:
            try:
                async with aclosing(_events(call, client, key)) as events:
                    async for event in events:
                        if event.node.dir:
                            call.console.err(f"Ignored dir {event.node.key or ''} change\n")
                            continue
                        proc = await _start(command, watch_environment(os.environ, event))
                        children.start_soon(proc.wait)
            except ClientError as exc:
                fail(call.console, EXIT_SERVER_ERROR, exc)
            except _StartFailed as exc:
                call.console.err(str(exc))      # etcdctl prints it without a newline
                raise Exit(EXIT_BAD_ARGS) from None


COMMANDS: dict[str, Callable[[Call], Awaitable[None]]] = {
    "watch": watch, "exec-watch": exec_watch,
}
