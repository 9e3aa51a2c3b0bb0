"""Fixtures: one reference etcd and one target per session (fresh ports and data dirs).

TRIONODE_COMPAT_TARGET=etcd makes the target a second etcd, which proves the harness:
every comparison must then pass. The default target is trionode.
"""

from __future__ import annotations

import re
import shutil

import pytest

from . import harness
from .normalize import assert_same


def _pair(ref_name: str, tgt_name: str):
    if shutil.which("etcd") is None:
        pytest.skip("compat suite needs a real etcd 3.4 on PATH (apt-get install etcd-server)")
    kind = harness.target_kind()
    started = []
    try:
        started.append(harness.start_server("reference", "etcd", ref_name))
        try:
            started.append(harness.start_server("target", kind, tgt_name))
        except RuntimeError as exc:
            pytest.fail(f"the compat target could not start:\n{exc}", pytrace=False)
        yield tuple(started)
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="session")
def servers():
    """(reference, target), shared by all sequences; each sequence has its own prefix."""
    yield from _pair("ref", "t")


@pytest.fixture
def prefix(request) -> str:
    """A key prefix of this test alone; never hidden (no leading underscore)."""
    return "/c-" + re.sub(r"[^A-Za-z0-9.-]+", "-", request.node.name).strip("-")


@pytest.fixture
def compare(servers, prefix):
    """compare(steps) runs steps on both servers and asserts the same behaviour."""
    ref, tgt = servers

    def run(steps, name: str | None = None):
        ref_results, tgt_results = harness.run_pair(ref, tgt, steps, prefix)
        assert_same(name or prefix, steps, ref_results, tgt_results, ref, tgt, prefix)
        return ref_results, tgt_results
    return run
