"""What a test needs from the machine (etcd, etcdctl, iptables, root, ...), decided in one place.

A test that cannot run because a system part is missing is skipped on a developer's machine,
with the reason (pytest runs with -rs, so every skip is listed). Under CI=true it FAILS with
the same reason instead: CI installs everything (.ci/run), so a missing part there is a broken
CI machine, and a suite that skips its comparisons with etcd must not go quietly green.

Only missing system parts go through here. Skips for another reason (a platform condition, an
opt-in environment variable, a file outside the repository) stay plain pytest.skip.

Import it as `from requirements import ...`: tests/conftest.py puts tests/ on the import path.
Tests that only need a tool can also say `@pytest.mark.requires_tool("etcd", "why")`.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

__all__ = ["in_ci", "missing", "require", "require_tool", "tool_missing"]

CI_ENV = "CI"
_TRUE = ("true", "1", "yes")


def in_ci() -> bool:
    """CI=true (or 1/yes, any case): what GitHub Actions, GitLab CI and .ci/run set."""
    return os.environ.get(CI_ENV, "").strip().lower() in _TRUE


def missing(reason: str) -> NoReturn:
    """Skip the test for `reason`; under CI=true fail it instead."""
    if in_ci():
        pytest.fail(f"{reason} [{CI_ENV}={os.environ[CI_ENV]}: a missing requirement fails "
                    f"instead of skipping]", pytrace=False)
    pytest.skip(reason)


def require(condition: bool, reason: str) -> None:
    """missing(reason) unless `condition` holds (e.g. running as root)."""
    if not condition:
        missing(reason)


def tool_missing(name: str, why: str) -> str | None:
    """The reason to skip when executable `name` is not on PATH (`why` says what needs it)."""
    return f"{name} is not on PATH: {why}" if shutil.which(name) is None else None


def require_tool(name: str, why: str) -> str:
    """The path of executable `name` on PATH, or missing()."""
    reason = tool_missing(name, why)
    if reason is not None:
        missing(reason)
    return shutil.which(name)
