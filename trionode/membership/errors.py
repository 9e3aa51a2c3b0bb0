"""What a membership request that cannot be done raises."""

from __future__ import annotations

__all__ = ["MemberError"]


class MemberError(Exception):
    """A membership request that cannot be done: /v2/members answers `status` with
    `{"message": message}` (etcd 3.4's shape for these errors, v2-spec §4.8)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
