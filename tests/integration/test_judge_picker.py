"""One rule whatever the path (issue 15, point 6): who may sit on an item's panel is decided by
contest.domain.conflicts for the judges import and the item page alike; judges are picked by name
(the typeahead, with masked ID numbers); appeals name a drawn 工位号; the chief desk says 未抽签."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from contest.db.models import Item, JudgeAssignment, Person
from contest.errors import Conflict
from contest.events import service as events
from contest.rosters import service as rosters
from contest.rosters.sheets import JUDGES, UNITS
from tests.conftest import login, post_form
from tests.integration.seed import ACTOR, make_id, seed
from tests.integration.test_results import publish_scored_item, run
from tests.integration.test_roster_import import WELD, good_sheets, make_competition, pid, run_roster, workbook

REFUSAL = "该裁判是赛项「6-18-02-04」参赛号「001」的教练,不能执裁该赛项"


async def test_the_import_and_the_item_page_refuse_a_coach_with_the_same_message(db: AsyncSession) -> None:
    cid = await make_competition(db)
    assert (await run_roster(db, cid, good_sheets())).ok
    # 孙七 (pid 5) coaches entry 001 of 焊工: the judges import refuses him for 焊工 ...
    sheets: dict[str, list[list[Any]]] = {
        UNITS.name: [list(UNITS.headers)],
        JUDGES.name: [list(JUDGES.headers), ["孙七", pid(5), "男", "威海市第一技师学院", None, "裁判", WELD, None]],
    }
    result = await rosters.import_judges(db, ACTOR, cid, "裁判.xlsx", workbook(sheets))
    assert [p.message for p in result.problems] == [REFUSAL]
    # ... and assigning him by hand is refused with the same words, nothing written.
    item = (await db.execute(select(Item).where(Item.competition_id == cid, Item.skill_code == WELD))).scalar_one()
    coach = (await db.execute(select(Person).where(Person.id_number == pid(5)))).scalar_one()
    item_id, coach_id = item.id, coach.id
    with pytest.raises(Conflict) as refused:
        await events.assign_judge(db, ACTOR, item_id, coach, "judge")
    assert refused.value.message == REFUSAL
    await db.rollback()
    assert (await db.execute(select(JudgeAssignment).where(JudgeAssignment.person_id == coach_id))).first() is None
    # A competitor is refused too; a person with no part in the item is assigned.
    competitor = (await db.execute(select(Person).where(Person.id_number == pid(2)))).scalar_one()
    with pytest.raises(Conflict, match="参赛号「002」的选手"):
        await events.assign_judge(db, ACTOR, item_id, competitor, "judge")
    await db.rollback()
    outsider = await events.save_person(db, ACTOR, events.PersonForm(pid(40), "钱裁判"))
    assert (await events.assign_judge(db, ACTOR, item_id, outsider, "judge")).seat == 1


def test_the_item_page_picks_judges_by_name_and_refuses_a_coach(client, role_users, migrated) -> None:
    ids = seed(migrated.database_url)
    item_id = ids["item_id"]
    coach = run(migrated.database_url, lambda db: events.save_person(db, ACTOR, events.PersonForm(make_id(950), "教练丁")))
    run(migrated.database_url, lambda db: _coach(db, item_id, coach.id))
    newcomer = run(migrated.database_url, lambda db: events.save_person(db, ACTOR, events.PersonForm(make_id(951), "裁判丁")))
    login(client, "org")
    page = client.get(f"/items/{item_id}").text
    assert 'hx-post="/people/lookup"' in page and 'name="id_number"' not in page  # by name, not by 证件号码

    # The typeahead: people whose name contains the text, ID numbers masked, the coach shown refused.
    found = post_form(client, "/people/lookup", {"q": "丁", "item_id": str(item_id)})
    assert found.status_code == 200
    labels = re.findall(r'<label class="match[^"]*">.*?</label>', found.text, re.S)
    assert len(labels) == 2
    refused = next(label for label in labels if "教练丁" in label)
    assert "disabled" in refused and "不能执裁" in refused and "参赛号「HG001」的教练" in refused
    allowed = next(label for label in labels if "裁判丁" in label)
    assert "disabled" not in allowed and f'value="{newcomer.id}"' in allowed
    assert make_id(951) not in found.text and make_id(950) not in found.text
    assert "3710" in allowed and "*" in allowed  # the masked form
    # Names only: a 证件号码 finds nobody; nothing typed, nothing shown; a LIKE wildcard is literal.
    assert '<label class="match' not in post_form(client, "/people/lookup", {"q": make_id(951)}).text
    assert post_form(client, "/people/lookup", {"q": ""}).text.strip() == ""
    assert '<label class="match' not in post_form(client, "/people/lookup", {"q": "%"}).text
    assert post_form(client, "/people/lookup", {"q": "丁", "item_id": "abc"}).status_code == 200  # bad item: no refusals, no 500

    # Picking the newcomer assigns them; posting the coach anyway is refused with the import's words.
    assert post_form(client, f"/items/{item_id}/judges", {"person_id": str(newcomer.id), "role": "judge"}).status_code == 302
    response = post_form(client, f"/items/{item_id}/judges", {"person_id": str(coach.id), "role": "judge"})
    assert response.status_code == 409
    assert "该裁判是赛项「6-18-02-04」参赛号「HG001」的教练,不能执裁该赛项" in response.text
    panel = run(migrated.database_url, lambda db: events.item_judges(db, item_id))
    assert {j.person_id for j in panel} >= {newcomer.id} and coach.id not in {j.person_id for j in panel}
    # Nothing picked, or a person who does not exist: a clear message, no change.
    assert "从搜索结果中选择" in post_form(client, f"/items/{item_id}/judges", {"role": "judge"}).text
    assert post_form(client, f"/items/{item_id}/judges", {"person_id": "999999", "role": "judge"}).status_code == 404
    assert post_form(client, f"/items/{item_id}/judges", {"person_id": "x", "role": "judge"}).status_code == 422


async def _coach(db: AsyncSession, item_id: int, person_id: int) -> None:
    from contest.db.models import Entry, EntryCoach

    entry = (await db.execute(select(Entry).where(Entry.item_id == item_id, Entry.entry_no == "HG001"))).scalar_one()
    db.add(EntryCoach(entry_id=entry.id, person_id=person_id, is_lead=True))
    await db.commit()


def test_the_typeahead_is_for_organizers_only(client, role_users, migrated) -> None:
    seed(migrated.database_url)
    client.get("/login")  # the CSRF cookie
    assert post_form(client, "/people/lookup", {"q": "裁判"}).status_code == 401
    login(client, role_users["judge"])
    assert post_form(client, "/people/lookup", {"q": "裁判"}).status_code == 403


def test_an_appeal_names_a_drawn_station(judge_client, migrated, role_users) -> None:
    from tests.integration.live_seed import seed_live

    live = seed_live(migrated.database_url)
    organizer = judge_client(role_users["organizer"])
    publish_scored_item(judge_client, live, organizer)
    page = organizer.get(f"/items/{live.item_id}/results").text
    select_html = page[page.index('id="appeal-station"') : page.index("</select>", page.index('id="appeal-station"'))]
    options = re.findall(r'<option value="(\d*)">', select_html)
    assert sorted(int(o) for o in options if o) == sorted(live.stations.values()) and "" in options
    assert "选手甲1" in select_html  # who is there (names are public by now)
    not_drawn = max(live.stations.values()) + 1
    response = post_form(
        organizer, f"/items/{live.item_id}/results/appeals", {"appellant": "甲单位领队", "content": "复核", "station": str(not_drawn)}
    )
    assert response.status_code == 422
    assert f"工位号 {not_drawn} 不在本赛项的抽签结果中" in response.text
    assert "#1" not in organizer.get(f"/items/{live.item_id}/results").text.split('id="appeals"')[1].split("登记申诉")[0]
    station = live.stations["甲1"]
    appeal = {"appellant": "甲单位领队", "content": "复核", "station": str(station)}
    assert post_form(organizer, f"/items/{live.item_id}/results/appeals", appeal).status_code == 302


def test_the_chief_desk_says_not_drawn_instead_of_a_dash(client, role_users, migrated) -> None:
    seed(migrated.database_url, chief_username=role_users["chief_judge"])
    login(client, role_users["chief_judge"])
    page = client.get("/chief").text
    assert "工位号 —" not in page and "未抽签" in page  # the chief coaches HG004, which has no station yet
