"""Competition day in real Chromium: a judge's tablet loses the network and loses nothing.

A judge scores two entries, the network is cut, the judge scores a third (pending), the network
returns and all three are acknowledged and stored once; the big-screen board shows them; the
rest of the marks come in over the same websocket protocol; the chief judge locks and reveals in
the console; the board shows the names. Plus: the outbox survives a reload, and the tablet is
usable in portrait (large targets, no sideways scrolling, a bad value refused in the page).

Set CONTEST_SHOTS=/some/dir to keep screenshots of the tablet and the board.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Entry, Mark, MarkSubmission, User
from tests.conftest import PASSWORD
from tests.integration.live_seed import Live, seed_live

pytestmark = pytest.mark.browser

TABLET = {"width": 1024, "height": 768}
PORTRAIT = {"width": 768, "height": 1024}
BIG_SCREEN = {"width": 1920, "height": 1080}

# The full mark set of the seeded item (as tests/integration/test_live_flow.py::score_everything):
# ja enters the measurements T1 and P1; ja, jb and jc each judge P2.
ORDER = ["甲1", "甲2", "乙1", "乙2"]
T1 = dict(zip(ORDER, ["80", "90", "70", "60"], strict=False))
P1 = dict(zip(ORDER, ["50", "55", "40", "55"], strict=False))
P2 = {"ja": [30, 35, 20, 36], "jb": [32, 34, 22, 36], "jc": [31, 36, 21, 36]}


@pytest.fixture
def live(migrated) -> Live:
    """Seeded before the server and the browser start (Playwright runs its own event loop)."""
    return seed_live(migrated.database_url)


def in_thread(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine to completion off the test's thread: Playwright's loop owns this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def stored_marks(database_url: str, username: str, item_id: int) -> list[tuple[int, int, str, str | None]]:
    """(station, criterion id, value, client_id) of every mark the judge has stored on the item."""

    async def query() -> list[tuple[int, int, str, str | None]]:
        engine = make_engine(database_url)
        async with make_session_factory(engine)() as db:
            person_id = (await db.execute(select(User.person_id).where(User.username == username))).scalar_one()
            rows = await db.execute(
                select(Entry.station_no, Mark.criterion_id, Mark.value, Mark.client_id)
                .join(Entry, Entry.id == Mark.entry_id)
                .where(Mark.judge_person_id == person_id, Mark.item_id == item_id)
                .order_by(Entry.station_no, Mark.criterion_id)
            )
            result: list[tuple[int, int, str, str | None]] = [
                (station, criterion, format(value.normalize(), "f"), client_id)
                for station, criterion, value, client_id in rows.all()
                if station is not None  # marks are only ever given to drawn stations
            ]
        await engine.dispose()
        return result

    return in_thread(query)


def submissions(database_url: str, item_id: int) -> int:
    async def query() -> int:
        engine = make_engine(database_url)
        async with make_session_factory(engine)() as db:
            count = len((await db.execute(select(MarkSubmission.client_id).where(MarkSubmission.item_id == item_id))).all())
        await engine.dispose()
        return count

    return in_thread(query)


async def _status(database_url: str, item_id: int) -> str:
    from contest.db.models import Item

    engine = make_engine(database_url)
    async with make_session_factory(engine)() as db:
        status = (await db.execute(select(Item.status).where(Item.id == item_id))).scalar_one()
    await engine.dispose()
    return status


def shot(page, name: str) -> None:
    target = os.environ.get("CONTEST_SHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def new_tab(browser, base_url: str, viewport: dict, **options):
    context = browser.new_context(base_url=base_url, locale="zh-CN", viewport=viewport, **options)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    return context, tab


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def open_tablet(page, username: str) -> None:
    sign_in(page, username)
    page.wait_for_url("**/tablet")
    wait_connected(page)


def wait_connected(page) -> None:
    page.wait_for_selector("#conn[data-state=connected]")


def wait_pending(page, count: int) -> None:
    page.wait_for_function(f"() => document.getElementById('pending').textContent.trim() === '{count}'")


def criterion_row(page, live: Live, code: str):
    return page.locator(f"#criteria .criterion[data-criterion='{live.criteria[code]}']")


def enter_mark(page, live: Live, station: str, code: str, value: str):
    """Tap the station, type the value into the criterion's field, tap 提交; returns the row."""
    page.click(f".station[data-station='{live.stations[station]}']")
    page.wait_for_selector(f"#station-no:text-is('{live.stations[station]}')")
    row = criterion_row(page, live, code)
    row.locator("input.mark-input").fill(value)
    row.locator("button", has_text="提交").click()
    return row


