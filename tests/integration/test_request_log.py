"""A request id on every response and log line; one access line per request; JSON logs on request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from contest.web.request_log import JsonFormatter
from tests.conftest import login
from tests.integration.seed import make_id


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The records that reach the root logger, as the JSON formatter writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def _entries(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_every_response_names_its_request_and_the_access_line_carries_it(client, json_log) -> None:
    response = client.get("/login")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 16
    [access] = [e for e in _entries(json_log) if e["logger"] == "contest.access" and e["request_id"] == request_id]
    assert (access["method"], access["path"], access["status"]) == ("GET", "/login", 200)
    assert access["duration_ms"] >= 0 and access["level"] == "INFO"
    assert client.get("/no-such-page").headers["x-request-id"] != request_id  # 404s from the router too


def test_a_proxys_request_id_is_kept_and_a_bad_one_replaced(client, json_log) -> None:
    assert client.get("/login", headers={"x-request-id": "nginx-1f2e3d"}).headers["x-request-id"] == "nginx-1f2e3d"
    forged = client.get("/login", headers={"x-request-id": "x" * 65}).headers["x-request-id"]
    assert forged != "x" * 65 and len(forged) == 16
    assert {"nginx-1f2e3d", forged} <= {e["request_id"] for e in _entries(json_log)}


def test_id_numbers_are_masked_in_the_structured_fields_too(client, role_users, json_log) -> None:
    login(client, role_users["organizer"])
    number = make_id(42)
    client.get(f"/people/?q={number}")
    assert number not in json_log.getvalue()
    paths = [e["path"] for e in _entries(json_log) if e["logger"] == "contest.access"]
    assert any(p.startswith("/people") and "q=" in p for p in paths), paths


def test_health_probes_do_not_fill_the_log(client, json_log) -> None:
    for _ in range(3):
        client.get("/healthz")
    assert not [e for e in _entries(json_log) if e.get("path") == "/healthz"]
