"""Fixtures for the integration tests."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from contest.app import create_app
from tests.conftest import login


@pytest.fixture
def judge_client(migrated):
    """judge_client(username) -> a signed-in TestClient; all are closed after the test.

    Each client gets its own app instance (one lifespan each, like one server process each):
    two test clients sharing one app would start its channels plugin twice. Sessions and data
    are shared through the database, as between processes; live fan-out is per instance, so a
    test that watches a board opens it on the same client that makes the change.
    """
    opened: list[TestClient] = []

    def open_client(username: str) -> TestClient:
        client = TestClient(app=create_app(migrated))
        client.__enter__()
        opened.append(client)
        login(client, username)
        return client

    yield open_client
    for client in reversed(opened):
        client.__exit__(None, None, None)
