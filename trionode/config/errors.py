"""What a bad configuration raises."""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(Exception):
    """A bad flag, environment variable or value; the CLI prints it and exits 2."""
