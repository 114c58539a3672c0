"""The security lane (`-m security` selects it; it runs in `make test` like every other test)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import judge_client  # noqa: F401 - the shared fixture, re-exported here


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/security/" in str(item.fspath):
            item.add_marker(pytest.mark.security)
