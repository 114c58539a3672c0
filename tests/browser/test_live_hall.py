"""A real hall in Chromium: drafts that are never left unsent, cells taken by another judge, tabs, the
chief judge's view of every tablet and of every judge's drift, and back-off that stays linear.

Set CONTEST_SHOTS=/some/dir to keep screenshots.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Item, JudgeAssignment, User
from contest.live import actions
from tests.browser.test_live_flow import (
    TABLET,
    criterion_row,
    enter_mark,
    in_thread,
    new_tab,
    open_tablet,
    outbox,
    row_state,
    send_marks,
    shot,
    sign_in,
    stored_marks,
    wait_connected,
    wait_pending,
)
from tests.integration.live_seed import Live, seed_live
from tests.integration.seed import ACTOR

pytestmark = pytest.mark.browser

WIDE = {"width": 1400, "height": 1000}


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


def station_tile(page, live: Live, station: str):
    return page.locator(f".station[data-station='{live.stations[station]}']")


# ------------------------------------------------------------------ drafts


def test_a_typed_mark_is_never_left_unsent(live, live_server, browser, migrated) -> None:
    context, tablet = new_tab(browser, live_server, TABLET, has_touch=True)
    try:
        open_tablet(tablet, "ja")
        # Typed, then the judge taps the next station without pressing 提交: it is submitted on leaving.
        tablet.click(f".station[data-station='{live.stations['甲1']}']")
        criterion_row(tablet, live, "T1").locator("input.mark-input").fill("80")
        tablet.click(f".station[data-station='{live.stations['甲2']}']")
        wait_pending(tablet, 0)
        assert row_state(tablet, live, "甲1", "T1") == "saved"
        assert [(s, c, v) for s, c, v, _ in stored_marks(migrated.database_url, "ja", live.item_id)] == [
            (live.stations["甲1"], live.criteria["T1"], "80")
        ]

        # A value the page refuses stays a draft, and leaving it shows on the station and the item.
        tablet.click(f".station[data-station='{live.stations['甲2']}']")
        criterion_row(tablet, live, "P1").locator("input.mark-input").fill("75")  # P1 is out of 60
        tablet.click(f".station[data-station='{live.stations['乙1']}']")
        tablet.wait_for_function(
            f"() => document.querySelector(\".station[data-station='{live.stations['甲2']}'] .flag\").textContent === '1 未提交'"
        )
        assert "1 未提交" in tablet.locator(".tab.active").inner_text()
        assert tablet.locator("#drafts").inner_text() == "1" and tablet.locator("#drafts-box").is_visible()

        # A typed value survives a reload before it is submitted.
        tablet.click(f".station[data-station='{live.stations['乙1']}']")
        criterion_row(tablet, live, "T1").locator("input.mark-input").press_sequentially("6")  # still in the field
        tablet.reload()
        wait_connected(tablet)
        assert station_tile(tablet, live, "乙1").locator(".flag").inner_text() == "1 未提交"
        assert station_tile(tablet, live, "甲2").locator(".flag").inner_text() == "1 未提交"
        tablet.click(f".station[data-station='{live.stations['乙1']}']")
        assert criterion_row(tablet, live, "T1").locator("input.mark-input").input_value() == "6"
        assert criterion_row(tablet, live, "T1").locator(".mark-state").get_attribute("data-state") == "draft"
        shot(tablet, "tablet-1024-drafts")

        # 提交本工位 sends the station's drafts at once.
        tablet.click("#submit-station")
        wait_pending(tablet, 0)
        assert row_state(tablet, live, "乙1", "T1") == "saved"
        tablet.click(f".station[data-station='{live.stations['甲2']}']")
        criterion_row(tablet, live, "P1").locator("input.mark-input").fill("55")
        criterion_row(tablet, live, "P1").locator("input.mark-input").press("Enter")
        wait_pending(tablet, 0)
        assert tablet.locator("#drafts-box").is_hidden()
        assert sorted(v for _, _, v, _ in stored_marks(migrated.database_url, "ja", live.item_id)) == ["55", "6", "80"]
    finally:
        context.close()


# ------------------------------------------------------------------ taken cells, tabs


def test_a_cell_another_judge_filled_shows_as_taken(live, live_server, browser, migrated) -> None:
    first_context, first = new_tab(browser, live_server, TABLET)
    second_context, second = new_tab(browser, live_server, TABLET)
    try:
        open_tablet(first, "ja")
        open_tablet(second, "jb")
        second.click(f".station[data-station='{live.stations['乙1']}']")
        assert criterion_row(second, live, "T1").locator(".mark-state").get_attribute("data-state") == "missing"
        enter_mark(first, live, "乙1", "T1", "70")
        wait_pending(first, 0)
        # pushed to the other tablet: filled, without who or what
        second.wait_for_selector(f"#criteria .criterion[data-criterion='{live.criteria['T1']}'] .mark-state[data-state=taken]")
        row = criterion_row(second, live, "T1")
        assert "已由其他裁判录入" in row.inner_text() and "70" not in row.inner_text()
        assert row.locator("input").count() == 0
        assert station_tile(second, live, "乙1").locator(".flag").inner_text() == "1/3"
        shot(second, "tablet-1024-taken")
        second.reload()  # and from the welcome after a reload
        wait_connected(second)
        assert row_state(second, live, "乙1", "T1") == "taken"
    finally:
        first_context.close()
        second_context.close()


def test_tabs_name_the_competition_and_the_tablet_opens_on_an_open_item(live, live_server, browser, migrated) -> None:
    """jo judges both items; item 1 (first by id) is locked, item 2 open: the tablet opens on item 2."""

    async def arrange() -> None:
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            person = (await db.execute(select(User.person_id).where(User.username == "jo"))).scalar_one()
            db.add(JudgeAssignment(item_id=live.item_id, person_id=person, role="judge", seat=9))
            await db.execute(update(Item).where(Item.id == live.item_id).values(status="locked"))
            await db.commit()
            await actions.open_scoring(db, ACTOR, live.other_item_id)
        await engine.dispose()

    in_thread(arrange)
    context, tablet = new_tab(browser, live_server, TABLET)
    try:
        open_tablet(tablet, "jo")
        tabs = tablet.locator(".tab")
        assert [t.locator(".tab-item").inner_text() for t in tabs.all()] == ["电工", "焊工"]
        assert all(t.locator(".tab-competition").inner_text() == "2026年直播测试大赛" for t in tabs.all())
        assert tablet.locator(".tab.active .tab-item").inner_text() == "电工"
        assert "closed" in tablet.locator(".tab", has_text="焊工").get_attribute("class").split()
        assert tablet.locator("#item-title").inner_text() == "2026年直播测试大赛 · 电工"
        assert tablet.locator("#item-status").is_hidden()
    finally:
        context.close()


# ------------------------------------------------------------------ the chief judge sees the hall


def test_the_console_sees_every_tablet_and_every_judges_drift(live, live_server, browser, migrated) -> None:
    """Two tablets: ja's is fine; jb's marks do not get through (held in the network), then it is cut
    off: the console shows it offline with 2 unsent marks, a warning, and ja still online. When it
    comes back its marks go out and the warning goes. Judges' drift shows as marks come in."""
    console_context, console = new_tab(browser, live_server, WIDE)
    good_context, good = new_tab(browser, live_server, TABLET)
    cut_context, cut = new_tab(browser, live_server, TABLET)
    held: list[dict] = []
    state = {"hold": True, "cut": False}
    routes: list = []

    def route(ws) -> None:
        """Between jb's tablet and the server: marks are held back while "hold"; "cut" ends it all."""
        if state["cut"]:
            ws.close(code=4000, reason="cut")
            return
        server = ws.connect_to_server()
        routes.append((ws, server))

        def from_page(message: str) -> None:
            if state["hold"] and json.loads(message).get("type") == "mark":
                held.append(json.loads(message))
            else:
                server.send(message)

        ws.on_message(from_page)
        server.on_message(lambda message: ws.send(message))

    try:
        sign_in(console, "cj")
        console.wait_for_url(lambda url: "/login" not in url)
        console.goto(f"/chief/items/{live.item_id}")
        open_tablet(good, "ja")
        cut.route_web_socket("**/ws/judge", route)
        open_tablet(cut, "jb")

        def device(seat: int):
            return console.locator(f"#devices tr[data-seat='{seat}']")

        console.wait_for_selector("#devices tr[data-seat='1'][data-state=online]", timeout=20_000)
        console.wait_for_selector("#devices tr[data-seat='2'][data-state=online]", timeout=20_000)
        assert device(3).get_attribute("data-state") == "never"

        # jb scores two entries; the marks never reach the server
        enter_mark(cut, live, "甲1", "T1", "66")
        enter_mark(cut, live, "甲2", "T1", "77")
        wait_pending(cut, 2)
        assert len(held) == 2
        console.wait_for_function(
            "() => document.querySelector(\"#devices tr[data-seat='2'] td.pending\").textContent.trim().startsWith('2')", timeout=20_000
        )

        # jb's tablet is cut off: its socket ends, and it cannot reconnect
        state["cut"] = True
        for ws, server in routes:
            server.close()
            ws.close(code=4000, reason="cut")
        console.wait_for_selector("#devices tr[data-seat='2'][data-state=offline]", timeout=20_000)
        assert "有 2 条分数未发送,平板未连接" in device(2).inner_text()
        assert device(1).get_attribute("data-state") == "online" and "device-warning" not in (device(1).get_attribute("class") or "")
        # why the lock waits names it too
        assert "席位 2 的平板有未发送的分数" in console.locator("#readiness").inner_text()
        shot(console, "console-1400-tablet-cut-off")

        # back: the marks go out, once each, and the warning goes
        state["cut"], state["hold"] = False, False
        cut.wait_for_selector("#conn[data-state=connected]", timeout=30_000)  # its next attempt, with back-off
        wait_pending(cut, 0)
        console.wait_for_function(
            "() => (() => { const r = document.querySelector(\"#devices tr[data-seat='2']\"); return r.dataset.state === 'online' && r.querySelector('td.pending').textContent.trim() === '0'; })()",  # noqa: E501 - one literal, clearer whole
            timeout=20_000,
        )
        assert "device-warning" not in (device(2).get_attribute("class") or "")
        assert sorted(v for _, _, v, _ in stored_marks(migrated.database_url, "jb", live.item_id)) == ["66", "77"]

        # judge agreement, live: ja marks P2 well above jb on three entries
        assert console.locator("#agreement .drift").count() == 0
        send_marks(good, live, [(s, "P2", 38) for s in ("甲1", "甲2", "乙1")])
        send_marks(cut, live, [(s, "P2", 20) for s in ("甲1", "甲2", "乙1")])
        console.wait_for_selector("#agreement tr[data-seat='1'] .drift", timeout=20_000)
        assert console.locator("#agreement tr[data-seat='1'] .drift").inner_text() == "偏高"
        assert console.locator("#agreement tr[data-seat='2'] .drift").inner_text() == "偏低"
        assert console.locator("#agreement tr[data-seat='1'] .deviation").inner_text() == "+1.35"  # 18 x 3/40
        shot(console, "console-1400-agreement")
    finally:
        for context in (console_context, good_context, cut_context):
            context.close()


