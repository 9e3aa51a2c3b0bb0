"""main(): from the command line to a command, run in one trio.run.

Dispatch follows urfave/cli as etcdctl 3.4 uses it: global flags, then the command name
(`No help topic for 'x'`, exit 3, for an unknown one), then the command's own flags.
Our help replaces etcdctl's (a documented superset), and so does the one-line message
for an unusable command line (exit 1 either way).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import BinaryIO

import trio

from .. import __version__
from . import helptext, keys, members, watch
from .args import (
    COMMAND_FLAGS,
    GLOBAL_FLAGS,
    MEMBER_COMMANDS,
    HelpRequested,
    UsageError,
    global_options,
    parse_command_flags,
    parse_flags,
)
from .session import EXIT_BAD_ARGS, EXIT_BAD_FEATURE, Call, Console, Exit

__all__ = ["main"]

Handler = Callable[[Call], Awaitable[None]]
HANDLERS: Mapping[str, Handler] = {**keys.COMMANDS, **watch.COMMANDS, **members.COMMANDS}
UNSUPPORTED = ("backup", "user", "role", "auth")   # etcdctl v2 commands we do not offer
#: exit status for Ctrl-C where etcdctl does not catch it (it dies of the signal)
INTERRUPTED = 130
BROKEN_PIPE = 141


class _Done(Exception):
    """Dispatch ended before any command ran (help, version, a refusal)."""

    def __init__(self, code: int, out: str = "", err: str = "") -> None:
        super().__init__(code)
        self.code, self.out, self.err = code, out, err


def _usage(exc: UsageError) -> _Done:
    where = f"trionodectl {exc.command} --help" if exc.command else "trionodectl --help"
    return _Done(EXIT_BAD_ARGS, err=f"trionodectl: {exc}\nRun '{where}' for usage.\n")


def _no_topic(name: str) -> _Done:
    return _Done(EXIT_BAD_FEATURE, err=f"No help topic for '{name}'\n")


def _help_topic(args: Sequence[str]) -> _Done:
    """`help [command]`."""
    if not args:
        return _Done(0, helptext.app_help())
    if args[0] == "member":
        return _Done(0, helptext.member_help())
    if args[0] in helptext.COMMANDS:
        return _Done(0, helptext.command_help(args[0]))
    return _no_topic(args[0])


def _member_command(args: Sequence[str]) -> tuple[str, tuple[str, ...], dict]:
    """`member <sub> ...`: member's own flags (just help), then the subcommand's."""
    try:
        rest = parse_flags((), args).args
    except HelpRequested:
        raise _Done(0, helptext.member_help()) from None
    if not rest or rest[0] in ("help", "h"):
        raise _Done(0, helptext.member_help())
    if rest[0] not in MEMBER_COMMANDS:
        raise _no_topic(rest[0])
    name = f"member {rest[0]}"
    try:
        parsed = parse_command_flags(name, (), rest[1:])
    except HelpRequested:
        raise _Done(0, helptext.member_help()) from None
    return name, parsed.args, dict(parsed.values)


def _command(args: Sequence[str]) -> tuple[str, tuple[str, ...], dict]:
    """The command name, its arguments and its flags, or _Done."""
    name, rest = args[0], args[1:]
    if name in ("help", "h"):
        raise _help_topic(rest)
    if name == "member":
        return _member_command(rest)
    if name in UNSUPPORTED:
        raise _Done(EXIT_BAD_FEATURE, err=f"trionodectl: '{name}' is an etcdctl command "
                                          "that trionodectl does not offer\n")
    if name not in COMMAND_FLAGS:
        raise _no_topic(name)
    try:
        parsed = parse_command_flags(name, COMMAND_FLAGS[name], rest)
    except HelpRequested:
        raise _Done(0, helptext.command_help(name)) from None
    return name, parsed.args, dict(parsed.values)


def _call(argv: Sequence[str], env: Mapping[str, str], console: Console,
          stdin: BinaryIO | None) -> Call:
    try:
        top = parse_flags(GLOBAL_FLAGS, argv)
        if top.values["version"]:
            raise _Done(0, f"trionodectl version: {__version__}\nAPI version: 2\n")
        if not top.args:
            raise _Done(0, helptext.app_help())
        name, args, flags = _command(top.args)
    except HelpRequested:
        raise _Done(0, helptext.app_help()) from None
    except UsageError as exc:
        raise _usage(exc) from None
    read = stdin.read if stdin is not None else bytes
    return Call(name, global_options(top.values, env), flags, args, console, read)


def _catches_interrupt(call: Call) -> bool:
    """etcdctl exits 0 on Ctrl-C in watch, exec-watch and cluster-health --forever."""
    return call.name in ("watch", "exec-watch") or (
        call.name == "cluster-health" and bool(call.flags["forever"]))


def _leaf(exc: BaseException) -> BaseException:
    """The one exception inside nested single-member groups (a nursery wraps them)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def _listen_for_interrupt() -> None:
    """Go's signal.Notify takes SIGINT back even when the shell started etcdctl with it
    ignored (a background job), and its watch commands then exit 0 on it: so do we."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        try:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        except ValueError:          # not the main thread: leave signals alone
            pass


def _run(call: Call) -> int:
    if _catches_interrupt(call):
        _listen_for_interrupt()
    try:
        trio.run(HANDLERS[call.name], call)
    except BaseException as raised:     # noqa: BLE001 - sorted out just below
        exc = _leaf(raised)
        if isinstance(exc, Exit):
            return exc.code
        if isinstance(exc, KeyboardInterrupt):
            return 0 if _catches_interrupt(call) else INTERRUPTED
        if isinstance(exc, BrokenPipeError):
            return BROKEN_PIPE
        raise
    return 0


def main(argv: Sequence[str] | None = None, *, env: Mapping[str, str] | None = None,
         stdin: BinaryIO | None = None, stdout: BinaryIO | None = None,
         stderr: BinaryIO | None = None) -> int:
    """Run one trionodectl command line; the exit status etcdctl would give."""
    argv = sys.argv[1:] if argv is None else list(argv)
    env = os.environ if env is None else env
    if stdin is None and sys.stdin is not None:
        stdin = sys.stdin.buffer
    console = Console(stdout or sys.stdout.buffer, stderr or sys.stderr.buffer)
    try:
        call = _call(argv, env, console, stdin)
    except _Done as done:
        console.out(done.out)
        console.err(done.err)
        return done.code
    return _run(call)
