"""tests/requirements.py: a missing system part skips the test, and fails it under CI=true."""

from __future__ import annotations

import pytest
from requirements import in_ci, require, require_tool

NO_TOOL = "trionode-no-such-tool"


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_ci_values(monkeypatch, value) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()


@pytest.mark.parametrize("value", ["", "false", "0"])
def test_not_ci(monkeypatch, value) -> None:
    monkeypatch.setenv("CI", value)
    assert not in_ci()


def test_a_missing_tool_skips_with_its_reason(monkeypatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"{NO_TOOL} is not on PATH: to test"):
        require_tool(NO_TOOL, "to test")


def test_a_missing_tool_fails_under_ci(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"{NO_TOOL} is not on PATH: to test.*CI=true"):
        require_tool(NO_TOOL, "to test")
    with pytest.raises(pytest.fail.Exception, match="needs root"):
        require(False, "needs root")


def test_a_present_tool_is_found(monkeypatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert require_tool("sh", "always there").endswith("/sh")
    require(True, "never shown")
