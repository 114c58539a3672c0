"""The app as `contest serve` runs it (a real uvicorn process, its own access log): no log line
carries a full ID number, the people search goes by POST, and proxy headers count only from the
configured trusted proxy."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote_plus

import httpx
import pytest

from contest.domain.idcard import check_digit, mask
from contest.settings import REPO_ROOT
from tests.conftest import PASSWORD

PERSON_ID = "37100219850615123" + check_digit("37100219850615123")
FULL_WIDTH = PERSON_ID.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(migrated, role_users, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "CONTEST_DATABASE_URL": migrated.database_url,
        "CONTEST_VAR_DIR": str(migrated.var_dir),
        "CONTEST_TRUSTED_PROXIES": "127.0.0.1",  # the test plays the proxy: its X-Forwarded-For counts
    }
    command = [sys.executable, "-c", "from contest.cli import main; main()", "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "server did not start:\n" + log.read_text()
            time.sleep(0.1)
        yield base, log
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _csrf(client: httpx.Client, path: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def _login(client: httpx.Client, username: str, password: str, address: str) -> httpx.Response:
    data = {"username": username, "password": password, "_csrf_token": _csrf(client, "/login")}
    return client.post("/login", data=data, headers={"x-forwarded-for": address})


def test_served_app_keeps_id_numbers_out_of_its_logs_and_counts_the_proxied_address(served) -> None:
    base, log = served
    with httpx.Client(base_url=base, timeout=10) as client:
        # Someone behind the proxy guesses the organizer's password: that device is stopped ...
        for _ in range(5):
            assert _login(client, "org", "wrong-password", "10.9.8.7").status_code == 400
        refused = _login(client, "org", PASSWORD, "10.9.8.7")
        assert refused.status_code == 400 and "登录失败次数过多" in refused.text
        # ... the organizer, on another device behind the same proxy, is not.
        assert _login(client, "org", PASSWORD, "10.9.8.8").status_code == 302

        data = {"name": "王五", "id_number": PERSON_ID, "_csrf_token": _csrf(client, "/people/")}
        assert client.post("/people/", data=data).status_code == 302
        found = client.post("/people/search", data={"q": PERSON_ID, "_csrf_token": _csrf(client, "/people/")})
        assert found.status_code == 200 and "王五" in found.text
        assert 'method="post" action="/people/search"' in found.text and "hx-get" not in found.text
        # Old links and typed URLs still reach the server: their request lines are masked in the log.
        for query in (PERSON_ID, quote(PERSON_ID), "".join(f"%{ord(c):02X}" for c in PERSON_ID), quote(FULL_WIDTH)):
            assert client.get(f"/people/?q={query}").status_code == 200

    # uvicorn writes (and flushes) an access line as the response starts: all are in the file now.
    text = log.read_text(encoding="utf-8", errors="replace")
    decoded = unicodedata.normalize("NFKC", unquote_plus(text))
    assert PERSON_ID not in text and PERSON_ID not in decoded
    assert text.count(mask(PERSON_ID)) >= 4, text[-3000:]
    assert "POST /people/search" in text
    assert "10.9.8.8" in text  # uvicorn trusts the same proxy: its access log shows the client
