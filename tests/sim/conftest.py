"""Run statistics for the Raft simulation, summed over the session and shown at the end, so a
run shows that the sim really elected, crashed, snapshotted and acknowledged things."""

from __future__ import annotations

from collections import Counter

import pytest

_TOTALS = pytest.StashKey[Counter]()

#: counters shown in the summary, in this order
SHOWN = ("seeds", "steps", "virtual_ms", "elections", "crashes", "restarts", "partitions",
         "transfers", "compactions", "snapshots_sent", "snapshot_installs", "proposals",
         "proposals_dropped", "acked", "reads", "reads_acked", "messages", "dropped", "duplicated",
         "torn_ops_kept", "async_fsyncs", "log_overwrites", "one_way_cuts", "sent_before_fsync",
         "applied_before_fsync", "crashes_mid_fsync", "conf_changes_applied", "empty_node_installs")


@pytest.fixture(scope="session")
def sim_totals(request: pytest.FixtureRequest) -> Counter:
    return request.config.stash.setdefault(_TOTALS, Counter())


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    totals = config.stash.get(_TOTALS, None)
    if totals:
        terminalreporter.section("raft simulation totals")
        terminalreporter.write_line("  ".join(f"{k}={totals[k]}" for k in SHOWN))
