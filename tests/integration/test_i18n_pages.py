"""Pages in English: template strings, and errors raised in Python translated where the page
shows them (a plain message and one with values), while the API keeps its Chinese message."""

from __future__ import annotations

import html
import json
import re

from litestar.testing import TestClient

from contest.settings import Settings
from tests.conftest import login
from tests.integration.live_seed import seed_live


def test_an_error_page_in_english_and_in_chinese(client: TestClient, role_users: dict[str, str]) -> None:
    login(client, role_users["organizer"])
    client.cookies.set("lang", "en")
    missing = client.get("/competitions/4040")
    assert missing.status_code == 404
    assert "Competition 4040 does not exist" in missing.text  # a Text: its template, the value put back
    assert "赛事 4040 不存在" not in missing.text
    client.cookies.set("lang", "zh")
    assert "赛事 4040 不存在" in client.get("/competitions/4040").text


def test_the_api_keeps_the_chinese_message(client: TestClient, role_users: dict[str, str]) -> None:
    login(client, role_users["organizer"])
    client.cookies.set("lang", "en")
    answer = client.get("/competitions/4040", headers={"accept": "application/json"})
    assert answer.status_code == 404
    assert answer.json()["error"] == {"code": "not_found", "message": "赛事 4040 不存在", "details": []}


def test_the_board_gets_its_strings_from_the_page(client: TestClient, migrated: Settings) -> None:
    live = seed_live(migrated.database_url)
    client.cookies.set("lang", "en")
    page = client.get(f"/board/{live.competition_id}").text
    block = re.search(r'<script id="board-text" type="application/json">(.*?)</script>', page, re.S)
    assert block is not None
    text = json.loads(html.unescape(block.group(1)))
    assert text["place"] == "Place" and text["labels"]["已公示"] == "Published" and text["labels"]["一等奖"] == "1st prize"


def test_people_and_conflicts_pages_in_english(client: TestClient, role_users: dict[str, str]) -> None:
    """The gender is stored as written (男/女) and shown in the reader's language; the conflicts
    page's explanation is translated."""
    from tests.conftest import post_form

    login(client, role_users["organizer"])
    client.cookies.set("lang", "en")
    page = client.get("/people").text
    assert '<option value="男">Male</option>' in page and '<option value="女">Female</option>' in page
    saved = post_form(client, "/people", {"name": "王芳", "id_number": "11010519491231002X", "gender": "女"})
    assert saved.status_code in (302, 303), saved.text[:300]
    row = next(line for line in client.get("/people").text.split("<tr>") if "王芳" in line)
    assert "<td>Female</td>" in row
    client.cookies.set("lang", "zh")
    row = next(line for line in client.get("/people").text.split("<tr>") if "王芳" in line)
    assert "<td>女</td>" in row
    client.cookies.set("lang", "en")
    conflicts = client.get("/conflicts").text
    assert "stands aside automatically" in conflicts and "此处登记其他关系" not in conflicts
