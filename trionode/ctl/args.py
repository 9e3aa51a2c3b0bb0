"""etcdctl's command line, read the way urfave/cli v1.22 and Go's flag package read it. Pure.

Global flags come before the command and are parsed by Go's flag.FlagSet alone: parsing
stops at the first argument that is not a flag (the command name), and after `--`.

Command flags first go through urfave's reordering: every argument that names one of the
command's flags is moved to the front, together with the argument right after it when that
one is not itself a flag (the reorder cannot know which flags are bool, so `ls -r /d -p`
becomes `-r /d -p` and Go's parser stops at `/d`: -p is then a plain argument, as with
etcdctl). Everything from the first `--` on is kept in order, with the `--` itself moved in
front of the other plain arguments, so Go's parser drops it: `exec-watch /k -- cmd` reaches
exec-watch as `/k cmd`. Then Go's parser runs as for the global flags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..gocompat.parse import GoSyntaxError, endpoint_url, parse_bool, parse_duration, parse_int, quote

__all__ = [
    "CtlFlag", "Parsed", "UsageError", "HelpRequested", "GlobalOptions",
    "GLOBAL_FLAGS", "COMMAND_FLAGS", "MEMBER_COMMANDS", "DEFAULT_ENDPOINTS",
    "reorder", "parse_flags", "parse_command_flags", "global_options", "endpoints_from",
]

DEFAULT_ENDPOINTS = "http://127.0.0.1:2379,http://127.0.0.1:4001"


class UsageError(Exception):
    """The command line cannot be used; str() names the problem in one line."""

    def __init__(self, message: str, command: str | None = None) -> None:
        super().__init__(message)
        self.command = command


class HelpRequested(Exception):
    """-h / --help was given (to the program, or to a command)."""


@dataclass(frozen=True, slots=True)
class CtlFlag:
    names: tuple[str, ...]          # names[0] is the key of the parsed value
    kind: str                       # "bool", "int", "string" or "duration"
    default: object = None

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True, slots=True)
class Parsed:
    values: Mapping[str, object]    # every flag of the set, by its first name
    args: tuple[str, ...]           # what is left after the flags


_HELP = CtlFlag(("help", "h"), "bool", False)

GLOBAL_FLAGS = (
    CtlFlag(("debug",), "bool", False),
    CtlFlag(("no-sync",), "bool", False),
    CtlFlag(("output", "o"), "string", "simple"),
    CtlFlag(("discovery-srv", "D"), "string", ""),
    CtlFlag(("insecure-discovery",), "bool", False),
    CtlFlag(("peers", "C"), "string", ""),
    CtlFlag(("endpoint",), "string", ""),
    CtlFlag(("endpoints",), "string", ""),
    CtlFlag(("cert-file",), "string", ""),
    CtlFlag(("key-file",), "string", ""),
    CtlFlag(("ca-file",), "string", ""),
    CtlFlag(("username", "u"), "string", ""),
    CtlFlag(("timeout",), "duration", 2.0),
    CtlFlag(("total-timeout",), "duration", 5.0),
    _HELP,
    CtlFlag(("version", "v"), "bool", False),
)

_TTL = CtlFlag(("ttl",), "int", 0)
_RECURSIVE = CtlFlag(("recursive", "r"), "bool", False)
_AFTER = CtlFlag(("after-index",), "int", 0)
_SORT = CtlFlag(("sort",), "bool", False)
_QUORUM = CtlFlag(("quorum", "q"), "bool", False)

COMMAND_FLAGS: Mapping[str, tuple[CtlFlag, ...]] = {
    "cluster-health": (CtlFlag(("forever", "f"), "bool", False),),
    "mk": (CtlFlag(("in-order",), "bool", False), _TTL),
    "mkdir": (_TTL,),
    "rm": (CtlFlag(("dir",), "bool", False), _RECURSIVE, CtlFlag(("with-value",), "string", ""),
           CtlFlag(("with-index",), "int", 0)),
    "rmdir": (),
    "get": (_SORT, _QUORUM),
    "ls": (_SORT, _RECURSIVE, CtlFlag(("p",), "bool", False), _QUORUM),
    "set": (_TTL, CtlFlag(("swap-with-value",), "string", ""),
            CtlFlag(("swap-with-index",), "int", 0)),
    "setdir": (_TTL,),
    "update": (_TTL,),
    "updatedir": (_TTL,),
    "watch": (CtlFlag(("forever", "f"), "bool", False), _AFTER, _RECURSIVE),
    "exec-watch": (_AFTER, _RECURSIVE),
}
MEMBER_COMMANDS = ("list", "add", "remove", "update")


def _find(flags: Sequence[CtlFlag], name: str) -> CtlFlag | None:
    for flag in flags:
        if name in flag.names:
            return flag
    return None


def _names_flag(flags: Sequence[CtlFlag], arg: str) -> bool:
    """urfave's argIsFlag: `-x`, `--x` or `--x=v` where x is one of the flags' names."""
    if arg == "-" or not arg.startswith("-"):
        return False
    name = arg[2:] if arg.startswith("--") else arg[1:]
    return _find(flags, name.split("=", 1)[0]) is not None


def reorder(flags: Sequence[CtlFlag], args: Sequence[str]) -> list[str]:
    """urfave/cli v1.22 reorderArgs (see the module docstring)."""
    moved: list[str] = []
    rest: list[str] = []
    may_be_value = False
    for i, arg in enumerate(args):
        if may_be_value and not _names_flag(flags, arg):
            may_be_value = False
            moved.append(arg)
        elif arg == "--":
            rest = ["--", *rest, *args[i + 1:]]
            break
        elif _names_flag(flags, arg):
            moved.append(arg)
            may_be_value = "=" not in arg
        else:
            rest.append(arg)
    return moved + rest


def _convert(flag: CtlFlag, option: str, text: str) -> object:
    try:
        if flag.kind == "bool":
            return parse_bool(text)
        if flag.kind == "int":
            return parse_int(text)
        if flag.kind == "duration":
            return parse_duration(text)
        return text
    except GoSyntaxError as exc:
        what = "boolean value" if flag.kind == "bool" else "value"
        raise UsageError(f"invalid {what} {quote(text)} for flag {option}: {exc}") from None


def parse_flags(flags: Sequence[CtlFlag], args: Sequence[str]) -> Parsed:
    """Go's flag.FlagSet.Parse over `flags` plus -h/--help; UsageError on a bad flag."""
    known = (*flags, _HELP) if _find(flags, "help") is None else tuple(flags)
    values: dict[str, object] = {f.name: f.default for f in known}
    seen: dict[str, str] = {}
    todo = list(args)
    while todo:
        arg = todo[0]
        if len(arg) < 2 or arg[0] != "-":
            break
        todo.pop(0)
        if arg == "--":
            break
        body = arg[2:] if arg[1] == "-" else arg[1:]
        if not body or body[0] in "-=":
            raise UsageError(f"bad flag syntax: {arg}")
        name, has_value, text = body.partition("=")
        flag = _find(known, name)
        if flag is None:
            raise UsageError(f"flag provided but not defined: -{name}")
        if flag.kind != "bool" and not has_value:
            if not todo:
                raise UsageError(f"flag needs an argument: -{name}")
            text = todo.pop(0)
        values[flag.name] = _convert(flag, f"-{name}",
                                     text if has_value or flag.kind != "bool" else "true")
        # urfave's normalizeFlags: two names of one flag on one command line are refused
        if seen.setdefault(flag.name, name) != name:
            raise UsageError(f"cannot use two forms of the same flag: "
                             f"{seen[flag.name]} {name}")
    if values["help"]:
        raise HelpRequested()
    return Parsed(values, tuple(todo))


