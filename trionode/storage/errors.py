"""What a data dir, log or snapshot that cannot be trusted raises: the node stops on them."""

from __future__ import annotations

__all__ = ["DataDirError", "WalCorruptError"]


class DataDirError(Exception):
    """The data dir belongs to another node or cluster, or cannot be used."""


class WalCorruptError(Exception):
    """A log or snapshot record failed its check before the tail: never silently dropped."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(f"{path}: corrupt record at offset {offset}: {reason}")
        self.path = path
        self.offset = offset
        self.reason = reason
