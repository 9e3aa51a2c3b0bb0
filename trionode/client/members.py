"""The members API (/v2/members), as etcd 3.4's client/members.go reads its replies.

Each call accepts only the statuses the Go client accepts; any other status raises
HTTPStatusError "unexpected status code N", and the statuses that carry a members error
body ({"message": m}: 409 on add, 404/409 on update) raise HTTPStatusError whose text is m.
A 5xx never gets here: the failover in Client._do turns it into a ClusterError.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import requests as rq
from .errors import INVALID_JSON, HTTPStatusError
from .model import Member, parse_json, parse_member, parse_members

__all__ = ["MembersMixin"]


def _expect(status: int, body: bytes, *accepted: int) -> None:
    if status not in accepted:
        raise HTTPStatusError(status, body)


def _members_error(status: int, body: bytes) -> HTTPStatusError:
    doc = parse_json(status, body)
    if not isinstance(doc, dict) or not isinstance(doc.get("message", ""), str):
        return HTTPStatusError(status, body, INVALID_JSON)
    return HTTPStatusError(status, body, doc.get("message", ""))


def _member(status: int, body: bytes) -> Member:
    try:
        return parse_member(parse_json(status, body))
    except ValueError:
        raise HTTPStatusError(status, body, INVALID_JSON) from None


class MembersMixin:
    """Client's members methods; they need only Client._do."""

    async def members(self) -> list[Member]:
        """GET /v2/members: every member, started or not, in the server's order."""
        reply = await self._do(rq.members_list())
        _expect(reply.status, reply.body, 200)
        return parse_members(reply.status, reply.body)

    async def leader(self) -> Member:
        """GET /v2/members/leader (503 "During election" -> ClusterError, via failover)."""
        reply = await self._do(rq.members_leader())
        _expect(reply.status, reply.body, 200)
        return _member(reply.status, reply.body)

    async def add_member(self, peer_url: str) -> Member:
        """POST {"peerURLs": [peer_url]}; the new member has no name until it starts.

        A peer URL Go would refuse (scheme, host:port, path) raises ValueError with Go's
        text, before anything is sent.
        """
        reply = await self._do(rq.members_add(peer_url))
        _expect(reply.status, reply.body, 201, 409)
        if reply.status == 409:
            raise _members_error(reply.status, reply.body)
        return _member(reply.status, reply.body)

    async def remove_member(self, member_id: str) -> None:
        """DELETE /v2/members/<id>; 204, or 410 for a member removed before."""
        reply = await self._do(rq.members_remove(member_id))
        _expect(reply.status, reply.body, 204, 410)

    async def update_member(self, member_id: str, peer_urls: Sequence[str]) -> None:
        """PUT /v2/members/<id> {"peerURLs": [...]}."""
        reply = await self._do(rq.members_update(member_id, list(peer_urls)))
        _expect(reply.status, reply.body, 204, 404, 409)
        if reply.status != 204:
            raise _members_error(reply.status, reply.body)
