"""The demo that `make run` loads: the issue's shape, drawn, loadable once, and its logins work."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from contest.db.engine import make_engine, make_session_factory
from contest.db.models import Competition, Entry, EntryCoach, EntryMember, Item, JudgeAssignment, User
from contest.demo import DEMO_PASSWORD, demo_logins, load_demo
from contest.domain.roles import ROLES
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


def test_the_loaded_demo_console_shows_device_health_and_a_drifting_judge(app, migrated) -> None:
    """`make run` loads the demo only: its consoles already show a tablet the chief judge is warned
    about (gone quiet with unsent marks) and a judge the agreement panel flags, while half of each
    item's stations are left for the judges who sign in."""
    from litestar.testing import TestClient

    asyncio.run(_load_and_count(migrated))

    async def items_and_marks() -> tuple[list[int], dict[int, tuple[int, int]]]:
        from contest.db.models import Mark

        engine = make_engine(migrated.database_url)
        async with make_session_factory(engine)() as db:
            ids = list((await db.execute(select(Item.id).order_by(Item.id))).scalars())
            share = {}
            for item_id in ids:
                entries = (await db.execute(select(func.count()).select_from(Entry).where(Entry.item_id == item_id))).scalar_one()
                marked = (await db.execute(select(func.count(Mark.entry_id.distinct())).where(Mark.item_id == item_id))).scalar_one()
                share[item_id] = (marked, entries)
        await engine.dispose()
        return ids, share

    ids, share = asyncio.run(items_and_marks())
    for marked, entries in share.values():
        assert 0 < marked < entries  # scored in part: something to see, something left to score
    organizer = next(username for username, role in demo_logins(migrated) if role == ROLES["organizer"])
    warned = drifting = 0
    with TestClient(app=app) as client:
        login(client, organizer, DEMO_PASSWORD)
        for item_id in ids:
            devices = client.get(f"/chief/items/{item_id}/devices")
            assert devices.status_code == 200
            warned += devices.text.count('class="device-warning"')
            assert 'data-state="never"' not in devices.text or 'data-state="offline"' in devices.text
            live = client.get(f"/chief/items/{item_id}/matrix")
            assert live.status_code == 200
            drifting += live.text.count('class="drifting"')
    assert warned >= 1 and drifting >= 1, (warned, drifting)
