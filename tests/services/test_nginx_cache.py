"""The nginx configuration printed in docs/deploy.md, in front of a real `contest serve`: the public
pages are served from nginx's cache (the app answers once per URL and language), signed-in readers
go past it. Skipped without /usr/sbin/nginx unless CONTEST_REQUIRE_SERVICES=1."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contest.settings import REPO_ROOT
from tests.conftest import require_or_skip
from tests.integration.seed import seed

NGINX = os.environ.get("CONTEST_NGINX", "/usr/sbin/nginx")
MARKER = "bench/public reads the block below"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text(errors="replace")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        assert time.monotonic() < deadline, f"{url} did not answer:\n" + log.read_text(errors="replace")
        time.sleep(0.1)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def doc_config(app_port: int, port: int, work: Path) -> str:
    text = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    block = re.search(r"```nginx\n(.*?)```", text[text.index(MARKER) :], re.S)
    assert block is not None
    conf = block.group(1)
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{port};",
        "127.0.0.1:8000": f"127.0.0.1:{app_port}",
        "/var/cache/nginx/contest": str(work / "cache"),
    }
    for old, new in replacements.items():
        assert old in conf
        conf = conf.replace(old, new)
    temp = work / "temp"
    temp.mkdir()
    paths = " ".join(f"{kind}_temp_path {temp}/{kind};" for kind in ("proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""  # else workers run as nobody, locked out of pytest's tmp dirs
    return (
        f"{user}daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log warn;\n"
        f"events {{ worker_connections 256; }}\n"
        f"http {{ access_log off; client_body_temp_path {temp}/body; {paths}\n{conf}\n}}\n"
    )


@pytest.fixture
def proxied(migrated, tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
    if not Path(NGINX).exists():
        require_or_skip("CONTEST_REQUIRE_SERVICES", f"{NGINX} not installed (apt-get install nginx)")
    competition_id = seed(migrated.database_url)["competition_id"]
    app_port, port = _free_port(), _free_port()
    app_log = tmp_path / "serve.log"
    env = {**os.environ, "CONTEST_DATABASE_URL": migrated.database_url, "CONTEST_VAR_DIR": str(migrated.var_dir)}
    with app_log.open("wb") as out:
        app = subprocess.Popen(
            [sys.executable, "-c", "from contest.cli import main; main()", "serve", "--port", str(app_port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    nginx_dir = tmp_path / "nginx"
    nginx_dir.mkdir()
    conf = nginx_dir / "nginx.conf"
    conf.write_text(doc_config(app_port, port, nginx_dir))
    nginx = None
    try:
        _wait(f"http://127.0.0.1:{app_port}/healthz", app, app_log)
        check = subprocess.run([NGINX, "-t", "-p", str(nginx_dir), "-c", str(conf)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        nginx = subprocess.Popen([NGINX, "-p", str(nginx_dir), "-c", str(conf)], stderr=subprocess.DEVNULL)
        _wait(f"http://127.0.0.1:{port}/healthz", nginx, nginx_dir / "error.log")
        yield f"http://127.0.0.1:{port}", app_log, competition_id
    finally:
        if nginx is not None:
            _stop(nginx)
        _stop(app)


def app_hits(log: Path, path: str) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines() if f'"GET {path}"' in line)


def test_the_docs_nginx_config_serves_public_pages_from_its_cache(proxied) -> None:
    base, log, competition_id = proxied
    for path in (f"/public/competitions/{competition_id}", f"/board/{competition_id}", f"/board/{competition_id}/snapshot"):
        first = httpx.get(base + path)
        assert first.status_code == 200 and first.headers["x-cache-status"] == "MISS"
        etag = first.headers["etag"]
        for _ in range(20):
            again = httpx.get(base + path)
            assert again.status_code == 200 and again.headers["x-cache-status"] == "HIT"
            assert again.content == first.content
        conditional = httpx.get(base + path, headers={"If-None-Match": etag})
        assert conditional.status_code == 304 and conditional.headers["x-cache-status"] == "HIT"
        assert app_hits(log, path) == 1  # 22 readers, one request to the app

        english = httpx.get(base + path, headers={"Accept-Language": "en-US,en;q=0.9"})
        assert english.headers["x-cache-status"] == "MISS"  # its own copy
        if not path.endswith("/snapshot"):  # the snapshot's data is the same in both languages
            assert english.headers["etag"] != etag
            assert httpx.get(base + path, cookies={"lang": "zh"}, headers={"Accept-Language": "en"}).headers["etag"] == etag
        assert httpx.get(base + path, cookies={"lang": "en"}).headers["x-cache-status"] == "HIT"
        assert app_hits(log, path) == 2


def test_signed_in_readers_and_private_pages_go_past_the_cache(proxied) -> None:
    base, log, competition_id = proxied
    path = f"/public/competitions/{competition_id}"
    assert httpx.get(base + path).headers["x-cache-status"] == "MISS"
    signed_in = httpx.get(base + path, cookies={"contest_session": "not-a-real-session"})
    assert signed_in.headers["x-cache-status"] == "BYPASS"
    me = f"/public/competitions/{competition_id}/me"
    for _ in range(3):
        response = httpx.get(base + me)
        assert "x-cache-status" not in response.headers  # not a cached location at all
    assert app_hits(log, me) == 3
    assert app_hits(log, path) == 2