def row_state(page, live: Live, station: str, code: str) -> str:
    page.click(f".station[data-station='{live.stations[station]}']")
    return criterion_row(page, live, code).locator(".mark-state").get_attribute("data-state")


def assert_touch_targets(page, viewport: dict) -> None:
    """Nothing needs sideways scrolling; every station button, field and submit button is at
    least 44 px high and lies within the screen's width."""
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    targets = (
        page.locator(".station").all()
        + page.locator("#criteria .criterion button").all()
        + page.locator("#criteria input.mark-input").all()
    )
    assert len(targets) >= 4 + 3 + 3
    for target in targets:
        box = target.bounding_box()
        assert box is not None and box["height"] >= 44, (target.evaluate("e => e.outerHTML"), box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (target.evaluate("e => e.outerHTML"), box)


def outbox(page, username: str) -> dict:
    return page.evaluate(f"JSON.parse(localStorage.getItem('contest.outbox.{username}') || '{{}}')")


SEND_MARKS = """async (marks) => {
  // The judges' protocol, straight from a signed-in page: one mark, one acknowledgement.
  const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/judge");
  await new Promise((ok, fail) => { socket.onopen = ok; socket.onerror = fail; });
  const replies = [];
  for (const mark of marks) {
    const reply = new Promise((ok) => { socket.onmessage = (event) => ok(JSON.parse(event.data)); });
    socket.send(JSON.stringify(Object.assign({ type: "mark", client_id: crypto.randomUUID() }, mark)));
    replies.push(await reply);
  }
  socket.close();
  return replies;
}"""


def send_marks(page, live: Live, marks: list[tuple[str, str, object]]) -> None:
    payload = [
        {"item_id": live.item_id, "station": live.stations[s], "criterion_id": live.criteria[c], "value": str(v)} for s, c, v in marks
    ]
    replies = page.evaluate(SEND_MARKS, payload)
    assert [(r["type"], r.get("status")) for r in replies] == [("ack", "stored")] * len(marks), replies


def board_item(board, live: Live):
    return board.locator(f"section.item[data-item='{live.item_id}']")


def test_marks_survive_a_network_cut_then_lock_and_reveal(live, live_server, browser, migrated) -> None:
    context, tablet = new_tab(browser, live_server, TABLET, has_touch=True)
    board_context, board = new_tab(browser, live_server, BIG_SCREEN)
    try:
        board.goto(f"/board/{live.competition_id}?items={live.item_id}")  # this item alone: no overview page
        item = board_item(board, live)
        item.locator(".progress").wait_for()
        assert item.locator(".progress-text").inner_text() == "已评 0 / 共 20 个评分"

        # Two entries scored online: both acknowledged.
        open_tablet(tablet, "ja")
        tablet.click(f".station[data-station='{live.stations['甲1']}']")
        assert_touch_targets(tablet, TABLET)
        shot(tablet, "tablet-1024-start")
        enter_mark(tablet, live, "甲1", "T1", T1["甲1"])
        enter_mark(tablet, live, "甲2", "T1", T1["甲2"])
        wait_pending(tablet, 0)
        tablet.wait_for_selector(f"#criteria .criterion[data-criterion='{live.criteria['T1']}'] .mark-state[data-state=saved]")
        assert row_state(tablet, live, "甲1", "T1") == "saved"
        assert row_state(tablet, live, "甲2", "T1") == "saved"

        # A reload while online: the page rebuilds what is stored from the server's welcome.
        tablet.reload()
        wait_connected(tablet)
        assert row_state(tablet, live, "甲1", "T1") == "saved"
        assert criterion_row(tablet, live, "T1").locator("input.mark-input").input_value() == T1["甲1"]
        shot(tablet, "tablet-1024-saved")

        # The hall's Wi-Fi drops: the third mark waits in the outbox, on screen as pending.
        context.set_offline(True)
        tablet.wait_for_selector("#conn[data-state=offline]")
        row = enter_mark(tablet, live, "乙1", "T1", T1["乙1"])
        wait_pending(tablet, 1)
        assert row.locator(".mark-state").get_attribute("data-state") == "pending"
        assert tablet.locator(f".station[data-station='{live.stations['乙1']}']").get_attribute("class").split().count("pending") == 1
        assert [m["value"] for m in outbox(tablet, "ja").values()] == [T1["乙1"]]
        shot(tablet, "tablet-1024-offline")
        # A reload while offline is test_the_tablet_reloads_and_scores_while_offline.

        # The network returns: the tablet reconnects by itself and resends; nothing is stored twice.
        context.set_offline(False)
        wait_connected(tablet)
        wait_pending(tablet, 0)
        assert row_state(tablet, live, "乙1", "T1") == "saved"
        assert outbox(tablet, "ja") == {}
        marks = stored_marks(migrated.database_url, "ja", live.item_id)
        assert [(station, criterion, value) for station, criterion, value, _ in marks] == sorted(
            (live.stations[s], live.criteria["T1"], T1[s]) for s in ("甲1", "甲2", "乙1")
        )
        assert len({client_id for *_, client_id in marks}) == 3
        assert submissions(migrated.database_url, live.item_id) == 3

        # The big screen shows them (pushed, no reload).
        board.wait_for_function(
            f"() => document.querySelector(\"section.item[data-item='{live.item_id}'] .progress\").dataset.stored === '3'"
        )
        assert item.locator("tr[data-station]").count() == 4  # provisional ranking by 工位号
        assert item.locator(".name").count() == 0
        shot(board, "board-1920-progress")

        # The rest of the marks, over the same protocol: ja from the tablet's page, jb and jc too.
        send_marks(
            tablet,
            live,
            [("乙2", "T1", T1["乙2"])] + [(s, "P1", P1[s]) for s in ORDER] + [(s, "P2", P2["ja"][i]) for i, s in enumerate(ORDER)],
        )
        for judge in ("jb", "jc"):
            other_context, other = new_tab(browser, live_server, TABLET)
            try:
                open_tablet(other, judge)
                send_marks(other, live, [(s, "P2", P2[judge][i]) for i, s in enumerate(ORDER)])
            finally:
                other_context.close()
        board.wait_for_function(
            f"() => document.querySelector(\"section.item[data-item='{live.item_id}'] .progress\").dataset.stored === '20'"
        )
        tablet.reload()
        wait_connected(tablet)
        # the tiles fill from the welcome, which may come after the socket opens: wait for it
        tablet.wait_for_function("() => document.querySelectorAll('.station.done').length === 4")
        assert tablet.locator(".station").count() == 4

        # The chief judge locks (signing) and reveals in the console.
        chief_context, console = new_tab(browser, live_server, TABLET)
        try:
            sign_in(console, "cj")
            console.wait_for_url(lambda url: "/login" not in url)
            console.goto(f"/chief/items/{live.item_id}")
            console.wait_for_selector("#readiness[data-lockable=true]")
            assert "可以锁定" in console.locator("#readiness").inner_text()
            assert "cj" in console.locator("#lock-form .signer").inner_text()  # the signed-in account signs
            # The page asks first, in its own dialog; declining posts nothing.
            console.click("#lock-button")
            dialog = console.locator("#confirm-dialog")
            dialog.wait_for(state="visible")
            asked = console.locator("#confirm-message").inner_text()
            assert "cj" in asked and "焊工" in asked
            console.click("#confirm-cancel")
            dialog.wait_for(state="hidden")
            assert console.locator("#item-status").inner_text() == "评分中"
            assert in_thread(lambda: _status(migrated.database_url, live.item_id)) == "scoring"
            console.click("#lock-button")
            dialog.wait_for(state="visible")
            with console.expect_navigation():
                console.click("#confirm-ok")
            assert console.locator("#item-status").inner_text() == "已锁定"
            assert console.locator("#signature").inner_text().startswith("裁判长签名: cj · ")
            board.wait_for_function(
                f"() => document.querySelector(\"section.item[data-item='{live.item_id}'] .status\").textContent === '已锁定'"
            )
            assert item.locator(".name").count() == 0  # locked is still blind
            console.click("form[action$='/reveal'] button.primary")
            dialog.wait_for(state="visible")
            assert "解密后" in console.locator("#confirm-message").inner_text()
            with console.expect_navigation():
                console.click("#confirm-ok")
            assert "选手甲2" in console.content()
        finally:
            chief_context.close()

        # The board reveals the names, in ranking order.
        board.wait_for_function(f"() => document.querySelectorAll(\"section.item[data-item='{live.item_id}'] td.name\").length === 4")
        names = item.locator("td.name").all_inner_texts()
        assert names == ["选手甲2", "选手乙2", "选手甲1", "选手乙1"]
        assert item.locator("td.total").all_inner_texts() == ["90.00", "84.80", "80.80", "62.80"]
        shot(board, "board-1920-revealed")

        # A locked item: the tablet still on the judge's screen learns it on its next mark.
        tablet.reload()
        wait_connected(tablet)
        enter_mark(tablet, live, "甲1", "P1", "10")
        tablet.wait_for_selector(f"#criteria .criterion[data-criterion='{live.criteria['P1']}'] .error")
        wait_pending(tablet, 0)
        assert re.search("锁定|不接受评分", criterion_row(tablet, live, "P1").locator(".error").inner_text())

        # Reopening asks first too, in the page's dialog: declining posts nothing; confirming reopens.
        chief_context, console = new_tab(browser, live_server, TABLET)
        try:
            sign_in(console, "cj")
            console.wait_for_url(lambda url: "/login" not in url)
            console.goto(f"/chief/items/{live.item_id}")
            console.fill("form[action$='/reopen'] input[name=reason]", "复核发现录入错误")
            console.click("form[action$='/reopen'] button.danger")
            dialog = console.locator("#confirm-dialog")
            dialog.wait_for(state="visible")
            assert "重新开放后" in console.locator("#confirm-message").inner_text()
            assert console.locator("#confirm-ok").inner_text() == "重新开放评分"
            assert "danger" in (console.locator("#confirm-ok").get_attribute("class") or "")
            console.click("#confirm-cancel")
            dialog.wait_for(state="hidden")
            assert in_thread(lambda: _status(migrated.database_url, live.item_id)) == "revealed"
            assert console.locator("#item-status").inner_text() == "已解密"
            console.click("form[action$='/reopen'] button.danger")
            dialog.wait_for(state="visible")
            with console.expect_navigation():
                console.click("#confirm-ok")
            assert console.locator("#item-status").inner_text() == "评分中"
            assert in_thread(lambda: _status(migrated.database_url, live.item_id)) == "scoring"
        finally:
            chief_context.close()
    finally:
        board_context.close()
        context.close()


def wait_offline_ready(page) -> None:
    """The service worker controls the page and has kept the tablet page (done once per tablet)."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    page.wait_for_function(
        "() => caches.keys().then(async (names) => { for (const n of names) if (await (await caches.open(n)).match('/tablet')) return true; return false; })",  # noqa: E501 - one literal, clearer whole
        timeout=15_000,
    )


def test_the_tablet_reloads_and_scores_while_offline(live, live_server, browser, migrated) -> None:
    context, tablet = new_tab(browser, live_server, TABLET)
    try:
        open_tablet(tablet, "ja")
        wait_offline_ready(tablet)
        context.set_offline(True)
        tablet.wait_for_selector("#conn[data-state=offline]")
        enter_mark(tablet, live, "乙2", "P1", "45.5")
        wait_pending(tablet, 1)

        # The judge reloads with no network: the page comes from the tablet itself, with its outbox.
        tablet.reload()
        tablet.wait_for_selector("#conn[data-state=offline]")
        wait_pending(tablet, 1)
        assert row_state(tablet, live, "乙2", "P1") == "pending"
        shot(tablet, "tablet-1024-offline-reloaded")
        # ... and goes on scoring
        enter_mark(tablet, live, "乙1", "P1", "30")
        wait_pending(tablet, 2)
        tablet.reload()  # twice, for good measure
        wait_pending(tablet, 2)
        assert len(outbox(tablet, "ja")) == 2

        # The network returns: both go out, once each.
        context.set_offline(False)
        wait_connected(tablet)
        wait_pending(tablet, 0)
        assert row_state(tablet, live, "乙2", "P1") == "saved"
        assert sorted((s, c, v) for s, c, v, _ in stored_marks(migrated.database_url, "ja", live.item_id)) == sorted(
            [(live.stations["乙2"], live.criteria["P1"], "45.5"), (live.stations["乙1"], live.criteria["P1"], "30")]
        )
        assert submissions(migrated.database_url, live.item_id) == 2
    finally:
        context.close()


def test_the_tablet_is_usable_in_portrait(live, live_server, browser, migrated) -> None:
    context, tablet = new_tab(browser, live_server, PORTRAIT, has_touch=True, is_mobile=True)
    try:
        open_tablet(tablet, "ja")
        tablet.click(f".station[data-station='{live.stations['甲1']}']")
        shot(tablet, "tablet-768-start")

        assert_touch_targets(tablet, PORTRAIT)

        # A value the criterion cannot take is refused in the page, in Chinese, and never sent.
        row = enter_mark(tablet, live, "甲1", "T1", "999")
        error = row.locator(".error")
        assert "分值超出范围" in error.inner_text() and "0-100" in error.inner_text()
        assert row.locator("input.mark-input").input_value() == "999"  # kept, for the judge to fix
        assert row.locator(".mark-state").get_attribute("data-state") == "draft"  # typed, not submitted
        assert "1 未提交" in tablet.locator(f".station[data-station='{live.stations['甲1']}']").inner_text()
        assert tablet.locator("#pending").inner_text() == "0"
        assert outbox(tablet, "ja") == {}
        shot(tablet, "tablet-768-refused")

        row = enter_mark(tablet, live, "甲1", "T1", "80.3")  # off the 0.5 step
        assert "步长" in row.locator(".error").inner_text()
        assert tablet.locator("#pending").inner_text() == "0"

        row = enter_mark(tablet, live, "甲1", "T1", "80.5")
        wait_pending(tablet, 0)
        tablet.wait_for_selector(f"#criteria .criterion[data-criterion='{live.criteria['T1']}'] .mark-state[data-state=saved]")
        assert row.locator(".error").count() == 0
        marks = stored_marks(migrated.database_url, "ja", live.item_id)
        assert [(station, criterion, value) for station, criterion, value, _ in marks] == [
            (live.stations["甲1"], live.criteria["T1"], "80.5")
        ]
        shot(tablet, "tablet-768-saved")
    finally:
        context.close()


def test_an_expired_sign_in_is_offered_a_new_one_and_keeps_the_outbox(live, live_server, browser, migrated) -> None:
    from contest.db.models import UserSession

    context, page = new_tab(browser, live_server, TABLET)
    open_tablet(page, "ja")
    assert page.locator("#signin").is_hidden()

    async def expire_sessions() -> None:
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            await db.execute(delete(UserSession))
            await db.commit()
        await engine.dispose()

    in_thread(expire_sessions)
    context.set_offline(True)  # the socket drops; reconnecting now needs the (gone) session
    enter_mark(page, live, "乙1", "T1", "66")
    wait_pending(page, 1)
    context.set_offline(False)
    page.wait_for_selector("#signin:not([hidden])", timeout=20_000)
    assert "重新登录" in page.locator("#signin").inner_text()
    page.locator("#signin a").click()
    page.fill("input[name=username]", "ja")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/tablet")
    wait_pending(page, 0)
    assert [value for _, _, value, _ in stored_marks(migrated.database_url, "ja", live.item_id)] == ["66"]
    context.close()
