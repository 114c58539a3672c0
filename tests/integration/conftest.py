"""Fixtures for the integration tests."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.conftest import login


@pytest.fixture
def judge_client(app):  # type: ignore[no-untyped-def]
    """judge_client(username) -> a signed-in TestClient; all are closed after the test.

    One app runs one lifespan per client, so tests that watch a board open it on a client
    they already have (the board needs no login)."""
    opened: list[TestClient] = []

    def open_client(username: str) -> TestClient:
        client = TestClient(app=app)
        client.__enter__()
        opened.append(client)
        login(client, username)
        return client

    yield open_client
    for client in reversed(opened):
        client.__exit__(None, None, None)
