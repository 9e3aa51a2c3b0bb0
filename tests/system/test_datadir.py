"""A data dir belongs to one member, used by one process at a time (storage/datadir.py)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.system


def _cannot_start(node) -> str:
    lines = [line for line in node.log().splitlines() if "cannot start" in line]
    assert len(lines) == 1, node.log()
    return lines[0]


def test_data_dir_refuses_another_name(nodes):
    first = nodes.start("alpha-member")
    assert first.put("/owned", value="by-alpha").status == 201
    assert first.terminate() == 0

    other = nodes.node("beta-member", data_dir=first.data_dir)
    other.spawn()
    assert other.wait_exit() == 1, other.log()
    line = _cannot_start(other)
    assert "alpha-member" in line and "beta-member" in line, line
    assert "kind=DataDirError" in line.split(), line

    first.restart()  # the refusal did no harm
    assert first.get("/owned").json()["node"]["value"] == "by-alpha"


def test_second_process_on_a_data_dir_in_use_exits(nodes):
    first = nodes.start("shared")
    second = nodes.node("shared", data_dir=first.data_dir)
    second.spawn()
    assert second.wait_exit() == 1, second.log()
    line = _cannot_start(second)
    assert "in use" in line and str(first.data_dir) in line, line
    # The first one never noticed.
    assert first.proc.poll() is None
    assert first.put("/still", value="here").status == 201
    assert first.terminate() == 0
