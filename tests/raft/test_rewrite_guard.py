"""The transcript runner's rewrite mode can never make a run pass silently: a transcript it
rewrote fails the test, and under CI=true rewriting is refused before anything is written."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from . import test_transcripts as transcripts

#: a pytest config as the runner reads it, without --rewrite (only the environment decides)
NO_OPTION = SimpleNamespace(getoption=lambda name: False)


@pytest.fixture
def stale(tmp_path: Path) -> tuple[Path, str]:
    """A copy of basic.txt whose expected output is wrong, and the right text."""
    path = tmp_path / "basic.txt"
    shutil.copy(transcripts.TESTDATA / "basic.txt", path)
    right = path.read_text()
    path.write_text(right.replace("----\n", "----\nnot what the code prints\n", 1))
    return path, right


def test_a_rewrite_fixes_the_file_and_still_fails(stale, monkeypatch) -> None:
    path, right = stale
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TRIONODE_REWRITE", "1")
    with pytest.raises(pytest.fail.Exception, match="rewrote .*basic.txt"):
        transcripts.test_transcript(path, NO_OPTION)
    assert path.read_text() == right


def test_a_rewrite_is_refused_under_ci(stale, monkeypatch) -> None:
    path, _ = stale
    before = path.read_text()
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("TRIONODE_REWRITE", "1")
    with pytest.raises(pytest.fail.Exception, match="refused under CI=true"):
        transcripts.test_transcript(path, NO_OPTION)
    assert path.read_text() == before


def test_without_rewrite_a_stale_transcript_fails_with_its_diff(stale, monkeypatch) -> None:
    path, _ = stale
    monkeypatch.delenv("TRIONODE_REWRITE", raising=False)
    with pytest.raises(pytest.fail.Exception, match="-not what the code prints"):
        transcripts.test_transcript(path, NO_OPTION)
