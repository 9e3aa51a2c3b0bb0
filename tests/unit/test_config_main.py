"""main(): exit codes and what reaches stdout/stderr. node.serve is replaced by a fake."""

from __future__ import annotations

import os
import sys
import types

import pytest

from trionode.__main__ import main
from trionode.config.flags import Config
from trionode.storage.errors import DataDirError, WalCorruptError


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [key for key in os.environ if key.startswith("ETCD_")]:
        monkeypatch.delenv(key)


@pytest.fixture
def fake_node(monkeypatch: pytest.MonkeyPatch, clean_env: None) -> types.SimpleNamespace:
    """Installs a fake trionode.node; set `.raises` to make serve() raise."""
    seen = types.SimpleNamespace(config=None, raises=None)

    async def serve(config, log) -> None:
        seen.config = config
        log.info("serving")
        if seen.raises is not None:
            raise seen.raises

    monkeypatch.setitem(sys.modules, "trionode.node", types.SimpleNamespace(serve=serve))
    return seen


@pytest.mark.parametrize("argv", [["--bogus"], ["--snapshot-count", "x"], ["--heartbeat-interval", "900"]])
def test_bad_flag_exits_2_with_one_line(argv: list[str], capsys: pytest.CaptureFixture[str],
                                        clean_env: None) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("trionode: ") and captured.err.count("\n") == 1


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str], clean_env: None) -> None:
    assert main(["--help"]) == 0
    assert "--listen-client-urls" in capsys.readouterr().out
    assert main(["-version"]) == 0
    assert "etcd API" in capsys.readouterr().out


def test_runs_serve_with_config_and_logger(fake_node: types.SimpleNamespace,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-name", "n7", "--log-format", "json"]) == 0
    assert fake_node.config == Config(name="n7", log_format="json")
    assert '"event": "serving", "node": "n7"' in capsys.readouterr().err


def test_environment_warnings_are_logged(fake_node: types.SimpleNamespace,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ETCD_WHATEVER", "1")
    assert main([]) == 0
    assert 'event="unrecognized environment variable ETCD_WHATEVER" node=default' in capsys.readouterr().err


@pytest.mark.parametrize("error", [DataDirError("belongs to cluster x"),
                                   WalCorruptError("wal/0.log", 40, "bad crc")])
@pytest.mark.parametrize("grouped", [False, True])
def test_data_errors_exit_1_with_one_log_line(error: Exception, grouped: bool,
                                              fake_node: types.SimpleNamespace,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    fake_node.raises = ExceptionGroup("nursery", [error]) if grouped else error
    assert main([]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if "level=error" in line] == [
        line for line in err.splitlines() if str(error) in line]
    assert "event=\"cannot start\"" in err


def test_keyboard_interrupt_has_no_traceback(fake_node: types.SimpleNamespace,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    fake_node.raises = KeyboardInterrupt()
    assert main([]) == 130
    assert "Traceback" not in capsys.readouterr().err


def test_unexpected_error_keeps_its_traceback(fake_node: types.SimpleNamespace) -> None:
    fake_node.raises = RuntimeError("bug")
    with pytest.raises(RuntimeError):
        main([])
