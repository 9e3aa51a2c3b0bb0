"""The HTTP app of the peer port: etcd's member list for joiners and the 0.4 admin API.

    GET    /members                   etcd's peer member list; a joining member learns its
                                      id and the cluster id from it
    GET    /members/<hex id>          one member; 410 once removed (a member that missed its
                                      own removal asks this, see node.py)
    GET    /v2/admin/config           the cluster config (v2-spec §5.2 item 1)
    PUT    /v2/admin/config           change it through Raft (item 2)
    GET    /v2/admin/machines[/name]  members by name (items 3-4)
    DELETE /v2/admin/machines/<name>  remove a member (item 5)

0.4's handlers wrote JSON with Go's json.Encoder (a trailing newline) and set no content
type, so Go's sniffing made it text/plain; we answer the same. 0.4 redirected changes to
the leader's peer URL; here the node forwards them through Raft instead, so any member
answers them itself.
"""

from __future__ import annotations

from ..gocompat.jsontext import quote
from ..membership.clusterconfig import ClusterConfigError
from ..membership.errors import MemberError
from ..membership.members import Member
from ..v2.errors import V2Error
from .api import NodeApi
from .info import member_json
from .message import HttpResponse, Request
from .paths import redirect_for

__all__ = ["PeerApp"]

_TEXT = ("Content-Type", "text/plain; charset=utf-8")
_NOSNIFF = ("X-Content-Type-Options", "nosniff")
_MACHINES = "/v2/admin/machines"
_REMOVED_BODY_SIZE = 8  # 0.4 wrote the commit index as a uvarint into 8 bytes


def _plain(status: int, text: str, *extra: tuple[str, str]) -> HttpResponse:
    """What Go's http.Error writes."""
    return HttpResponse(status, [_TEXT, _NOSNIFF, *extra], f"{text}\n".encode())


def _not_allowed(allow: str, *extra: tuple[str, str]) -> HttpResponse:
    return _plain(405, "Method Not Allowed", ("Allow", allow), *extra)


_NOT_FOUND = _plain(404, "404 page not found")


class PeerApp:
    """The peer port's application (an async callable Request -> HttpResponse)."""

    def __init__(self, node: NodeApi) -> None:
        self._node = node

    async def __call__(self, request: Request) -> HttpResponse:
        redirect = redirect_for(request.raw_path, request.query, request.method)
        if redirect is not None:
            return redirect
        path, method = request.path, request.method
        try:
            if path == "/members":
                return self._members(method)
            sub = path[len("/members/"):] if path.startswith("/members/") else ""
            if sub and "/" not in sub and method == "GET":
                return self._member(sub)
            if path == "/v2/admin/config":
                return await self._config(method, request.body)
            if path == _MACHINES:
                return self._machines() if method == "GET" else _not_allowed("GET")
            name = path[len(_MACHINES) + 1:] if path.startswith(_MACHINES + "/") else ""
            if name and "/" not in name:
                return await self._machine(method, name)
        except MemberError as exc:
            return _plain(exc.status, exc.message)
        except V2Error as exc:
            return HttpResponse(exc.status, [("Content-Type", "application/json")], exc.to_json())
        return _NOT_FOUND

    def _members(self, method: str) -> HttpResponse:
        cluster = ("X-Etcd-Cluster-Id", self._node.identity.cluster_id_hex)
        if method != "GET":
            return _not_allowed("GET", cluster)  # etcd sets the cluster id before the check
        items = ",".join(member_json(m) for m in self._node.membership.members)
        return HttpResponse(200, [("Content-Type", "application/json"), cluster], f"[{items}]\n".encode())

    def _member(self, text: str) -> HttpResponse:
        headers = [("Content-Type", "application/json"), ("X-Etcd-Cluster-Id", self._node.identity.cluster_id_hex)]
        try:
            member_id = int(text, 16)
        except ValueError:
            member_id = 0
        membership = self._node.membership
        if member_id in membership.removed:
            return HttpResponse(410, headers, f'{{"message":"Member permanently removed: {member_id:x}"}}'.encode())
        member = membership.get(member_id)
        if member is None:
            return HttpResponse(404, headers, f'{{"message":{quote(f"No such member: {text}")}}}'.encode())
        return HttpResponse(200, headers, (member_json(member) + "\n").encode())

    async def _config(self, method: str, body: bytes) -> HttpResponse:
        reconfig = self._node.reconfig
        if method == "GET":
            config = reconfig.cluster_config()
        elif method == "PUT":
            try:
                wanted = reconfig.cluster_config().updated(body)
            except ClusterConfigError as exc:
                return _plain(500, str(exc))
            config = await reconfig.set_cluster_config(wanted)
        else:
            return _not_allowed("GET,PUT")
        return HttpResponse(200, [_TEXT], (config.to_json() + "\n").encode())

    def _machines(self) -> HttpResponse:
        leader_id = self._node.raft_status().leader_id
        started = sorted((m for m in self._node.membership.members if m.name), key=lambda m: m.name)
        items = ",".join(_machine_json(m, leader_id) for m in started)
        return HttpResponse(200, [_TEXT], f"[{items}]\n".encode())

    async def _machine(self, method: str, name: str) -> HttpResponse:
        member = next((m for m in self._node.membership.members if m.name == name), None)
        if method == "GET":
            text = "null" if member is None else _machine_json(member, self._node.raft_status().leader_id)
            return HttpResponse(200, [_TEXT], f"{text}\n".encode())
        if method != "DELETE":
            return _not_allowed("GET,DELETE")
        if member is None:
            return HttpResponse(200, [], b"")  # 0.4 swallowed the "not found" error
        index = await self._node.reconfig.remove_member(member.id)
        return HttpResponse(200, [("Content-Type", "application/octet-stream")], _uvarint(index))


def _machine_json(member: Member, leader_id: int) -> str:
    if member.learner:
        state = "standby"
    else:
        state = "leader" if member.id == leader_id else "follower"
    client = member.client_urls[0] if member.client_urls else ""
    peer = member.peer_urls[0] if member.peer_urls else ""
    return (f'{{"name":{quote(member.name)},"state":"{state}",'
            f'"clientURL":{quote(client)},"peerURL":{quote(peer)}}}')


def _uvarint(value: int) -> bytes:
    """`value` as a protobuf-style uvarint, zero-padded to 0.4's 8 bytes."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out).ljust(_REMOVED_BODY_SIZE, b"\0")