# ------------------------------------------------------------------ back-off

WELCOME = {"type": "welcome", "items": [], "marks": [], "taken": []}


STEP = 250  # ms of simulated time per step
T0 = datetime(2026, 11, 21, 9, 0, 0)
# The fake clock is installed a little before T0 and paused at T0: it runs between the two calls, and
# pause_at refuses a time already past (seen on a loaded machine when installed at T0 itself).
CLOCK_LEAD = timedelta(minutes=1)


def run_clock(page, steps: int, clock: dict) -> None:
    """Advance the page's fake clock a step at a time, letting the routed sockets answer in between."""
    for _ in range(steps):
        clock["step"] += 1
        page.clock.run_for(STEP)
        page.wait_for_timeout(10)


def test_server_errors_are_resent_in_rounds_that_stay_linear(live, live_server, browser, migrated) -> None:
    """A database outage: every mark gets server_error. Five pending marks over two simulated minutes
    are resent once per round of the tablet's one timer, the rounds further and further apart: the
    sends grow linearly (and slowly), never by the reply (5, 25, 125 ... as before)."""
    context, tablet = new_tab(browser, live_server, TABLET)
    clock = {"step": 0}
    sends: list[tuple[int, str]] = []  # (step, client_id)
    outage = {"on": True}

    def server(ws) -> None:
        def reply(text: str) -> None:
            message = json.loads(text)
            if message["type"] == "hello":
                ws.send(json.dumps({**WELCOME, "items": [live.item_id]}))
            elif message["type"] == "ping":
                ws.send('{"type": "pong"}')
            elif message["type"] == "mark":
                sends.append((clock["step"], message["client_id"]))
                if outage["on"]:
                    ws.send(
                        json.dumps(
                            {
                                "type": "error",
                                "code": "server_error",
                                "message": "服务器暂时无法保存,标记将自动重发",
                                "client_id": message["client_id"],
                            }
                        )
                    )
                else:
                    fields = {k: message[k] for k in ("client_id", "item_id", "station", "criterion_id", "value")}
                    ws.send(json.dumps({"type": "ack", "status": "stored", "seq": 1, **fields}))

        ws.on_message(reply)

    try:
        sign_in(tablet, "ja")
        tablet.wait_for_url("**/tablet")
        tablet.clock.install(time=T0 - CLOCK_LEAD)
        tablet.clock.pause_at(T0)  # from here on, time moves only when run_clock moves it
        tablet.route_web_socket("**/ws/judge", server)
        tablet.goto("/tablet")
        wait_connected(tablet)
        for station in ("甲1", "甲2", "乙1", "乙2"):
            enter_mark(tablet, live, station, "T1", "50")
        enter_mark(tablet, live, "甲1", "P1", "30")
        wait_pending(tablet, 5)
        assert len(sends) == 5 and {step for step, _ in sends} == {0}
        run_clock(tablet, 4 * 120, clock)  # two minutes

        rounds = sorted({step for step, _ in sends})
        per_round = [sum(1 for step, _ in sends if step == r) for r in rounds]
        assert per_round == [5] * len(rounds), per_round  # each round: every pending mark once
        gaps = [(b - a) * STEP for a, b in itertools.pairwise(rounds)]
        # rounds at least 0.5, 1, 2, 4, 7.5, 7.5 ... s apart: at most 1 + 4 + 14 rounds within 120 s
        assert all(gap >= 500 for gap in gaps), gaps
        assert 5 <= len(rounds) <= 19, gaps
        assert max(gaps) >= 7_500 and max(gaps) <= 15_000, gaps
        wait_pending(tablet, 5)
        assert len(outbox(tablet, "ja")) == 5

        # the database is back: the next round stores them all
        outage["on"] = False
        run_clock(tablet, 4 * 16, clock)
        wait_pending(tablet, 0)
    finally:
        context.close()


