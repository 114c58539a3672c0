"""One tablet, two judges (the hall's tablets are shared between shifts), and a server that errs.

Judge ja scores, leaves a mark unsent and signs out; judge jb signs in on the same tablet. Nothing
of ja's may reach jb: not ja's page kept for offline use, not ja's marks, not ja's outbox. And
nothing ja entered may be lost: ja is warned before signing out, and ja's unsent mark goes out as
ja's when ja signs in again. Also: a reload answered with a 5xx shows the kept page.
"""

from __future__ import annotations

import json

import pytest

from tests.browser.test_live_flow import (
    TABLET,
    criterion_row,
    enter_mark,
    new_tab,
    open_tablet,
    outbox,
    row_state,
    sign_in,
    stored_marks,
    wait_connected,
    wait_offline_ready,
    wait_pending,
)
from tests.integration.live_seed import seed_live

pytestmark = pytest.mark.browser


@pytest.fixture
def live(migrated):
    return seed_live(migrated.database_url)


def kept_pages(page) -> list[str]:
    """The signed-in account of every tablet page the service worker keeps."""
    return page.evaluate(
        """async () => {
          const users = [];
          for (const name of await caches.keys()) {
            const kept = await (await caches.open(name)).match('/tablet');
            if (kept) users.push(new DOMParser().parseFromString(await kept.text(), 'text/html').body.dataset.user);
          }
          return users;
        }"""
    )


def offline_tablet_judge(page) -> str | None:
    """Open /tablet with no network: the judge of the page shown, or None if no tablet page opens."""
    try:
        page.goto("/tablet")
    except Exception:  # noqa: BLE001 - net::ERR_INTERNET_DISCONNECTED: nothing kept, the browser's own page
        return None
    config = page.locator("#tablet-config")
    return json.loads(config.text_content() or "null")["judge"] if config.count() else None


def test_two_judges_share_a_tablet_without_a_leak_and_without_a_loss(live, live_server, browser, migrated) -> None:
    context, tablet = new_tab(browser, live_server, TABLET)
    try:
        open_tablet(tablet, "ja")
        wait_offline_ready(tablet)
        enter_mark(tablet, live, "甲1", "P2", "30")
        wait_pending(tablet, 0)
        assert kept_pages(tablet) == ["ja"]

        # The server stops answering (the socket opens, nothing comes back): ja's next mark stays unsent.
        tablet.route_web_socket("**/ws/judge", lambda ws: None)
        tablet.reload()
        enter_mark(tablet, live, "甲2", "P2", "25")
        wait_pending(tablet, 1)
        assert len(outbox(tablet, "ja")) == 1

        # ja signs out: warned that one mark has not gone out; cancelling keeps ja signed in.
        tablet.click("form[data-logout] button")
        dialog = tablet.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        assert "1 个分数未发送" in dialog.inner_text()
        tablet.click("#confirm-cancel")
        assert "/tablet" in tablet.url and kept_pages(tablet) == ["ja"]
        tablet.click("form[data-logout] button")
        dialog.wait_for(state="visible")
        tablet.click("#confirm-ok")
        tablet.wait_for_url(lambda url: "/tablet" not in url)

        # ja's page is no longer kept: with no network /tablet does not open ja's page.
        assert kept_pages(tablet) == []
        storage = tablet.evaluate("Object.keys(localStorage)")
        assert "contest.stored.ja" not in storage and "contest.taken.ja" not in storage  # what ja had scored: gone
        assert len(outbox(tablet, "ja")) == 1  # what ja has not yet sent: kept
        context.set_offline(True)
        assert offline_tablet_judge(tablet) is None
        context.set_offline(False)

        # jb signs in on the same tablet (a fresh tab: the one above has its socket held).
        jb = context.new_page()
        jb.set_default_timeout(10_000)
        open_tablet(jb, "jb")
        assert jb.evaluate("JSON.parse(document.getElementById('tablet-config').textContent).judge") == "jb"
        jb.click(f".station[data-station='{live.stations['甲1']}']")
        assert row_state(jb, live, "甲1", "P2") == "missing"  # ja's 30 is not shown (a judgement mark: blind)
        assert criterion_row(jb, live, "P2").locator("input.mark-input").input_value() == ""
        jb.click(f".station[data-station='{live.stations['甲2']}']")
        assert criterion_row(jb, live, "P2").locator("input.mark-input").input_value() == ""
        assert outbox(jb, "jb") == {}
        wait_offline_ready(jb)
        assert kept_pages(jb) == ["jb"]
        # jb's own page opens offline (for jb), and jb scores into jb's outbox.
        context.set_offline(True)
        assert offline_tablet_judge(jb) == "jb"
        enter_mark(jb, live, "乙1", "P2", "20")
        wait_pending(jb, 1)
        assert len(outbox(jb, "jb")) == 1 and len(outbox(jb, "ja")) == 1
        context.set_offline(False)
        wait_connected(jb)
        wait_pending(jb, 0)
        jb.click("form[data-logout] button")  # nothing unsent: no question
        jb.wait_for_url(lambda url: "/tablet" not in url)
        assert not jb.locator("#confirm-dialog").is_visible()
        assert not any(key.endswith(".jb") for key in jb.evaluate("Object.keys(localStorage)"))

        # ja signs in again: ja's unsent mark goes out, as ja's; jb's mark is jb's alone.
        sign_in(jb, "ja")
        jb.wait_for_url("**/tablet")
        wait_connected(jb)
        wait_pending(jb, 0)
        p2 = live.criteria["P2"]
        assert sorted((s, c, v) for s, c, v, _ in stored_marks(migrated.database_url, "ja", live.item_id)) == sorted(
            [(live.stations["甲1"], p2, "30"), (live.stations["甲2"], p2, "25")]
        )
        assert [(s, c, v) for s, c, v, _ in stored_marks(migrated.database_url, "jb", live.item_id)] == [(live.stations["乙1"], p2, "20")]
    finally:
        context.close()


