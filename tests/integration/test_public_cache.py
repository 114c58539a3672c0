"""Public pages as cacheable HTTP (contest.web.caching): ETag / Last-Modified / 304, shared copies
only for readers who are not signed in, and nothing personal in a shared copy."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from contest.app import create_app
from contest.web.caching import PUBLIC_CACHE_CONTROL
from tests.integration.live_seed import Live, seed_live
from tests.integration.seed import make_id
from tests.integration.test_results import publish_scored_item


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


@pytest.fixture
def anonymous(migrated):
    with TestClient(app=create_app(migrated)) as client:
        yield client


def public_urls(live: Live) -> list[str]:
    c = live.competition_id
    return [f"/public/competitions/{c}", f"/public/competitions/{c}?q=%E4%B9%992", f"/board/{c}", f"/board/{c}/snapshot"]


def assert_shared(response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == PUBLIC_CACHE_CONTROL
    assert "stale-while-revalidate=" in response.headers["cache-control"]
    assert re.fullmatch(r'"[0-9a-f]{24}"', response.headers["etag"])
    assert response.headers["last-modified"].endswith(" GMT")
    assert {v.strip() for v in response.headers["vary"].split(",")} >= {"Accept-Language", "Cookie"}
    assert "set-cookie" not in response.headers  # no CSRF cookie, no session: nothing per reader


def test_public_pages_are_cacheable_with_etag_and_304(anonymous, live) -> None:
    for url in public_urls(live):
        first = anonymous.get(url)
        assert_shared(first)
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        again = anonymous.get(url)
        assert again.headers["etag"] == etag and again.content == first.content  # same body, same tag

        not_modified = anonymous.get(url, headers={"If-None-Match": etag})
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["etag"] == etag
        assert not_modified.headers["cache-control"] == PUBLIC_CACHE_CONTROL
        assert anonymous.get(url, headers={"If-None-Match": f'W/"x", {etag}'}).status_code == 304  # a list, weak form

        other = anonymous.get(url, headers={"If-None-Match": '"0123456789abcdef01234567"'})
        assert other.status_code == 200 and other.content == first.content

        assert anonymous.get(url, headers={"If-Modified-Since": modified}).status_code == 304
        older = anonymous.get(url, headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
        assert older.status_code == 200
        garbage = anonymous.get(url, headers={"If-Modified-Since": "not a date"})
        assert garbage.status_code == 200


def test_a_published_result_changes_the_etag_and_shows_no_id_numbers(anonymous, judge_client, live, role_users, monkeypatch) -> None:
    # the change is made through another app instance (another process): this one's hub hears of it
    # only through Redis, so its reconnect-storm snapshot cache would keep the old board for 2 s
    monkeypatch.setattr("contest.live.hub.SNAPSHOT_TTL", 0.0)
    url = f"/public/competitions/{live.competition_id}"
    before = anonymous.get(url)
    snapshot_before = anonymous.get(f"/board/{live.competition_id}/snapshot")
    organizer = judge_client(role_users["organizer"])
    publish_scored_item(judge_client, live, organizer)

    after = anonymous.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert_shared(after)  # changed: the old tag no longer matches
    assert after.headers["etag"] != before.headers["etag"]
    assert "选手甲1" in after.text
    assert not any(make_id(100 + i) in after.text for i in range(4))
    tokens = re.findall(r'x-csrftoken(?:&#34;|"): ?(?:&#34;|")([^&"]*)', after.text)
    assert tokens == [""]  # a shared copy holds no one's CSRF token

    snapshot = anonymous.get(f"/board/{live.competition_id}/snapshot", headers={"If-None-Match": snapshot_before.headers["etag"]})
    assert_shared(snapshot)
    body = snapshot.json()
    assert body["type"] == "snapshot" and body["competition_id"] == live.competition_id
    item = next(i for i in body["items"] if i["item_id"] == live.item_id)
    assert item["revealed"] is True and item["seq"] > 0
    assert not any(make_id(100 + i) in snapshot.text for i in range(4))


def test_the_board_snapshot_shows_no_names_before_the_reveal(anonymous, judge_client, live) -> None:
    from tests.integration.test_live_flow import score_everything

    score_everything(judge_client, live)
    body = anonymous.get(f"/board/{live.competition_id}/snapshot").json()
    item = next(i for i in body["items"] if i["item_id"] == live.item_id)
    assert item["stored"] == item["expected"] > 0
    assert item["revealed"] is False
    assert all(set(line) == {"place", "station", "total", "award"} for line in item["ranking"] or [])  # 工位号 only
    assert "选手" not in anonymous.get(f"/board/{live.competition_id}/snapshot").text


def test_signed_in_readers_get_a_private_copy_and_their_own_csrf_token(judge_client, live, role_users) -> None:
    organizer = judge_client(role_users["organizer"])
    for url in public_urls(live):
        response = organizer.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-store"
        assert "etag" not in response.headers
        assert organizer.get(url, headers={"If-None-Match": "*"}).status_code == 200  # never a 304 from a shared tag
    page = organizer.get(f"/public/competitions/{live.competition_id}").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert token is not None and token.group(1) == organizer.cookies.get("csrftoken")  # the header's logout form works
    assert organizer.post("/logout", data={"_csrf_token": token.group(1)}, follow_redirects=False).status_code in (302, 303)


def test_each_language_has_its_own_copy(anonymous, live) -> None:
    url = f"/public/competitions/{live.competition_id}"
    chinese = anonymous.get(url)
    english = anonymous.get(url, headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert_shared(english)
    assert english.headers["etag"] != chinese.headers["etag"]
    assert anonymous.get(url, headers={"Accept-Language": "en", "If-None-Match": chinese.headers["etag"]}).status_code == 200
    anonymous.cookies.set("lang", "en")
    assert anonymous.get(url).headers["etag"] == english.headers["etag"]


def test_errors_and_bad_input_are_never_shared(anonymous, live) -> None:
    for url in ("/board/999999/snapshot", "/board/999999", "/public/competitions/999999", f"/board/{live.competition_id}/snapshot?x=%ff"):
        response = anonymous.get(url)
        if response.status_code == 200:
            assert_shared(response)
            continue
        assert response.status_code == 404
        assert response.headers["cache-control"] == "private, no-store"
        assert "etag" not in response.headers
    assert anonymous.get("/board/99999999999999999999999/snapshot").status_code in (400, 404)


def test_the_personal_lookup_is_not_a_shared_page(anonymous, live) -> None:
    """My result (name + secret) is per reader: never a shared copy."""
    response = anonymous.get(f"/public/competitions/{live.competition_id}/me")
    assert response.headers.get("cache-control") != PUBLIC_CACHE_CONTROL
    assert "etag" not in response.headers