def test_boards_reconnect_with_backoff(live, live_server, browser) -> None:
    context, board = new_tab(browser, live_server, TABLET)
    clock = {"step": 0}
    attempts: list[int] = []  # steps

    def refuse(ws) -> None:
        attempts.append(clock["step"])
        ws.close(code=1011, reason="restarting")

    try:
        board.clock.install(time=T0 - CLOCK_LEAD)
        board.clock.pause_at(T0)
        board.route_web_socket(re.compile(r".*/ws/board/\d+$"), refuse)
        board.goto(f"/board/{live.competition_id}")
        board.wait_for_function("() => document.getElementById('conn').dataset.state === 'offline'")
        run_clock(board, 4 * 120, clock)
        gaps = [(b - a) * STEP for a, b in itertools.pairwise(attempts)]
        # 0.5+, 1+, 2+, 4+, 8+, then 15+ s apart: at most 13 attempts in two minutes (a fixed 2 s made 60)
        assert 5 <= len(attempts) <= 13, gaps
        assert all(gap >= 500 for gap in gaps) and max(gaps) >= 15_000, gaps
    finally:
        context.close()


def test_the_console_backs_off_until_the_server_answers(live, live_server, browser) -> None:
    """A console socket that opens and is closed before the server says "watching" (a server that
    cannot answer) is retried with back-off; one the server admitted starts over from 1 s."""
    context, console = new_tab(browser, live_server, TABLET)
    clock = {"step": 0}
    attempts: list[int] = []  # steps
    mode = {"answer": False}

    def socket(ws) -> None:
        attempts.append(clock["step"])
        if mode["answer"]:
            ws.send(json.dumps({"type": "watching", "item_id": live.item_id}))
        ws.close(code=1011, reason="restarting")

    try:
        sign_in(console, "cj")
        console.wait_for_url(lambda url: "/login" not in url)
        console.clock.install(time=T0 - CLOCK_LEAD)
        console.clock.pause_at(T0)
        console.route_web_socket(re.compile(r".*/ws/console/\d+$"), socket)
        console.goto(f"/chief/items/{live.item_id}")
        run_clock(console, 4 * 120, clock)
        gaps = [(b - a) * STEP for a, b in itertools.pairwise(attempts)]
        # opened, never answered: 0.5+, 1+, 2+, 4+ ... up to 15+ s apart (reset on open made ~160 attempts)
        assert 4 <= len(attempts) <= 14, gaps
        assert max(gaps) >= 15_000, gaps

        mode["answer"] = True
        run_clock(console, 4 * 40, clock)  # the next attempt is answered, and so is every one after it
        answered = [(b - a) * STEP for a, b in itertools.pairwise(attempts[-6:])]
        assert len(answered) == 5 and all(gap <= 1_000 for gap in answered), answered  # always the first delay
    finally:
        context.close()


def test_an_account_that_is_no_judge_is_told_once_and_not_retried(live, live_server, browser, role_users) -> None:
    """judge1 has the judge role but no linked person: after its hello the server says not_a_judge
    and closes with 4403; the tablet shows why and stops (no reconnect loop)."""
    context, tablet = new_tab(browser, live_server, TABLET)
    sockets: list[str] = []
    try:
        tablet.on("websocket", lambda ws: sockets.append(ws.url))
        tablet.clock.install(time=T0 - CLOCK_LEAD)
        tablet.clock.pause_at(T0)
        sign_in(tablet, role_users["judge"])
        tablet.wait_for_url("**/tablet")
        tablet.wait_for_selector("#conn[data-state=refused]")
        assert "没有关联裁判人员信息" in tablet.locator("#last-error").inner_text()
        assert tablet.locator("#conn").inner_text() == "已停止连接"
        tablet.clock.run_for(120_000)  # two minutes: any retry timer would have fired
        tablet.wait_for_timeout(200)
        assert len(sockets) == 1 and tablet.locator("#conn").get_attribute("data-state") == "refused"
    finally:
        context.close()
