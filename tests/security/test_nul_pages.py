"""What a person sees when a form carries a NUL (U+0000).

A NUL cannot be typed on a keyboard: only a tool sends one. It is refused before any handler runs
(contest.web.guards.parameter_guard), with the generic error page rather than the form shown again:
that page is a real page (the top bar and its navigation, the language link), says which field in
the reader's language, and nothing is written. An htmx request (the search as one types, the judge
picker) gets the message alone, sent to the page's #request-error, since htmx would neither swap a
whole page into a part of one nor show an error status by itself.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from contest.db.models import Unit
from contest.web.errors import HTMX_ERROR_HEADERS
from tests.conftest import post_form
from tests.integration.payout_seed import run

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/people"}


def _units(url: str) -> int:
    async def work(db: Any) -> int:
        return (await db.execute(select(func.count()).select_from(Unit))).scalar_one()

    return run(url, work)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_nul_in_a_form_gets_a_whole_page_naming_the_field_in_either_language(judge_client, role_users, migrated) -> None:
    organizer = judge_client(role_users["organizer"])
    before = _units(migrated.database_url)

    chinese = post_form(organizer, "/units", {"name": "甲\x00单位", "code": "A1"})
    assert chinese.status_code == 400 and chinese.headers["content-type"].startswith("text/html")
    assert "“单位名称”含有不允许的控制字符 U+0000(NUL),请删除后重试" in chinese.text
    assert '<html lang="zh-CN">' in chinese.text and '<header class="topbar">' in chinese.text
    assert '<a href="/units">单位</a>' in chinese.text and 'href="/lang/en' in chinese.text  # the navigation and the language link
    assert "<h1>出错了</h1>" in chinese.text and 'data-code="control_character"' in chinese.text
    assert "\x00" not in chinese.text  # the value is not echoed back

    organizer.cookies.set("lang", "en")
    english = post_form(organizer, "/units", {"name": "甲\x00单位"})
    assert english.status_code == 400 and '<html lang="en">' in english.text
    assert "“Unit name” contains a control character that is not allowed, U+0000 (NUL); remove it and try again" in english.text
    assert '<a href="/units">Units</a>' in english.text and "Something went wrong" in _text(english.text)
    assert re.search(r"[\u4e00-\u9fff]", _text(english.text).replace("中文", "")) is None, _text(english.text)  # no Chinese left

    # a field the form does not declare is named as sent, the NUL made visible; a multipart form the same
    undeclared = post_form(organizer, "/units", {"name": "甲单位", "ex\x00tra": "1"})
    assert undeclared.status_code == 400 and "“ex\\0tra”" in undeclared.text
    multipart = post_form(organizer, "/units", {"name": "甲\x00单位"}, files={"file": ("名单.xlsx", b"PK")})
    assert multipart.status_code == 400 and "“Unit name” contains a control character" in multipart.text
    assert _units(migrated.database_url) == before


def test_an_htmx_request_with_a_nul_gets_the_message_alone_for_the_page_to_show(judge_client, role_users, migrated) -> None:
    organizer = judge_client(role_users["organizer"])
    for lang, message in (
        ("zh", "“搜索”含有不允许的控制字符 U+0000(NUL),请删除后重试"),
        ("en", "“Search” contains a control character that is not allowed, U+0000 (NUL); remove it and try again"),
    ):
        organizer.cookies.set("lang", lang)
        response = post_form(organizer, "/people/search", {"q": "张\x00"}, headers=HTMX)
        assert response.status_code == 400
        for name, value in HTMX_ERROR_HEADERS.items():
            assert response.headers[name] == value
        body = response.text.strip()
        assert body.startswith('<div id="request-error-message"') and "<html" not in body and "topbar" not in body
        assert 'role="alert"' in body and message in body, body
    # the page the request came from has the place it goes to, and lets htmx swap an error status into it
    page = organizer.get("/people").text
    assert '<div id="request-error" aria-live="assertive"></div>' in page
    assert '{"code": "[45]..", "error": true, "swap": true}' in page


def test_other_refusals_of_htmx_requests_take_the_same_way(judge_client, role_users, migrated, client) -> None:
    organizer = judge_client(role_users["organizer"])
    missing = organizer.get("/chief/items/2147483647/matrix", headers=HTMX)  # a console fragment of no item
    assert missing.status_code in (403, 404) and missing.headers["HX-Retarget"] == "#request-error"
    assert 'id="request-error-message"' in missing.text and "<html" not in missing.text
    # without the header, the same refusal is the whole page; a boosted request (a whole page) too
    assert "<html" in organizer.get("/chief/items/2147483647/matrix").text
    boosted = organizer.get("/chief/items/2147483647/matrix", headers={**HTMX, "HX-Boosted": "true"})
    assert "<html" in boosted.text and "HX-Retarget" not in boosted.headers
    # the API keeps its JSON whatever the headers
    api = client.get("/api/v1/nothing-here", headers=HTMX)
    assert api.headers["content-type"].startswith("application/json")
