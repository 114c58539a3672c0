"""Results for payout tests, made with the real services: the live seed's item scored by its
judges (the mark service), locked, revealed and published; then reopened and re-marked.

The competition is put under 技能兴威 (市级一类: the organizer pays 1st/2nd/3rd, floors
2,000 / 1,500 / 1,000) and given an end date, so a batch for 2026 includes it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from contest.accounts.service import create_user
from contest.audit.service import Actor
from contest.db.engine import make_engine, make_session_factory
from contest.db.models import User
from contest.events import service
from contest.events.service import CompetitionForm
from contest.live import actions
from contest.live.service import Judge, MarkIn, submit_mark
from contest.results import service as results_service
from tests.conftest import PASSWORD
from tests.integration.live_seed import Live, seed_live

ACTOR = Actor.system("tests")
POLICY = "jinengxingwei-weihai-2021"
ORGANIZER = "威海市测试主办单位"
ORDER = ["甲1", "甲2", "乙1", "乙2"]
T1 = [80, 90, 70, 60]
P1 = [50, 55, 40, 55]
P2 = {"ja": [30, 35, 20, 36], "jb": [32, 34, 22, 36], "jc": [31, 36, 21, 36]}


def run(url: str, work: Any) -> Any:
    async def runner() -> Any:
        engine = make_engine(url)
        try:
            async with make_session_factory(engine)() as db:
                return await work(db)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


async def _judge(db: Any, username: str) -> Judge:
    user = (await db.execute(select(User).where(User.username == username))).scalar_one()
    return Judge(user_id=user.id, username=user.username, person_id=user.person_id)


async def _mark(db: Any, live: Live, username: str, label: str, code: str, value: int) -> None:
    judge = await _judge(db, username)
    mark = MarkIn(
        client_id=str(uuid.uuid4()), item_id=live.item_id, station=live.stations[label], criterion_id=live.criteria[code], value=str(value)
    )
    ack, _ = await submit_mark(db, judge, mark)
    assert ack.status == "stored"


async def _score_and_publish(db: Any, live: Live) -> None:
    for judge, values in P2.items():
        for label, value in zip(ORDER, values, strict=True):
            await _mark(db, live, judge, label, "P2", value)
    for i, label in enumerate(ORDER):
        await _mark(db, live, "ja", label, "T1", T1[i])
        await _mark(db, live, "ja", label, "P1", P1[i])
    await _lock_reveal_publish(db, live)


async def _lock_reveal_publish(db: Any, live: Live) -> None:
    await actions.lock(db, ACTOR, live.item_id, "裁判长丙")
    await actions.reveal(db, ACTOR, live.item_id)
    await results_service.publish(db, ACTOR, live.item_id)


async def _under_policy(db: Any, live: Live) -> None:
    comp = await service.get_competition(db, live.competition_id)
    form = CompetitionForm(
        comp.name,
        comp.year,
        comp.level,
        comp.category,
        policy_id=POLICY,
        organizer=ORGANIZER,
        start_date=date(2026, 11, 20),
        end_date=date(2026, 11, 22),
        show_provisional=True,
    )
    await service.save_competition(db, ACTOR, form, live.competition_id)
    await create_user(db, ACTOR, "fin2", PASSWORD, "finance", "财务审批人")
    await db.commit()


def published_competition(url: str) -> Live:
    """The live seed, under the policy, scored and published (v1). Also creates the second
    finance account "fin2" (the approver)."""
    live = seed_live(url)

    async def work(db: Any) -> None:
        await _under_policy(db, live)
        await _score_and_publish(db, live)

    run(url, work)
    return live


def close_appeal_window(url: str, live: Live, confirm: bool = False) -> None:
    """The appeal window passes with no appeal (published_at moves back beyond it); with
    ``confirm`` the item is then confirmed final (最终成绩) through the real lifecycle action."""
    from datetime import timedelta

    from contest.db.models import Item

    async def work(db: Any) -> None:
        item = await db.get(Item, live.item_id)
        item.published_at = item.published_at - timedelta(hours=3)
        await db.commit()
        if confirm:
            await results_service.finalize(db, ACTOR, live.item_id)

    run(url, work)


def republish_with_marks(url: str, live: Live, changes: dict[str, int]) -> None:
    """The chief judge reopens (with a reason), "ja" re-enters T1 for the given entries, and the
    item is locked, revealed and published again (v2)."""

    async def work(db: Any) -> None:
        await actions.reopen(db, ACTOR, live.item_id, "申诉成立:理论成绩登记错误")
        for label, value in changes.items():
            await _mark(db, live, "ja", label, "T1", value)
        await _lock_reveal_publish(db, live)

    run(url, work)


def places(url: str, live: Live) -> dict[str, tuple[int | None, str | None]]:
    """label -> (place, award) as the ranking stands."""
    from contest.standings import item_results

    async def work(db: Any) -> dict[str, tuple[int | None, str | None]]:
        results = await item_results(db, live.item_id)
        by_station = {station: label for label, station in live.stations.items()}
        return {by_station[r.entry.station_no]: (r.ranked.place, r.ranked.award) for r in results.rows if r.entry.station_no is not None}

    return run(url, work)


def workbook_sheets(content: bytes) -> dict[str, list[tuple[Any, ...]]]:
    import io

    book = load_workbook(io.BytesIO(content))
    return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
