"""Fixtures: one reference etcd and one target per session (fresh ports and data dirs).

TRIONODE_COMPAT_TARGET=etcd makes the target a second etcd, which proves the harness:
every comparison must then pass. The default target is trionode.
"""

from __future__ import annotations

import re

import pytest

from . import harness
from .normalize import assert_same
from .steps import run_pair


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: a slower compat test (seconds, not milliseconds)")


@pytest.fixture(scope="session")
def servers():
    """(reference, target), shared by all sequences; each sequence has its own prefix."""
    yield from harness.server_pair("ref", "t")


@pytest.fixture
def prefix(request) -> str:
    """A key prefix of this test alone; never hidden (no leading underscore)."""
    return "/c-" + re.sub(r"[^A-Za-z0-9.-]+", "-", request.node.name).strip("-")


@pytest.fixture
def compare(servers, prefix):
    """compare(steps) runs steps on both servers and asserts the same behaviour."""
    ref, tgt = servers

    def run(steps, name: str | None = None):
        ref_results, tgt_results = run_pair(ref, tgt, steps, prefix)
        assert_same(name or prefix, steps, ref_results, tgt_results, ref, tgt, prefix)
        return ref_results, tgt_results
    return run
