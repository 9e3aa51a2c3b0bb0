"""The keys commands: ls, get, mk, mkdir, set, setdir, update, updatedir, rm, rmdir.

Each follows its etcdctl/ctlv2/command/*.go counterpart: the client (and its sync) comes
first, then the argument checks, then one request under --total-timeout, then the print.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from ..client import Client, ClientError, Response
from .output import ls_text, response_text
from .session import (
    EXIT_BAD_ARGS,
    EXIT_SERVER_ERROR,
    Call,
    DeadlineExceeded,
    Exit,
    fail,
    open_client,
    uint64_flag,
    within_total,
)

__all__ = ["COMMANDS"]

def _key(call: Call) -> str:
    if not call.args:
        fail(call.console, EXIT_BAD_ARGS, "key required")
    return call.args[0]


def _value(call: Call) -> str:
    """The second argument, else all of stdin (etcdctl's argOrStdin): `printf x | set /k`."""
    if len(call.args) > 1:
        return call.args[1]
    try:
        data = call.read_stdin()
    except OSError:
        data = b""
    if not data:
        fail(call.console, EXIT_BAD_ARGS, "value required")
    return data.decode("utf-8", "surrogateescape")


def _ttl(call: Call) -> int | None:
    ttl = int(call.flags["ttl"])
    return ttl if ttl > 0 else None      # Go sends a TTL only when it is positive


async def _request(call: Call, op: Callable[..., Awaitable[Response]], *args: object,
                   **kwargs: object) -> Response:
    """One keys request under --total-timeout; any failure is etcdctl's exit 4."""
    try:
        return await within_total(call.options, partial(op, *args, **kwargs))
    except (ClientError, DeadlineExceeded) as exc:
        fail(call.console, EXIT_SERVER_ERROR, exc)


def _print(call: Call, resp: Response) -> None:
    call.console.show(response_text(resp, call.options.output))


async def ls(call: Call) -> None:
    async with open_client(call) as client:
        key = call.args[0] if call.args else "/"
        resp = await _request(call, client.get, key, recursive=bool(call.flags["recursive"]),
                              sorted=bool(call.flags["sort"]),
                              quorum=bool(call.flags["quorum"]))
        if call.options.output == "simple":
            call.console.out(ls_text(resp, bool(call.flags["p"])))
        else:
            _print(call, resp)


async def get(call: Call) -> None:
    async with open_client(call) as client:
        key = _key(call)
        resp = await _request(call, client.get, key, sorted=bool(call.flags["sort"]),
                              quorum=bool(call.flags["quorum"]))
        if resp.node.dir:
            call.console.err(f"{resp.node.key or ''}: is a directory\n")
            raise Exit(EXIT_BAD_ARGS)
        _print(call, resp)


async def mk(call: Call) -> None:
    async with open_client(call) as client:
        key, value = _key(call), _value(call)
        if call.flags["in-order"]:
            resp = await _request(call, client.create_in_order, key, value, ttl=_ttl(call))
        else:
            resp = await _request(call, client.create, key, value, ttl=_ttl(call))
        _print(call, resp)


async def set_(call: Call) -> None:
    async with open_client(call) as client:
        key, value = _key(call), _value(call)
        resp = await _request(call, client.set, key, value, ttl=_ttl(call),
                              prev_value=str(call.flags["swap-with-value"]) or None,
                              prev_index=uint64_flag(call, "swap-with-index"))
        _print(call, resp)


async def update(call: Call) -> None:
    async with open_client(call) as client:
        key, value = _key(call), _value(call)
        _print(call, await _request(call, client.update, key, value, ttl=_ttl(call)))


async def _dir_command(call: Call, op: Callable[[Client], Callable[..., Awaitable[Response]]],
                       **kwargs: object) -> None:
    """mkdir / setdir / updatedir: silent in simple mode, printed in the others."""
    async with open_client(call) as client:
        key = _key(call)
        resp = await _request(call, op(client), key, ttl=_ttl(call), **kwargs)
        if call.options.output != "simple":
            _print(call, resp)


async def mkdir(call: Call) -> None:
    await _dir_command(call, lambda client: client.mkdir)


async def setdir(call: Call) -> None:
    await _dir_command(call, lambda client: client.set, dir=True)


async def updatedir(call: Call) -> None:
    await _dir_command(call, lambda client: client.set, dir=True, prev_exist=True)


async def _delete(call: Call, **kwargs: object) -> None:
    """rm / rmdir: a deleted directory is printed only outside simple mode."""
    async with open_client(call) as client:
        key = _key(call)
        resp = await _request(call, client.delete, key, **kwargs)
        if not resp.node.dir or call.options.output != "simple":
            _print(call, resp)


async def rm(call: Call) -> None:
    await _delete(call, recursive=bool(call.flags["recursive"]), dir=bool(call.flags["dir"]),
                  prev_value=str(call.flags["with-value"]) or None,
                  prev_index=uint64_flag(call, "with-index"))


async def rmdir(call: Call) -> None:
    await _delete(call, dir=True)


COMMANDS: dict[str, Callable[[Call], Awaitable[None]]] = {
    "ls": ls, "get": get, "mk": mk, "mkdir": mkdir, "set": set_, "setdir": setdir,
    "update": update, "updatedir": updatedir, "rm": rm, "rmdir": rmdir,
}
