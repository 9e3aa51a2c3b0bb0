"""configure_logging(): text and JSON lines, node= on every line, levels, no shared state."""

from __future__ import annotations

import io
import json

import pytest

from trionode.telemetry.log import configure_logging


def test_text_line_order_and_node() -> None:
    out = io.StringIO()
    log = configure_logging("text", "info", "n1", stream=out)
    log.info("started", port=2379, path="/a b")
    line = out.getvalue()
    assert line.endswith("\n") and line.count("\n") == 1
    keys = [item.split("=", 1)[0] for item in line.split(" ") if "=" in item]
    assert keys[:4] == ["timestamp", "level", "event", "node"]
    assert " level=info event=started node=n1 port=2379 path=\"/a b\"\n" in line


def test_json_line() -> None:
    out = io.StringIO()
    configure_logging("json", "info", "n2", stream=out).warning("slow", ms=12)
    record = json.loads(out.getvalue())
    assert list(record)[:4] == ["timestamp", "level", "event", "node"]
    assert record | {"timestamp": None} == {"timestamp": None, "level": "warning", "event": "slow",
                                            "node": "n2", "ms": 12}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_exception_stays_on_one_line(fmt: str) -> None:
    out = io.StringIO()
    log = configure_logging(fmt, "info", "n1", stream=out)
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        log.exception("failed")
    assert out.getvalue().count("\n") == 1
    assert "RuntimeError" in out.getvalue() and "node" in out.getvalue()


def test_level_filters() -> None:
    out = io.StringIO()
    log = configure_logging("text", "warn", "n1", stream=out)
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    assert [line.split(" event=")[1].split(" ")[0] for line in out.getvalue().splitlines()] == ["w", "e"]


def test_two_nodes_in_one_process_do_not_collide() -> None:
    a, b = io.StringIO(), io.StringIO()
    log_a = configure_logging("text", "debug", "a", stream=a)
    log_b = configure_logging("json", "error", "b", stream=b)
    log_a.debug("one")
    log_b.info("dropped")
    log_b.error("two")
    assert "node=a" in a.getvalue() and a.getvalue().count("\n") == 1
    assert json.loads(b.getvalue())["node"] == "b"


def test_defaults_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text", "info", "n1").info("hello")
    captured = capsys.readouterr()
    assert captured.out == "" and "event=hello node=n1" in captured.err


@pytest.mark.parametrize(("fmt", "level"), [("xml", "info"), ("text", "loud")])
def test_rejects_unknown_format_or_level(fmt: str, level: str) -> None:
    with pytest.raises(ValueError):
        configure_logging(fmt, level, "n1")
