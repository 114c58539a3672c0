"""Operating the server: readiness says what is wrong, the command line starts fast, the
version is one number everywhere."""

from __future__ import annotations

import ast
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from contest import __version__
from contest.app import create_app
from contest.cli import main
from tests.conftest import require_or_skip


def test_ready_when_the_database_and_the_writer_are(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "mark_writer": "ok"}}


@pytest.mark.services
def test_not_ready_names_the_part_that_fails(migrated, tmp_path) -> None:
    """A Redis of our own, stopped while the server runs: /readyz says it is Redis."""
    server = shutil.which("redis-server")
    if server is None:
        require_or_skip("CONTEST_REQUIRE_SERVICES", "redis-server not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        with TestClient(app=create_app(replace(migrated, redis_url=f"redis://127.0.0.1:{port}/0"))) as client:
            assert client.get("/readyz").json()["checks"]["redis"] == "ok"
            redis.terminate()
            redis.wait(timeout=10)
            response = client.get("/readyz")
            assert response.status_code == 503
            body = response.json()
            assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
            assert body["checks"]["redis"].startswith("failed")
    finally:
        redis.kill()


def test_not_ready_without_the_database(migrated, tmp_path) -> None:
    missing = replace(migrated, database_url=f"sqlite+aiosqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    with TestClient(app=create_app(missing)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503 and response.json()["checks"]["database"].startswith("failed")
        assert client.get("/healthz").status_code == 200  # alive, just not ready


@pytest.mark.services
def test_ready_with_redis(migrated, redis_url: str) -> None:
    with TestClient(app=create_app(replace(migrated, redis_url=redis_url))) as client:
        response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["checks"]["redis"] == "ok"


def test_one_version_everywhere(client) -> None:
    assert CliRunner().invoke(main, ["--version"]).output.strip() == f"contest, version {__version__}"
    assert f"contest {__version__}" in client.get("/").text


# Run a `contest` command in a fresh interpreter, then name the heavy modules it loaded.
_LOADED = """
import sys
from contest.cli import main
try:
    main(sys.argv[1:], prog_name="contest")
except SystemExit as exit:
    if exit.code:
        raise
print(sorted(m for m in ("sqlalchemy", "litestar", "uvicorn", "openpyxl", "numpy", "contest.domain.awards.engine") if m in sys.modules))
"""


def _loaded_by(*args: str, cwd: Path | None = None) -> list[str]:
    run = subprocess.run([sys.executable, "-c", _LOADED, *args], capture_output=True, text=True, cwd=cwd)
    assert run.returncode == 0, run.stderr
    return ast.literal_eval(run.stdout.strip().splitlines()[-1])


def test_pure_commands_do_not_load_the_database_or_web_stack(tmp_path: Path) -> None:
    """`contest --version` and `--help` load neither the award engine nor openpyxl (nor numpy
    through it), let alone SQLAlchemy or Litestar; `contest awards compute` loads what it computes
    and writes with, never the database or the web stack (start-up: bench/results/startup.md)."""
    for args in (["--version"], ["--help"], ["awards", "--help"]):
        assert _loaded_by(*args) == [], args
    samples = Path(__file__).resolve().parents[2] / "seeds" / "awards"
    out = tmp_path / "payouts.xlsx"
    args = ["awards", "compute", "--policy", "longjisaichang-heilongjiang-2022", "--results", str(samples / "sample-results.json")]
    loaded = _loaded_by(*args, "--out", str(out), cwd=tmp_path)
    assert out.stat().st_size > 0  # it did compute and write
    assert "contest.domain.awards.engine" in loaded and "openpyxl" in loaded
    assert not {"sqlalchemy", "litestar", "uvicorn"} & set(loaded), loaded


def _sample(text: str, name: str, labels: str = "") -> float:
    """The value of one sample in a Prometheus exposition (0 if absent)."""
    import re

    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_marks_acks_devices_and_errors(judge_client, migrated) -> None:
    import uuid

    from contest.metrics import exposition
    from tests.integration.live_seed import seed_live

    live = seed_live(migrated.database_url)
    client = judge_client("ja")  # the metrics are this process's (one process here)

    def scrape() -> str:
        return exposition()[0].decode()

    start = scrape()
    with client.websocket_connect("/ws/judge") as socket:
        socket.send_json({"type": "hello", "device": "pytest"})
        assert socket.receive_json()["type"] == "welcome"
        assert _sample(scrape(), "contest_connected_tablets") == _sample(start, "contest_connected_tablets") + 1
        mark = {
            "type": "mark",
            "client_id": str(uuid.uuid4()),
            "item_id": live.item_id,
            "station": live.stations["乙1"],
            "criterion_id": live.criteria["P1"],
            "value": "50",
        }
        for _ in range(2):  # stored, then the retry: a duplicate
            socket.send_json(mark)
            assert socket.receive_json()["type"] == "ack"
        socket.send_json({**mark, "client_id": str(uuid.uuid4()), "value": "50.3"})
        assert socket.receive_json()["code"] == "off_step"
    end = scrape()
    assert _sample(end, "contest_marks_total", '{outcome="stored"}') == _sample(start, "contest_marks_total", '{outcome="stored"}') + 1
    assert (
        _sample(end, "contest_marks_total", '{outcome="duplicate"}') == _sample(start, "contest_marks_total", '{outcome="duplicate"}') + 1
    )
    assert _sample(end, "contest_mark_ack_seconds_count") >= _sample(start, "contest_mark_ack_seconds_count") + 3
    assert _sample(end, "contest_errors_total", '{code="off_step"}') >= _sample(start, "contest_errors_total", '{code="off_step"}') + 1
    assert _sample(end, "contest_writer_batch_marks_count") >= _sample(start, "contest_writer_batch_marks_count") + 2
    deadline = time.monotonic() + 5  # the server's side of the socket ends just after the client's
    while _sample(scrape(), "contest_connected_tablets") != _sample(start, "contest_connected_tablets"):
        assert time.monotonic() < deadline, "the tablet was not counted out"
        time.sleep(0.02)


def test_metrics_are_for_organizers_or_a_scraper_with_the_token(migrated, role_users) -> None:
    from tests.conftest import login

    with TestClient(app=create_app(replace(migrated, metrics_token="s3cret-scrape-token"))) as client:
        assert client.get("/metrics", follow_redirects=False).status_code in (302, 303, 401)
        assert client.get("/metrics", headers={"authorization": "Bearer wrong"}, follow_redirects=False).status_code in (302, 303, 401)
        scraped = client.get("/metrics", headers={"authorization": "Bearer s3cret-scrape-token"})
        assert scraped.status_code == 200 and "contest_marks_total" in scraped.text
        login(client, role_users["judge"])
        assert client.get("/metrics").status_code == 403
    with TestClient(app=create_app(migrated)) as client:
        login(client, role_users["organizer"])
        page = client.get("/metrics")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
