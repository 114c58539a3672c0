"""The chief judge's console: why the lock is disabled, the panel's tablets, judge agreement; and the
tablet's offline shell (the service worker) and page data."""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contest.db.engine import make_engine, make_session_factory
from contest.db.models import DeviceStatus, Person, User, utcnow
from contest.events import service as events
from contest.live import offline
from contest.settings import REPO_ROOT
from tests.integration.live_seed import Live, seed_live
from tests.integration.seed import ACTOR
from tests.integration.test_live_protocol import mark, send


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page)))


def eventually(check: Callable[[], object], seconds: float = 10.0) -> object:
    """Poll until check() is truthy (the device registry writes every 2 s)."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def device_row(client, live: Live, seat: int) -> str:
    page = client.get(f"/chief/items/{live.item_id}/devices").text
    match = re.search(rf'<tr data-seat="{seat}"[^>]*>.*?</tr>', page, re.S)
    assert match, page
    return match.group(0)


def wait_row(client, live: Live, seat: int, needle: str) -> str:
    """The seat's device row, once it contains needle."""
    found: list[str] = []

    def check() -> bool:
        found[:] = [device_row(client, live, seat)]
        return needle in found[0]

    eventually(check)
    return found[0]


async def _db(url: str, work):
    engine = make_engine(url)
    async with make_session_factory(engine)() as db:
        result = await work(db)
        await db.commit()
    await engine.dispose()
    return result


# ------------------------------------------------------------------ device health


def test_a_tablet_with_unsent_marks_that_drops_off_is_a_warning(judge_client, live, migrated) -> None:
    chief = judge_client("cj")
    tablet = judge_client("ja")
    assert 'data-state="never"' in device_row(chief, live, 1)  # never connected
    with tablet.websocket_connect("/ws/judge") as socket:
        send(socket, {"type": "hello", "device": "tablet-ja", "app": offline.tablet_version(), "pending": 0, "oldest_pending_age": 0})
        row = wait_row(chief, live, 1, 'data-state="online"')
        assert "tablet-ja" in row and "在线" in row and "device-warning" not in row and "旧版本" not in row
        assert send(socket, {"type": "ping", "pending": 2, "oldest_pending_age": 40}) == {"type": "pong"}
        row = wait_row(chief, live, 1, '<td class="pending">2')
        assert "device-warning" not in row  # online, and the oldest unsent mark is only 40 s old
        send(socket, {"type": "ping", "pending": 2, "oldest_pending_age": 90})
        row = wait_row(chief, live, 1, "device-warning")
        assert "有 2 条分数超过" in text_of(row)
    # the socket closes with two marks unsent: offline, with a warning
    row = wait_row(chief, live, 1, 'data-state="offline"')
    assert "有 2 条分数未发送,平板未连接" in text_of(row)
    chief.cookies.set("lang", "en")  # the chief judge reading in English
    assert "2 mark(s) not sent; the tablet is not connected" in text_of(device_row(chief, live, 1))
    chief.cookies.set("lang", "zh")


def test_a_tablet_gone_silent_and_an_old_version_are_shown(judge_client, live, migrated) -> None:
    chief = judge_client("cj")
    tablet = judge_client("jb")
    with tablet.websocket_connect("/ws/judge") as socket:
        send(socket, {"type": "hello", "device": "tablet-jb", "app": "0.0.1+old", "pending": 1, "oldest_pending_age": 5})
        row = wait_row(chief, live, 2, "tablet-jb")
        assert "旧版本" in row

        # Its process stops writing (killed, say): the row still says connected, but last contact
        # ages beyond device_silent_seconds.
        async def age(db):
            await db.execute(update(DeviceStatus).values(last_seen_at=utcnow() - timedelta(seconds=migrated.device_silent_seconds + 5)))

        asyncio.run(_db(migrated.database_url, age))
        row = device_row(chief, live, 2)
        assert 'data-state="silent"' in row and "有 1 条分数未发送,平板已失去联系" in text_of(row)


