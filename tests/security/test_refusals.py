"""What used to give a 500 is a 4xx with a Chinese message, and leaves the data as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contest.db.models import Appeal, Competition, Item
from tests.conftest import login, post_form
from tests.integration.payout_seed import published_competition, run


@pytest.fixture
def organizer(client, role_users):
    login(client, role_users["organizer"])
    return client


@pytest.mark.parametrize("station", ["²", "٣", "３", "1.5", "1e3", " 1_0", "99999999999999999999999", "-1"])
def test_an_appeal_with_a_station_that_is_not_a_plain_number_is_refused(organizer, migrated, station: str) -> None:
    live = published_competition(migrated.database_url)
    response = post_form(organizer, f"/items/{live.item_id}/results/appeals", {"station": station, "appellant": "张三", "content": "复核"})
    assert response.status_code == 422, response.text[:300]
    assert "工位号" in response.text
    assert run(migrated.database_url, lambda db: _appeals(db)) == []


def test_an_appeal_on_a_station_the_item_does_not_have_is_refused(organizer, migrated) -> None:
    live = published_competition(migrated.database_url)
    response = post_form(organizer, f"/items/{live.item_id}/results/appeals", {"station": "77", "appellant": "张三", "content": "复核"})
    assert response.status_code == 422 and "工位号 77 不在本赛项的抽签结果中" in response.text


async def _appeals(db) -> list[tuple[int, int, str]]:
    return [(a.id, a.item_id, a.status) for a in (await db.execute(select(Appeal))).scalars()]


def test_an_appeal_is_decided_only_under_its_own_item(organizer, migrated) -> None:
    live = published_competition(migrated.database_url)
    station = str(live.stations["甲1"])
    assert post_form(
        organizer, f"/items/{live.item_id}/results/appeals", {"station": station, "appellant": "张三", "content": "复核"}
    ).status_code in (302, 303)
    [(appeal_id, item_id, _)] = run(migrated.database_url, _appeals)
    response = post_form(organizer, f"/items/{live.other_item_id}/results/appeals/{appeal_id}", {"status": "upheld", "decision": "成立"})
    assert response.status_code == 404
    assert run(migrated.database_url, _appeals) == [(appeal_id, item_id, "pending")]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("year", "٢٠٢٦", "年度「٢٠٢٦」不是整数"),
        ("year", "２０２６", "不是整数"),
        ("year", "2026.0", "不是整数"),
        ("appeal_hours", "99999999999999999999", "不是整数"),
        ("appeal_hours", "9999999999", "超出范围"),
        ("category", "¹", "不是整数"),
        ("start_date", "2026-02-30", "不是有效日期"),
        ("start_date", "２０２６-01-01", "不是有效日期"),
    ],
)
def test_competition_numbers_and_dates_are_parsed_strictly(organizer, migrated, field: str, value: str, message: str) -> None:
    form = {"name": "新赛事", "year": "2026", "level": "municipal", "category": "1", field: value}
    response = post_form(organizer, "/competitions", form)
    assert response.status_code == 422 and message in response.text
    assert run(migrated.database_url, lambda db: _count_competitions(db)) == 0


async def _count_competitions(db) -> int:
    return len((await db.execute(select(Competition.id))).all())


@pytest.mark.parametrize(
    ("weight", "maximum", "step", "message"),
    [
        ("1e2", "100", "1", "权重「1e2」不是有效数字"),
        ("100", "100", "1e-999999999", "步长「1e-999999999」不是有效数字"),
        ("100", "100", "0.001", "最多两位小数"),
        ("100", "NaN", "1", "不是有效数字"),
        ("100", "1000", "1", "满分应大于 0、不超过 100"),
        ("٣٠", "100", "1", "不是有效数字"),
    ],
)
def test_scheme_numbers_are_plain_decimals_within_their_columns(
    organizer, migrated, weight: str, maximum: str, step: str, message: str
) -> None:
    live = published_competition(migrated.database_url)

    async def scheme(db) -> list:
        from contest.events.service import get_item

        item = await get_item(db, live.other_item_id)
        return [(c.kind, c.weight, [(k.code, k.max_mark, k.step) for k in c.criteria]) for c in item.components]

    before = run(migrated.database_url, scheme)
    form = {
        "weight_practical": weight,
        "crit_component": "practical",
        "crit_code": "P1",
        "crit_name": "实操",
        "crit_max": maximum,
        "crit_step": step,
        "crit_kind": "measurement",
        "crit_panel": "1",
        "crit_agg": "single",
    }
    response = post_form(organizer, f"/items/{live.other_item_id}/scheme", form)
    assert response.status_code == 422 and message in response.text
    assert run(migrated.database_url, scheme) == before


def test_an_item_with_a_superscript_team_size_is_refused_and_unchanged(organizer, migrated) -> None:
    live = published_competition(migrated.database_url)
    response = post_form(
        organizer,
        f"/items/{live.other_item_id}",
        {"name": "电工改", "skill_code": "6-31-01-03", "skill_name": "电工", "is_team": "1", "team_size": "²"},
    )
    assert response.status_code == 422 and "团队人数「²」不是整数" in response.text

    async def item(db) -> tuple[str, int]:
        row = (await db.execute(select(Item).where(Item.id == live.other_item_id))).scalar_one()
        return row.name, row.team_size

    assert run(migrated.database_url, item) == ("电工", 1)
