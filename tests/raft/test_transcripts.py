"""Runs every tests/raft/testdata/*.txt transcript (format: transcript.py)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from requirements import in_ci

from .transcript import run

TESTDATA = Path(__file__).parent / "testdata"
REWRITE_ENV = "TRIONODE_REWRITE"


def _rewrite(config: pytest.Config) -> bool:
    """Was a rewrite asked for? Under CI=true that fails the test: CI checks transcripts."""
    try:
        option = config.getoption("--rewrite")
    except ValueError:  # conftest not loaded as an initial conftest
        option = False
    env = os.environ.get(REWRITE_ENV) == "1"
    if (option or env) and in_ci():
        how = f"{REWRITE_ENV}=1" if env else "--rewrite"
        pytest.fail(f"{how} is refused under CI=true: CI checks the transcripts in "
                    f"{TESTDATA}, it never regenerates them", pytrace=False)
    return bool(option) or env


@pytest.mark.parametrize("path", sorted(TESTDATA.glob("*.txt")), ids=lambda p: p.stem)
def test_transcript(path: Path, pytestconfig: pytest.Config) -> None:
    rewrite = _rewrite(pytestconfig)
    expected, actual = run(path)
    if actual == expected:
        return
    if rewrite:
        path.write_text(actual)
        # A rewrite never passes a run: it is red until rerun without rewriting.
        pytest.fail(f"rewrote {path}: review `git diff tests/raft/testdata/{path.name}`, then "
                    f"run again without {REWRITE_ENV}/--rewrite", pytrace=False)
    diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                        f"{path.name} (expected)", f"{path.name} (actual)"))
    pytest.fail(f"transcript differs; replay: pytest tests/raft -k {path.stem};"
                f" regenerate: {REWRITE_ENV}=1\n{diff}", pytrace=False)
