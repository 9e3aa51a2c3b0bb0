"""Runs every tests/raft/testdata/*.txt transcript (format: transcript.py)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from .transcript import run

TESTDATA = Path(__file__).parent / "testdata"


def _rewrite(config: pytest.Config) -> bool:
    try:
        option = config.getoption("--rewrite")
    except ValueError:  # conftest not loaded as an initial conftest
        option = False
    return bool(option) or os.environ.get("TRIONODE_REWRITE") == "1"


@pytest.mark.parametrize("path", sorted(TESTDATA.glob("*.txt")), ids=lambda p: p.stem)
def test_transcript(path: Path, pytestconfig: pytest.Config) -> None:
    expected, actual = run(path)
    if actual == expected:
        return
    if _rewrite(pytestconfig):
        path.write_text(actual)
        return
    diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                        f"{path.name} (expected)", f"{path.name} (actual)"))
    pytest.fail(f"transcript differs; replay: pytest tests/raft -k {path.stem};"
                f" regenerate: TRIONODE_REWRITE=1\n{diff}", pytrace=False)