def answer(status: int, body: str):
    return lambda route: route.fulfill(status=status, body=body)


def test_a_reload_answered_with_a_server_error_shows_the_kept_page(live, live_server, browser, migrated) -> None:
    context, tablet = new_tab(browser, live_server, TABLET)
    try:
        open_tablet(tablet, "ja")
        wait_offline_ready(tablet)
        enter_mark(tablet, live, "甲1", "T1", "80")
        wait_pending(tablet, 0)
        for status in (502, 503, 500):
            # The proxy answers for a restarting app (the service worker's own request is routed here too).
            context.route("**/tablet", answer(status, "Bad Gateway"))
            tablet.reload()
            assert tablet.evaluate("JSON.parse(document.getElementById('tablet-config').textContent).judge") == "ja"
            assert "Bad Gateway" not in tablet.locator("body").inner_text()
            context.unroute("**/tablet")
        # A 4xx is the server's real answer (signed out, say): passed through, not hidden.
        context.route("**/tablet", answer(403, "Forbidden here"))
        tablet.reload()
        assert "Forbidden here" in tablet.locator("body").inner_text()
    finally:
        context.close()


def test_an_english_tablet_shows_the_servers_refusal_in_english(live, live_server, browser, migrated) -> None:
    """A judge reading English (the browser's language here) sees the server's refusal in English."""
    context = browser.new_context(base_url=live_server, locale="en-US", viewport=TABLET)
    other_context, other = new_tab(browser, live_server, TABLET)
    try:
        tablet = context.new_page()
        tablet.set_default_timeout(10_000)
        open_tablet(tablet, "ja")
        assert tablet.locator("#conn").inner_text() == "Connected"
        context.set_offline(True)
        tablet.wait_for_selector("#conn[data-state=offline]")
        # while ja's tablet is offline, jb enters the measurement ja is about to enter
        open_tablet(other, "jb")
        enter_mark(other, live, "甲1", "T1", "80")
        wait_pending(other, 0)
        tablet.click(f".station[data-station='{live.stations['甲1']}']")
        field = criterion_row(tablet, live, "T1").locator("input.mark-input")
        field.fill("70")
        field.press("Enter")
        wait_pending(tablet, 1)
        context.set_offline(False)
        wait_connected(tablet)
        wait_pending(tablet, 0)
        error = criterion_row(tablet, live, "T1").locator(".row-error").inner_text()
        assert "already been entered by another judge" in error, error
        assert "裁判" not in error and "裁判" not in tablet.locator("#last-error").inner_text()
    finally:
        other_context.close()
        context.close()
