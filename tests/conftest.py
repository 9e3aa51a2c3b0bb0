"""Suite-wide: the `requires_tool` marker (see requirements.py).

This file also makes tests/ importable (pytest's default "prepend" import mode puts the
directory of a conftest.py outside any package on sys.path), so every test module can say
`from requirements import require_tool`.
"""

from __future__ import annotations

import pytest
from requirements import in_ci, require_tool, tool_missing


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires_tool(name, why): skip without executable `name` on PATH "
                   "(fail under CI=true)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Outside CI a missing tool becomes a skip mark, reported at the test's own line."""
    if in_ci():
        return
    for item in items:
        for mark in item.iter_markers("requires_tool"):
            reason = tool_missing(*mark.args, **mark.kwargs)
            if reason is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under CI=true a missing tool fails the test (require_tool)."""
    for mark in item.iter_markers("requires_tool"):
        require_tool(*mark.args, **mark.kwargs)