def test_a_late_close_of_an_old_socket_does_not_unplug_the_new_one(judge_client, live, migrated) -> None:
    chief = judge_client("cj")
    tablet = judge_client("jc")
    old = tablet.websocket_connect("/ws/judge").__enter__()
    send(old, {"type": "hello", "device": "tablet-jc"})
    eventually(lambda: 'data-state="online"' in device_row(chief, live, 3))
    rows_before = asyncio.run(_db(migrated.database_url, lambda db: _rows(db)))
    with tablet.websocket_connect("/ws/judge") as new:
        send(new, {"type": "hello", "device": "tablet-jc", "pending": 0})
        eventually(lambda: asyncio.run(_db(migrated.database_url, lambda db: _rows(db)))[0][1] != rows_before[0][1])
        old.__exit__(None, None, None)  # the old socket's process notices only now
        registry = tablet.app.state.hub.devices
        eventually(lambda: len(registry.connections) == 1 and not registry.dirty)  # its close has been written
        assert 'data-state="online"' in device_row(chief, live, 3)
    assert len(asyncio.run(_db(migrated.database_url, lambda db: _rows(db)))) == 1  # one row per account and device


async def _rows(db):
    return (await db.execute(select(DeviceStatus.device, DeviceStatus.connection_id, DeviceStatus.connected))).all()


# ------------------------------------------------------------------ why the lock is disabled


def test_the_console_says_why_the_item_cannot_be_locked(judge_client, live, migrated) -> None:
    async def recuse_jc(db):
        judge = (await db.execute(select(Person).join(User, User.person_id == Person.id).where(User.username == "jc"))).scalar_one()
        competitor = (await db.execute(select(Person).where(Person.name == "选手甲1"))).scalar_one()
        await events.declare_conflict(db, ACTOR, judge, competitor, "亲属关系")

    asyncio.run(_db(migrated.database_url, recuse_jc))
    chief = judge_client("cj")
    with judge_client("ja").websocket_connect("/ws/judge") as socket:
        send(socket, {"type": "hello", "device": "tablet-ja"})
        assert send(socket, mark(live, "甲1", "P2", "30"))["status"] == "stored"
        eventually(lambda: 'data-state="online"' in device_row(chief, live, 1))
        page = text_of(chief.get(f"/chief/items/{live.item_id}/matrix").text)
        chief.cookies.set("lang", "en")
        english = chief.get(f"/chief/items/{live.item_id}/matrix").text
        chief.cookies.set("lang", "zh")
    s = live.stations
    assert "暂不能锁定" in page and "缺少分数: 19 个" in page
    # 甲1's P2: ja scored, jc and jx are recused: only jb is left for the two marks still needed
    assert (
        f"工位 {s['甲1']} · P2:还差 2 个分数,可评分的裁判不足;席位 3、4 需回避;席位 2 尚未评分;请授予回避豁免,或由裁判长作为评委录入"
        in page
    )
    # 乙1's T1: any of the four may enter it; ja's tablet is connected, the others' are not
    assert f"工位 {s['乙1']} · T1:还差 1 个分数,等待席位 1、2、3、4 之一录入(席位 2、3、4 的平板未连接)" in page
    assert 'data-lockable="false"' in chief.get(f"/chief/items/{live.item_id}/matrix").text
    # The same lines in English, the reader's language (cookie lang=en): no Chinese left in them
    from tests.unit.test_i18n_python_messages import CJK

    readiness = english[english.index('id="readiness"') : english.index('id="agreement"')]
    lines = [text_of(line) for line in re.findall(r"<li[^>]*>(.*?)</li>", readiness, re.S)]
    assert "Cannot be locked yet" in text_of(readiness) and "Missing marks: 19" in text_of(readiness)
    assert (
        f"Station {s['甲1']} · P2: 2 mark(s) missing, and not enough judges may score it; seat(s) 3, 4 must recuse; "
        "seat(s) 2 have not scored yet; grant a recusal override, or have the chief judge enter the mark as a judge"
    ) in lines
    assert (
        f"Station {s['乙1']} · T1: 1 mark(s) missing, waiting for one of seats 1, 2, 3, 4 to enter it "
        "(the tablet(s) of seat(s) 2, 3, 4 not connected)" in lines
    )
    assert len(lines) > 5 and not [line for line in lines if CJK.search(line)]


