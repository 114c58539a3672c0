"""Published results: versions with what changed, appeals within the window, the final state, public search."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from contest.audit.service import Actor
from contest.db.engine import make_engine, make_session_factory
from contest.errors import Conflict
from contest.events.service import get_item
from contest.results import service
from contest.results import service as results_service
from tests.conftest import post_form
from tests.integration.live_seed import Live, _item_status, seed_live
from tests.integration.seed import make_id
from tests.integration.test_live_flow import score_everything
from tests.integration.test_live_protocol import mark, send

ACTOR = Actor.system("tests")


@pytest.fixture
def live(migrated) -> Live:
    return seed_live(migrated.database_url)


def publish_scored_item(judge_client, live: Live, organizer) -> None:
    score_everything(judge_client, live)
    chief = judge_client("cj")
    assert post_form(chief, f"/chief/items/{live.item_id}/lock", {"signer": "裁判长丙"}).status_code == 302
    assert post_form(chief, f"/chief/items/{live.item_id}/reveal").status_code == 302
    assert post_form(organizer, f"/items/{live.item_id}/publish").status_code == 302


def run(url: str, work):
    async def runner():
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as db:
                return await work(db)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


def test_publication_is_v1_public_and_searchable(judge_client, live, role_users) -> None:
    organizer = judge_client(role_users["organizer"])
    publish_scored_item(judge_client, live, organizer)
    page = organizer.get(f"/public/competitions/{live.competition_id}").text
    assert "v1" in page and "已修订" not in page and "修订说明" not in page
    assert "公示期" in page and "申诉截止" in page  # the window and the deadline from the first version on
    assert all(name in page for name in ("选手甲1", "选手甲2", "选手乙1", "选手乙2"))
    assert not any(make_id(100 + i) in page for i in range(4))
    found = organizer.get(f"/public/competitions/{live.competition_id}", params={"q": "乙2"}).text
    assert "选手乙2" in found and "选手甲1" not in found
    by_station = organizer.get(f"/public/competitions/{live.competition_id}", params={"q": str(live.stations["甲1"])}).text
    assert "选手甲1" in by_station and "选手乙2" not in by_station


def test_appeals_only_within_the_window_and_decisions_are_final(judge_client, live, migrated, role_users) -> None:
    url = migrated.database_url
    with pytest.raises(Conflict, match="成绩公示后才能受理申诉"):
        run(url, lambda db: service.record_appeal(db, ACTOR, live.item_id, 1, "甲单位领队", "对 T1 有异议"))
    organizer = judge_client(role_users["organizer"])
    publish_scored_item(judge_client, live, organizer)
    refused = post_form(organizer, f"/items/{live.item_id}/results/appeals", {"appellant": "", "content": ""})
    assert refused.status_code == 422 and "请填写申诉人" in refused.text
    ok = post_form(
        organizer, f"/items/{live.item_id}/results/appeals", {"appellant": "甲单位领队", "station": "1", "content": "对 T1 有异议"}
    )
    assert ok.status_code == 302

    async def too_late(db):
        item = await get_item(db, live.item_id)
        assert item.published_at is not None
        return await service.record_appeal(
            db, ACTOR, live.item_id, 1, "乙单位领队", "迟到的申诉", now=item.published_at + timedelta(hours=2, minutes=1)
        )

    with pytest.raises(Conflict, match="申诉期已过"):
        run(url, too_late)

    async def finalize_later(db):
        item = await get_item(db, live.item_id)
        assert item.published_at is not None
        return await results_service.finalize(db, ACTOR, live.item_id, now=item.published_at + timedelta(hours=3))

    refused = post_form(organizer, f"/items/{live.item_id}/results/finalize")
    assert refused.status_code == 409 and "申诉期至" in refused.text
    with pytest.raises(Conflict, match="还有申诉未作出仲裁结论"):
        run(url, finalize_later)
    appeals = run(url, lambda db: service.appeals_of(db, live.item_id))
    decided = post_form(organizer, f"/items/{live.item_id}/results/appeals/{appeals[0].id}", {"status": "rejected", "decision": "复核无误"})
    assert decided.status_code == 302
    again = post_form(organizer, f"/items/{live.item_id}/results/appeals/{appeals[0].id}", {"status": "upheld", "decision": "改判"})
    assert again.status_code == 409 and "最终结论" in again.text
    run(url, finalize_later)
    assert asyncio.run(_item_status(url, live.item_id)) == "final"


def test_a_revision_is_v2_with_what_changed(judge_client, live, migrated, role_users) -> None:
    organizer = judge_client(role_users["organizer"])
    publish_scored_item(judge_client, live, organizer)
    chief = judge_client("cj")
    assert post_form(chief, f"/chief/items/{live.item_id}/reopen", {"reason": "申诉成立:乙1 理论分录入错误"}).status_code == 302
    with judge_client("ja").websocket_connect("/ws/judge") as socket:
        assert send(socket, mark(live, "乙1", "T1", "100", reason="申诉复核"))["status"] == "stored"
    assert post_form(chief, f"/chief/items/{live.item_id}/lock", {"signer": "裁判长丙"}).status_code == 302
    assert post_form(chief, f"/chief/items/{live.item_id}/reveal").status_code == 302
    assert post_form(organizer, f"/items/{live.item_id}/publish").status_code == 302

    history = run(migrated.database_url, lambda db: service.versions(db, live.item_id))
    assert [v.version for v in history] == [1, 2]
    station = live.stations["乙1"]
    # 乙1: T1 70 -> 100 lifts the total by 0.2 x 30 = 6.00: 62.80 -> 68.80; still 4th
    assert history[1].changes == [{"station": station, "field": "total", "old": "62.80", "new": "68.80"}]
    assert history[1].reason == "申诉成立:乙1 理论分录入错误"
    page = organizer.get(f"/public/competitions/{live.competition_id}").text
    assert "v2" in page and "已修订" in page and "62.80 → 68.80" in page
    assert "公示期" in page and "申诉截止" in page and "申诉受理中" in page and "修订说明" in page
    desk = organizer.get(f"/items/{live.item_id}/results").text
    assert "v2" in desk and "v1" in desk
