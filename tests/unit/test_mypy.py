"""The pure cores type-check (issue 11): mypy, with pyproject.toml's [tool.mypy] settings
(every def typed in the cores, unused ignores reported), finds no error in raft, wire,
store, gocompat and v2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]
CORES = ["trionode/raft", "trionode/wire", "trionode/store", "trionode/gocompat", "trionode/v2",
         "trionode/telemetry/logger.py"]


def test_cores_type_check(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
                          request: pytest.FixtureRequest) -> None:
    monkeypatch.chdir(ROOT)  # paths in mypy's report are then relative to the repository
    cache = getattr(request.config, "cache", None)  # pytest's own cache dir, already git-ignored
    cache_dir = cache.mkdir("mypy") if cache is not None else tmp_path_factory.mktemp("mypy")
    args = ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache_dir), *CORES]
    stdout, stderr, status = api.run(args)
    assert status == 0, f"mypy {' '.join(CORES)} failed ({status}):\n{stdout}{stderr}"