def test_spread_and_drift_are_named(judge_client, live, migrated) -> None:
    """ja marks P2 (out of 40) well above jb and jc on every entry: flagged as scoring high."""
    p2 = {"ja": [40, 40, 35, 40], "jb": [32, 34, 22, 36], "jc": [31, 36, 21, 36]}
    for judge, values in p2.items():
        with judge_client(judge).websocket_connect("/ws/judge") as socket:
            for station, value in zip(["甲1", "甲2", "乙1", "乙2"], values, strict=True):
                assert send(socket, mark(live, station, "P2", value))["status"] == "stored"
    page = judge_client("cj").get(f"/chief/items/{live.item_id}/matrix").text
    rows = {seat: row for seat, row in re.findall(r'<tr data-seat="(\d*)"[^>]*>(.*?)</tr>', page, re.S)}
    # ja: (8.5 + 5 + 13.5 + 4) / 4 = 7.75 marks above the others' mean, x 3/40 = 0.58 on the 0-3 scale
    assert "+0.58" in rows["1"] and "偏高" in rows["1"]
    assert re.search(r'<tr data-seat="1" class="drifting"', page)
    assert "偏高" not in rows["2"] and "偏低" not in rows["2"] and "偏高" not in rows["3"]
    assert re.search(r"<td>4</td>", rows["1"])  # four shared cells


# ------------------------------------------------------------------ the tablet's shell


def test_the_service_worker_is_served_for_the_tablet_and_versioned(client, live) -> None:
    response = client.get("/tablet-sw.js")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    body = response.text
    assert f'const VERSION = "{offline.tablet_version()}";' in body
    assets = re.search(r"const ASSETS = (\[.*?\]);", body)
    assert assets and "/static/js/tablet.js" in assets.group(1) and "/static/css/app.css" in assets.group(1)
    assert "__VERSION__" not in body and "__ASSETS__" not in body


def test_the_version_changes_with_any_static_file(tmp_path, monkeypatch) -> None:
    static = tmp_path / "static"
    shutil.copytree(REPO_ROOT / "static", static)
    monkeypatch.setattr(offline, "STATIC", static)
    monkeypatch.setattr(offline, "TEMPLATES", ())
    offline.tablet_version.cache_clear()
    try:
        before = offline.tablet_version()
        assert before == offline.tablet_version()  # stable while nothing changes
        (static / "css" / "app.css").write_text((static / "css" / "app.css").read_text() + "\n/* changed */\n")
        offline.tablet_version.cache_clear()
        assert offline.tablet_version() != before
    finally:
        offline.tablet_version.cache_clear()


def test_the_tablet_page_opens_on_an_open_item_and_embeds_its_data_safely(judge_client, live, migrated) -> None:
    import json

    page = judge_client("cj").get("/tablet").text  # cj is chief judge of item 1 only: one item
    block = re.search(r'<script id="tablet-config" type="application/json">(.*?)</script>', page, re.S)
    assert block is not None
    config = json.loads(html.unescape(block.group(1)))
    assert config["app_version"] == offline.tablet_version() and config["judge"] == "cj"
    assert [(i["name"], i["status"], i["competition"]) for i in config["items"]] == [("焊工", "scoring", "2026年直播测试大赛")]