def parse_command_flags(command: str, flags: Sequence[CtlFlag], args: Sequence[str]) -> Parsed:
    """A command's own flags: urfave's reorder, then Go's parser; errors name the command."""
    known = (*flags, _HELP)
    try:
        return parse_flags(known, reorder(known, args))
    except UsageError as exc:
        raise UsageError(str(exc), command) from None


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    debug: bool
    no_sync: bool
    output: str
    endpoint_list: str              # the comma-separated list chosen, not yet parsed
    timeout: float | None           # per request; None when <= 0 (Go: no header timeout)
    total_timeout: float            # around each command but watch; clamped at 0
    username: str
    discovery_srv: str
    ca_file: str = ""               # --ca-file, else $ETCDCTL_CA_FILE ("" = system roots)
    cert_file: str = ""             # --cert-file, else $ETCDCTL_CERT_FILE
    key_file: str = ""              # --key-file, else $ETCDCTL_KEY_FILE


def endpoints_from(endpoint_list: str) -> tuple[str, ...]:
    """Each endpoint made a URL as Go reads it; GoSyntaxError (etcdctl: exit 1) if not."""
    return tuple(endpoint_url(part) for part in endpoint_list.split(","))


def global_options(values: Mapping[str, object], env: Mapping[str, str]) -> GlobalOptions:
    """The parsed global flags, with etcdctl's environment fallbacks. The endpoint list
    follows its precedence: --endpoints, $ETCDCTL_ENDPOINTS, --endpoint, $ETCDCTL_ENDPOINT,
    --peers, $ETCDCTL_PEERS, then the default. The TLS files: the flag, else its variable
    (etcdctl's getTransport)."""
    endpoint_list = (values["endpoints"] or env.get("ETCDCTL_ENDPOINTS") or values["endpoint"]
                     or env.get("ETCDCTL_ENDPOINT") or values["peers"]
                     or env.get("ETCDCTL_PEERS") or DEFAULT_ENDPOINTS)
    timeout = float(values["timeout"])
    return GlobalOptions(
        debug=bool(values["debug"]),
        no_sync=bool(values["no-sync"]),
        output=str(values["output"]),
        endpoint_list=str(endpoint_list),
        timeout=timeout if timeout > 0 else None,
        total_timeout=max(0.0, float(values["total-timeout"])),
        username=str(values["username"] or env.get("ETCDCTL_USERNAME", "")),
        discovery_srv=str(values["discovery-srv"] or env.get("ETCDCTL_DISCOVERY_SRV", "")),
        ca_file=str(values["ca-file"] or env.get("ETCDCTL_CA_FILE", "")),
        cert_file=str(values["cert-file"] or env.get("ETCDCTL_CERT_FILE", "")),
        key_file=str(values["key-file"] or env.get("ETCDCTL_KEY_FILE", "")),
    )
