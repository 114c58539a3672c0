"""The demo that `make run` loads: the issue's shape, drawn, loadable once, and its logins work."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Competition, Entry, EntryCoach, EntryMember, Item, JudgeAssignment, User
from contest.demo import DEMO_PASSWORD, demo_logins, load_demo
from tests.conftest import login


async def _load_and_count(settings):
    engine = make_engine(settings.database_url)
    async with make_session_factory(engine)() as db:
        first = await load_demo(db, settings, only_if_empty=True)
        second = await load_demo(db, settings, only_if_empty=True)

        async def count(model, *where) -> int:
            return (await db.execute(select(func.count()).select_from(model).where(*where))).scalar_one()

        competition = (await db.execute(select(Competition))).scalar_one()
        items = list((await db.execute(select(Item).order_by(Item.id))).scalars())
        result = {
            "loaded": (first, second),
            "competition": (competition.year, competition.level, competition.category, competition.policy_id),
            "items": [(i.is_team, i.team_size) for i in items],
            "competitors": await count(EntryMember),
            "entries_without_station": await count(Entry, Entry.station_no.is_(None)),
            "coaches": await count(EntryCoach),
            "judges": await count(JudgeAssignment, JudgeAssignment.role == "judge"),
            "chiefs": await count(JudgeAssignment, JudgeAssignment.role == "chief_judge"),
            "judge_people": len(set((await db.execute(select(JudgeAssignment.person_id))).scalars())),
            "users": await count(User),
        }
    await engine.dispose()
    return result


def test_demo_has_the_shape_the_issue_asks_for(migrated) -> None:
    result = asyncio.run(_load_and_count(migrated))
    assert result["loaded"] == (True, False)
    assert result["competition"] == (2026, "municipal", 1, "jinengxingwei-weihai-2021")
    assert result["items"] == [(False, 1), (False, 1), (True, 2)]
    assert 25 <= result["competitors"] <= 35
    assert result["entries_without_station"] == 0
    assert result["coaches"] >= 26
    assert result["judge_people"] == 8 and result["chiefs"] == 3
    assert result["users"] == len(demo_logins(migrated))


def test_every_demo_login_signs_in(app, migrated) -> None:
    from litestar.testing import TestClient

    asyncio.run(_load_and_count(migrated))
    for username, _ in demo_logins(migrated):
        with TestClient(app=app) as client:
            login(client, username, DEMO_PASSWORD)
            assert client.get("/", follow_redirects=False).status_code == 200