def test_live_templates_have_no_inline_script_handler_or_style() -> None:
    for path in (REPO_ROOT / "templates" / "live").glob("*.html"):
        source = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", source):
            assert 'src="' in tag or 'type="application/json"' in tag, (path.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", source), path.name
        assert not re.search(r"\sstyle\s*=", source), path.name
        assert "| safe" not in source.replace("csrf_input | safe", "").replace("link.qr | safe", ""), path.name


def test_welcome_names_the_cells_others_filled_and_never_the_judges_own(judge_client, live) -> None:
    """A measurement entered by one judge and a judgement criterion whose panel of 3 is full are
    taken for everyone else; the judge's own cells are marks, not taken; who filled them is not said."""
    with judge_client("ja").websocket_connect("/ws/judge") as socket:
        assert send(socket, mark(live, "乙1", "T1", "70"))["status"] == "stored"
    for judge in ("ja", "jb", "jc"):
        with judge_client(judge).websocket_connect("/ws/judge") as socket:
            assert send(socket, mark(live, "乙2", "P2", "30"))["status"] == "stored"
    with judge_client("jb").websocket_connect("/ws/judge") as socket:
        assert send(socket, mark(live, "甲2", "P2", "31"))["status"] == "stored"  # one of three: not full

    def cell(station: str, code: str) -> dict:
        return {"item_id": live.item_id, "station": live.stations[station], "criterion_id": live.criteria[code]}

    welcomes = {}
    for judge in ("ja", "jb", "jx"):
        with judge_client(judge).websocket_connect("/ws/judge") as socket:
            welcomes[judge] = send(socket, {"type": "hello"})
    assert welcomes["ja"]["taken"] == []  # both cells hold ja's own marks
    assert sorted(welcomes["jb"]["taken"], key=str) == [cell("乙1", "T1")]
    assert sorted(welcomes["jx"]["taken"], key=lambda c: c["criterion_id"]) == sorted(
        [cell("乙1", "T1"), cell("乙2", "P2")], key=lambda c: c["criterion_id"]
    )
    assert all(set(c) == {"item_id", "station", "criterion_id"} for w in welcomes.values() for c in w["taken"])


def test_the_lock_shows_the_audit_chain_as_it_left_it(judge_client, live, migrated) -> None:
    """The checkpoint printed with the signature is the lock's own record: its position and MAC."""
    from contest.audit.service import verify_chain
    from contest.db.models import AuditRecord
    from tests.integration.payout_seed import _lock_reveal_publish, run

    async def score(db) -> None:
        from tests.integration.payout_seed import _mark

        for judge, values in {"ja": [30, 35, 20, 36], "jb": [32, 34, 22, 36], "jc": [31, 36, 21, 36]}.items():
            for label, value in zip(["甲1", "甲2", "乙1", "乙2"], values, strict=True):
                await _mark(db, live, judge, label, "P2", value)
        for label in ["甲1", "甲2", "乙1", "乙2"]:
            await _mark(db, live, "ja", label, "T1", 80)
            await _mark(db, live, "ja", label, "P1", 50)
        await _lock_reveal_publish(db, live)

    run(migrated.database_url, score)
    page = judge_client("cj").get(f"/chief/items/{live.item_id}").text
    shown = re.search(r'id="lock-audit-head">.*?#(\d+) · MAC <span class="mono">([0-9a-f]+)</span>', page, re.S)
    assert shown, page[:2000]

    async def lock_record(db) -> tuple[int, str, int]:
        from sqlalchemy import func, select

        rec = (
            (await db.execute(select(AuditRecord).where(AuditRecord.action == "item.lock").order_by(AuditRecord.id.desc())))
            .scalars()
            .first()
        )
        position = (await db.execute(select(func.count()).select_from(AuditRecord).where(AuditRecord.id <= rec.id))).scalar_one()
        count, problems = await verify_chain(db)
        assert problems == [] and count > position  # reveal and publish came after it
        return position, rec.hash, count

    position, mac, _ = run(migrated.database_url, lock_record)
    assert (int(shown.group(1)), shown.group(2)) == (position, mac)
