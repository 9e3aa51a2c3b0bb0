"""member list/add/remove/update and cluster-health (etcdctl/ctlv2/command/
member_commands.go, cluster_health.go).

Unlike the keys commands, the member commands check their arguments before making the
client, and print their failures bare (no "Error:  ") with exit status 1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import trio

from ..client import Client, ClientError, EndpointError, Member, TlsConfigError
from ..gocompat.parse import quote
from .session import (
    EXIT_BAD_ARGS,
    EXIT_CLUSTER_NOT_HEALTHY,
    EXIT_SERVER_ERROR,
    Call,
    DeadlineExceeded,
    Exit,
    before,
    fail,
    open_client,
    tls_settings,
)

__all__ = ["COMMANDS", "member_lines", "initial_cluster", "health_summary"]

REMOVE_DOC = ("https://github.com/etcd-io/etcd/blob/master/Documentation/"
              "runtime-configuration.md#remove-a-member")
HEALTH_INTERVAL = 10.0          # cluster-health --forever, as etcdctl


def _refuse(call: Call, text: str) -> None:
    call.console.err(text + "\n")
    raise Exit(EXIT_BAD_ARGS)


async def _ask(call: Call, deadline: float, prefix: str, fn: Callable[..., Awaitable],
               *args: object):
    """One members request; a failure is printed as `<prefix><error>` and exits 1."""
    try:
        return await before(deadline, fn, *args)
    except (ClientError, DeadlineExceeded, ValueError) as exc:
        call.console.err(f"{prefix}{exc}\n")
        raise Exit(EXIT_BAD_ARGS) from None


def _deadline(call: Call) -> float:
    return trio.current_time() + call.options.total_timeout


def member_lines(members: Sequence[Member], leader_id: str) -> str:
    """member list's output."""
    lines = []
    for m in members:
        if not m.name:
            lines.append(f"{m.id}[unstarted]: peerURLs={','.join(m.peer_urls)}")
        else:
            lines.append(f"{m.id}: name={m.name} peerURLs={','.join(m.peer_urls)} "
                         f"clientURLs={','.join(m.client_urls)} "
                         f"isLeader={'true' if m.id == leader_id else 'false'}")
    return "".join(line + "\n" for line in lines)


async def member_list(call: Call) -> None:
    if call.args:
        _refuse(call, "No arguments accepted")
    async with open_client(call) as client:
        deadline = _deadline(call)
        members = await _ask(call, deadline, "", client.members)
        leader = await _ask(call, deadline, "Failed to get leader:  ", client.leader)
        call.console.out(member_lines(members, leader.id))


def initial_cluster(members: Sequence[Member], new_id: str, new_name: str) -> str:
    """ETCD_INITIAL_CLUSTER for a member just added (it has no name of its own yet)."""
    return ",".join(f"{new_name if m.id == new_id else m.name}={url}"
                    for m in members for url in m.peer_urls)


async def member_add(call: Call) -> None:
    if len(call.args) != 2:
        _refuse(call, "Provide a name and a single member peerURL")
    name, peer_url = call.args
    async with open_client(call) as client:
        deadline = _deadline(call)
        added = await _ask(call, deadline, "", client.add_member, peer_url)
        call.console.out(f"Added member named {name} with ID {added.id} to cluster\n")
        members = await _ask(call, deadline, "", client.members)
        call.console.out(f"\nETCD_NAME={quote(name)}\n"
                         f"ETCD_INITIAL_CLUSTER={quote(initial_cluster(members, added.id, name))}\n"
                         'ETCD_INITIAL_CLUSTER_STATE="existing"\n')


async def member_remove(call: Call) -> None:
    if len(call.args) != 1:
        _refuse(call, "Provide a single member ID")
    member_id = call.args[0]
    async with open_client(call) as client:
        deadline = _deadline(call)
        members = await _ask(call, deadline, "Error while verifying ID against known members: ",
                             client.members)
        for m in members:
            if m.name == member_id:     # a name given for an ID: say which ID to use
                call.console.err(
                    f"Found a member named {m.name}; if this is correct, please use its ID, "
                    f"eg:\n\tetcdctl member remove {m.id}\n"
                    f"For more details, read the documentation at {REMOVE_DOC}\n\n")
        if not any(m.id == member_id for m in members):
            _refuse(call, f"Couldn't find a member in the cluster with an ID of {member_id}.")
        try:
            await before(deadline, client.remove_member, member_id)
        except (ClientError, DeadlineExceeded) as exc:
            # etcdctl ends this one without a newline
            call.console.err(f"Received an error trying to remove member {member_id}: {exc}")
            raise Exit(EXIT_BAD_ARGS) from None
        call.console.out(f"Removed member {member_id} from cluster\n")


async def member_update(call: Call) -> None:
    if len(call.args) != 2:
        _refuse(call, "Provide an ID and a list of comma separated peerURL "
                      "(0xabcd http://example.com,http://example1.com)")
    member_id, urls = call.args
    async with open_client(call) as client:
        await _ask(call, _deadline(call), "", client.update_member, member_id, urls.split(","))
        call.console.out(f"Updated member with ID {member_id} in cluster\n")


async def _probe(client: Client, m: Member) -> tuple[str, bool]:
    """One member's health lines, and whether it is healthy."""
    if not m.client_urls:
        return f"member {m.id} is unreachable: no available published client urls\n", False
    text = ""
    for url in m.client_urls:
        try:
            healthy = await client.health(url)
        except ClientError as exc:         # EndpointError: the probe could not connect
            detail = f'Get "{url}/health": {exc}' if isinstance(exc, EndpointError) else exc
            text += f"failed to check the health of member {m.id} on {url}: {detail}\n"
            continue
        if healthy:
            return text + f"member {m.id} is healthy: got healthy result from {url}\n", True
        return text + f"member {m.id} is unhealthy: got unhealthy result from {url}\n", False
    urls = " ".join(m.client_urls)
    return text + f"member {m.id} is unreachable: [{urls}] are all unreachable\n", False


def health_summary(healthy: int, total: int) -> str:
    if healthy == total:
        return "cluster is healthy\n"
    return "cluster is unavailable\n" if healthy == 0 else "cluster is degraded\n"


async def cluster_health(call: Call) -> None:
    # etcdctl builds the transport first, on its own, and reports it as a server error
    try:
        context = tls_settings(call)
    except TlsConfigError as exc:
        fail(call.console, EXIT_SERVER_ERROR, exc)
    async with open_client(call, sync=False, ssl_context=context) as client:
        try:
            members = await client.members()        # etcdctl sets no deadline here
        except ClientError as exc:
            call.console.out("cluster may be unhealthy: failed to list members\n")
            fail(call.console, EXIT_SERVER_ERROR, exc)
        while True:
            healthy = 0
            for m in members:
                text, ok = await _probe(client, m)
                call.console.out(text)
                healthy += ok
            call.console.out(health_summary(healthy, len(members)))
            if not call.flags["forever"]:
                if healthy != len(members):
                    raise Exit(EXIT_CLUSTER_NOT_HEALTHY)
                return
            call.console.out(f"\nnext check after {HEALTH_INTERVAL:g} second...\n\n")
            await trio.sleep(HEALTH_INTERVAL)


COMMANDS: dict[str, Callable[[Call], Awaitable[None]]] = {
    "member list": member_list, "member add": member_add, "member remove": member_remove,
    "member update": member_update, "cluster-health": cluster_health,
}
