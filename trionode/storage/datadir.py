"""The data dir: whose it is (identity) and who is using it (lock). Blocking; never trio.

<path>/member/identity is written atomically the first time a data dir is opened, as one
line of JSON: {"name", "cluster_token", "member_id", "cluster_id", "bootstrap"}. Reopening
it under a different name or cluster token is refused, since its log belongs to another
member. "bootstrap" is the membership the member started with (from --initial-cluster,
discovery, or the running cluster it joined) and whether it joined: a restart replays the
log from that membership, whatever the flags or the discovery service say by then.

Ids are 64-bit and deterministic, so that every node can compute every member's id from the
initial cluster's names and token without asking anyone (etcd hashes peer URLs instead; we
hash names, which must be unique in a cluster, so a member keeps its id when its address
changes):
    member_id  = first 8 bytes, big endian, of sha1(b"trionode member\\0" + name + b"\\0" + token)
    cluster_id = first 8 bytes, big endian, of sha1(b"trionode cluster\\0" + token)
0 means "none" in Raft (HardState.vote), so a hash of 0 becomes 1. Once written, the stored
ids are the ones used, even if this derivation changes later.

<path>/member/discovering holds the discovery URL while a new member waits for its peers
there (membership/bootstrap.py): a member restarted meanwhile resumes its own registration.

<path>/member/lock is held with flock(LOCK_EX | LOCK_NB) while the DataDir is open: a second
process (or a second open in this one) gets DataDirError. The kernel releases the lock when
the process dies, so a crash never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from .errors import DataDirError
from .files import ensure_dir, write_atomic

__all__ = ["DataDir", "member_id_for", "cluster_id_for", "added_member_id"]

_FIELDS = {"name": str, "cluster_token": str, "member_id": int, "cluster_id": int}


def _id(*parts: str) -> int:
    digest = hashlib.sha1(b"\0".join(part.encode() for part in parts)).digest()
    return int.from_bytes(digest[:8], "big") or 1


def member_id_for(name: str, cluster_token: str) -> int:
    return _id("trionode member", name, cluster_token)


def added_member_id(peer_urls: Sequence[str], cluster_token: str, now_s: int) -> int:
    """The id of a member added at run time (it has no name yet): etcd's recipe, its peer
    URLs, the cluster and the time, so the same address added again after a removal gets a
    new id (a removed id is never reused)."""
    return _id("trionode added member", *sorted(peer_urls), cluster_token, str(now_s))


def cluster_id_for(cluster_token: str) -> int:
    return _id("trionode cluster", cluster_token)


class DataDir:
    """An open, locked data dir with a checked identity. close() releases the lock."""

    def __init__(self, path: Path, identity: dict, lock_fd: int) -> None:
        self.path = path
        self.name: str = identity["name"]
        self.cluster_token: str = identity["cluster_token"]
        self.member_id: int = identity["member_id"]
        self.cluster_id: int = identity["cluster_id"]
        #: {"members": [[id, name, [peer URLs]], ...], "joined": bool}; None in data dirs
        #: made before it was recorded
        self.bootstrap: dict | None = identity.get("bootstrap")
        self._lock_fd = lock_fd

    @staticmethod
    def exists(path: Path) -> bool:
        """Whether a member has ever started with this data dir."""
        return (path / "member" / "identity").exists()

    @classmethod
    def open(cls, path: Path, name: str, cluster_token: str, *, ids: tuple[int, int] | None = None,
             bootstrap: dict | None = None) -> DataDir:
        """`ids` (member id, cluster id) and `bootstrap` are recorded when the data dir is
        new; ids default to the ones derived from name and token."""
        member = path / "member"
        ensure_dir(member)
        lock_fd = _lock(member / "lock", path)
        try:
            identity = _identity(member / "identity", name, cluster_token, ids, bootstrap)
        except BaseException:
            os.close(lock_fd)
            raise
        return cls(path, identity, lock_fd)

    @property
    def member_dir(self) -> Path:
        return self.path / "member"

    def close(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the only descriptor releases the flock
            self._lock_fd = -1

    def __enter__(self) -> DataDir:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _lock(lock_path: Path, data_dir: Path) -> int:
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirError(f"data dir is in use by another process: {data_dir}") from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _identity(path: Path, name: str, cluster_token: str, ids: tuple[int, int] | None,
              bootstrap: dict | None) -> dict:
    """The stored identity, checked against name and token; written first if there is none."""
    if not path.exists():
        member_id, cluster_id = ids or (member_id_for(name, cluster_token), cluster_id_for(cluster_token))
        identity = {
            "name": name,
            "cluster_token": cluster_token,
            "member_id": member_id,
            "cluster_id": cluster_id,
            "bootstrap": bootstrap,
        }
        write_atomic(path, [json.dumps(identity).encode() + b"\n"])
        return identity
    try:
        identity = json.loads(path.read_bytes())
        bad = [key for key, kind in _FIELDS.items() if type(identity.get(key)) is not kind]
    except (ValueError, AttributeError) as exc:
        raise DataDirError(f"{path}: unreadable identity file: {exc}") from None
    if bad:
        raise DataDirError(f"{path}: identity file lacks or mistypes {', '.join(bad)}")
    mismatches = [
        f"{label} {identity[key]!r} (data dir) != {given!r} (configured)"
        for label, key, given in (("name", "name", name), ("cluster token", "cluster_token", cluster_token))
        if identity[key] != given
    ]
    if mismatches:
        raise DataDirError(f"data dir {path.parent.parent} belongs to another member: {'; '.join(mismatches)}")
    return identity
