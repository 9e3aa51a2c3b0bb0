"""What a malformed peer frame raises."""

from __future__ import annotations

__all__ = ["WireError"]


class WireError(Exception):
    """A malformed peer frame: closes that peer connection, never the node."""
