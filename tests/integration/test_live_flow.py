"""From marks to the board: live updates, lock (refused while incomplete), reveal, reopen with a reason."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import post_form
from tests.integration.live_seed import Live, _item_status, seed_live
from tests.integration.seed import make_id
from tests.integration.test_live_protocol import mark, send


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


# Every mark the seeded item needs, by judge: ja enters the measurements; ja, jb, jc judge P2.
P2 = {"ja": [30, 35, 20, 36], "jb": [32, 34, 22, 36], "jc": [31, 36, 21, 36]}
T1 = [80, 90, 70, 60]
P1 = [50, 55, 40, 55]
ORDER = ["甲1", "甲2", "乙1", "乙2"]


def score_everything(judge_client, live: Live) -> None:
    for judge in ("ja", "jb", "jc"):
        client = judge_client(judge)
        with client.websocket_connect("/ws/judge") as socket:
            for i, station in enumerate(ORDER):
                assert send(socket, mark(live, station, "P2", P2[judge][i]))["status"] == "stored"
                if judge == "ja":
                    assert send(socket, mark(live, station, "T1", T1[i]))["status"] == "stored"
                    assert send(socket, mark(live, station, "P1", P1[i]))["status"] == "stored"


def test_board_gets_a_snapshot_then_coalesced_updates(judge_client, live) -> None:
    judge = judge_client("ja")
    with judge.websocket_connect(f"/ws/board/{live.competition_id}") as board:
        board.send_json({"type": "hello", "seqs": {}})
        snapshot = board.receive_json()
        assert snapshot["type"] == "snapshot"
        item = next(i for i in snapshot["items"] if i["item_id"] == live.item_id)
        assert item["stored"] == 0 and item["expected"] == 4 * 5
        assert all("name" not in line for line in item["ranking"])  # provisional: stations only
        with judge.websocket_connect("/ws/judge") as socket:
            ack = send(socket, mark(live, "乙1", "T1", "88"))
            send(socket, mark(live, "乙2", "T1", "77"))
        update = board.receive_json()
        assert update["type"] == "update"
        fragment = next(i for i in update["items"] if i["item_id"] == live.item_id)
        assert fragment["seq"] >= ack["seq"] and fragment["stored"] in (1, 2)
        if fragment["stored"] == 1:  # the two marks may land in one flush or two
            fragment = next(i for i in board.receive_json()["items"] if i["item_id"] == live.item_id)
        assert fragment["stored"] == 2
        # a board that reconnects knowing the current seq gets nothing for that item
        board.send_json({"type": "hello", "seqs": {str(live.item_id): fragment["seq"]}})
        resumed = board.receive_json()
        assert resumed["type"] == "snapshot" and live.item_id not in [i["item_id"] for i in resumed["items"]]


def test_lock_reveal_publish_and_reopen(judge_client, live, migrated, role_users) -> None:
    chief = judge_client("cj")
    console = f"/chief/items/{live.item_id}"
    refused = post_form(chief, f"{console}/lock", {"signer": "裁判长丙"})
    assert refused.status_code == 409 and "个分数未录入" in refused.text

    score_everything(judge_client, live)
    page = chief.get(console).text
    assert "已提交" in page and "选手" not in page  # complete, still blind

    # The signature is the signed-in account, whatever the form says: its name, its id and the time.
    assert post_form(chief, f"{console}/lock", {"signer": "随便写的名字"}).status_code == 302
    assert asyncio.run(_item_status(migrated.database_url, live.item_id)) == "locked"
    signature = asyncio.run(_signature(migrated.database_url, live.item_id))
    assert signature["locked_by"] == "cj" and signature["locked_by_user_id"] == signature["cj_id"]
    assert signature["audit"]["signed_by"] == "cj" and signature["audit"]["signed_by_user_id"] == signature["cj_id"]
    assert "随便写的名字" not in chief.get(console).text and f"裁判长签名: cj · {signature['locked_at']}" in chief.get(console).text

    judge = judge_client("ja")
    with judge.websocket_connect("/ws/judge") as socket:
        assert send(socket, mark(live, "乙1", "T1", "10"))["code"] == "item_closed"

    assert post_form(chief, f"{console}/reveal").status_code == 302
    page = chief.get(console).text
    assert "选手乙2" in page

    with chief.websocket_connect(f"/ws/board/{live.competition_id}") as board:
        board.send_json({"type": "hello", "seqs": {}})
        item = next(i for i in board.receive_json()["items"] if i["item_id"] == live.item_id)
    ranking = item["ranking"]
    # totals: 0.2*T1 + 0.8*(P1 + mean P2): 甲1 16+0.8*81=80.80, 甲2 18+0.8*90=90.00, 乙1 14+0.8*61=62.80, 乙2 12+0.8*91=84.80
    assert [(line["name"], line["total"], line["place"]) for line in ranking] == [
        ("选手甲2", "90.00", 1),
        ("选手乙2", "84.80", 2),
        ("选手甲1", "80.80", 3),
        ("选手乙1", "62.80", 4),
    ]
    assert [line["award"] for line in ranking] == ["一等奖", "二等奖", "三等奖", ""]

    organizer = judge_client(role_users["organizer"])
    public_page = f"/public/competitions/{live.competition_id}"
    assert "选手甲2" not in organizer.get(public_page).text  # revealed is not yet published
    assert post_form(organizer, f"/items/{live.item_id}/publish").status_code == 302
    assert asyncio.run(_item_status(migrated.database_url, live.item_id)) == "published"
    page = organizer.get(public_page).text
    assert "选手甲2" in page and "90.00" in page and "一等奖" in page
    assert not any(make_id(100 + i) in page for i in range(4))

    assert post_form(chief, f"{console}/reopen", {"reason": ""}).status_code == 422
    assert post_form(chief, f"{console}/reopen", {"reason": "申诉成立,复核 T1"}).status_code == 302
    with judge.websocket_connect("/ws/judge") as socket:
        assert send(socket, mark(live, "乙1", "T1", "75", reason="复核"))["status"] == "stored"


async def _signature(url: str, item_id: int) -> dict:
    from sqlalchemy import select

    from contest.db.engine import make_engine, make_session_factory
    from contest.db.models import AuditRecord, Item, User

    engine = make_engine(url)
    async with make_session_factory(engine)() as db:
        item = await db.get(Item, item_id)
        assert item is not None and item.locked_at is not None
        cj_id = (await db.execute(select(User.id).where(User.username == "cj"))).scalar_one()
        audit = (await db.execute(select(AuditRecord.detail).where(AuditRecord.action == "item.lock"))).scalar_one()
        result = {
            "locked_by": item.locked_by,
            "locked_by_user_id": item.locked_by_user_id,
            "locked_at": item.locked_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            "cj_id": cj_id,
            "audit": audit,
        }
    await engine.dispose()
    return result


def test_conflict_override_lets_the_judge_score(judge_client, live) -> None:
    judge = judge_client("jx")
    with judge.websocket_connect("/ws/judge") as socket:
        assert send(socket, mark(live, "甲1", "P2", "30"))["code"] == "conflict"
    chief = judge_client("cj")
    assert (
        post_form(
            chief, f"/chief/items/{live.item_id}/override", {"seat": "4", "station": str(live.stations["甲1"]), "reason": ""}
        ).status_code
        == 422
    )
    response = post_form(
        chief, f"/chief/items/{live.item_id}/override", {"seat": "4", "station": str(live.stations["甲1"]), "reason": "裁判人数不足"}
    )
    assert response.status_code == 302
    with judge.websocket_connect("/ws/judge") as socket:
        assert send(socket, mark(live, "甲1", "P2", "30"))["status"] == "stored"


def test_practical_time_is_parsed_and_bad_input_refused(judge_client, live) -> None:
    chief = judge_client("cj")
    station = str(live.stations["甲1"])
    assert post_form(chief, f"/chief/items/{live.item_id}/time", {"station": station, "time": "1:5:00"}).status_code == 302
    assert "1:05:00" in chief.get(f"/chief/items/{live.item_id}").text
    bad = post_form(chief, f"/chief/items/{live.item_id}/time", {"station": station, "time": "1:75"})
    assert bad.status_code == 422 and "格式不正确" in bad.text


def test_a_malformed_board_hello_still_gets_a_full_snapshot(judge_client, live) -> None:
    client = judge_client("ja")
    with client.websocket_connect(f"/ws/board/{live.competition_id}") as board:
        board.send_json({"type": "hello", "seqs": {str(live.item_id): "not-a-number", "x": 1}})
        snapshot = board.receive_json()
    assert snapshot["type"] == "snapshot"
    assert live.item_id in [i["item_id"] for i in snapshot["items"]]


def test_progress_only_fragments_match_the_full_computation(judge_client, live, migrated) -> None:
    """Without a provisional ranking the board counts marks with grouped queries; same numbers."""
    from contest.db.engine import make_engine, make_session_factory
    from contest.live.board import fragments_for, item_fragment

    with judge_client("ja").websocket_connect("/ws/judge") as socket:
        for station in ("甲2", "乙1", "乙2"):
            assert send(socket, mark(live, station, "T1", "60"))["status"] == "stored"
        assert send(socket, mark(live, "乙1", "P2", "30"))["status"] == "stored"

    async def both():
        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            fast = await fragments_for(db, [live.item_id], show_provisional=False)
            full = await item_fragment(db, live.item_id, show_provisional=False)
            ranked = await fragments_for(db, [live.item_id], show_provisional=True)
        await engine.dispose()
        return fast, full, ranked

    fast, full, ranked = asyncio.run(both())
    assert fast == [full]
    assert (fast[0]["stored"], fast[0]["expected"], fast[0]["ranking"]) == (4, 20, None)
    assert len(ranked[0]["ranking"]) == 4
