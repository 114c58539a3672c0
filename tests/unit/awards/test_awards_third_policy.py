"""A third city's schedule, written as data only (seeds/policies/examples/third-city-4to6.toml)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contest.domain.awards import AwardError, BatchSettings, compute_awards
from contest.domain.money import Money

from .builders import achievement, competition, person, third

CITY: dict[str, Any] = {"region": "某省某市甲区"}
MUNICIPAL = competition("municipal", 1, year=2024, when=date(2024, 5, 20))
PROVINCIAL = competition("provincial", 1, year=2024, when=date(2024, 6, 1))


@pytest.mark.parametrize(
    ("place", "tier", "amount"),
    [
        ("第4名", "municipal-4th-6th", "500.50"),
        ("第5名", "municipal-4th-6th", "500.50"),
        ("第6名", "municipal-4th-6th", "500.50"),
        ("第1名", "municipal-1st-3rd", "1000"),
    ],
)
def test_pays_fourth_to_sixth_place(place, tier, amount) -> None:
    [line] = compute_awards(third(), [achievement(MUNICIPAL, place, members=[person(**CITY)])]).lines
    assert (line.tier_id, line.amount, line.payer) == (tier, Money(amount), "某市人力资源和社会保障局")


def test_seventh_place_is_outside() -> None:
    outcome = compute_awards(third(), [achievement(MUNICIPAL, "第7名", members=[person(**CITY)])])
    assert outcome.lines == [] and outcome.excluded[0].status == "not_covered"


def test_only_employees_of_the_city_aged_18_to_45() -> None:
    student = person("学生", status="学生", **CITY)
    elsewhere = person("外地职工", region="外省某市")
    too_old = person("年长职工", birth="1970-01-01", **CITY)
    young_ok = person("青年职工", birth="2006-05-20", **CITY)  # 18 on the competition day
    too_young = person("未满18", birth="2006-05-21", **CITY)
    outcome = compute_awards(
        third(), [achievement(MUNICIPAL, "第4名", members=[p], skill=p.name) for p in (student, elsewhere, too_old, young_ok, too_young)]
    )
    assert [line.recipient_name for line in outcome.lines] == ["青年职工"]
    reasons = {e.recipient_name: e.reason for e in outcome.excluded}
    assert "学生" in reasons["学生"] and "职工" in reasons["学生"]
    assert "外省某市" in reasons["外地职工"]
    assert "超过 45 岁" in reasons["年长职工"]
    assert "低于 18 岁" in reasons["未满18"]


def test_fixed_coach_amount_per_coach_and_unit_once_per_batch() -> None:
    coaches = [person("教练甲"), person("教练乙")]
    a = person("甲", unit="某厂", **CITY)
    b = person("乙", unit="某厂", **CITY)
    outcome = compute_awards(
        third(),
        [
            achievement(PROVINCIAL, "第1名", members=[a], coaches=coaches, skill="S1"),
            achievement(PROVINCIAL, "第2名", members=[b], skill="S2"),
        ],
        BatchSettings(batch_id="B"),
    )
    assert sorted(line.amount for line in outcome.lines if line.role == "coach") == [Money("1000")] * 2
    assert [line.amount for line in outcome.lines if line.role == "unit"] == [Money("20000")]
    assert [h.recipient_name for h in outcome.honours] == ["甲"]


def test_team_equal_split_and_cap_with_explicit_default() -> None:
    team = [person("甲", **CITY), person("乙", **CITY), person("丙", **CITY)]
    outcome = compute_awards(third(), [achievement(PROVINCIAL, "第3名", members=team)])
    amounts = sorted((line.amount for line in outcome.lines if line.role == "competitor"), reverse=True)
    assert amounts == [Money("1333.34"), Money("1333.33"), Money("1333.33")]  # default 4,000 split
    with pytest.raises(AwardError):
        compute_awards(
            third(), [achievement(PROVINCIAL, "第3名", members=team)], BatchSettings(amounts={"provincial-2nd-3rd": Money("5000.01")})
        )


def test_range_tier_checks_floor_and_cap() -> None:
    ach = achievement(MUNICIPAL, "第2名", members=[person(**CITY)])
    for bad in ("999.99", "3000.01"):
        with pytest.raises(AwardError):
            compute_awards(third(), [ach], BatchSettings(amounts={"municipal-1st-3rd": Money(bad)}))
    [line] = compute_awards(third(), [ach], BatchSettings(amounts={"municipal-1st-3rd": Money("3000")})).lines
    assert line.amount == Money("3000")


def test_out_of_force_after_until() -> None:
    late = competition("municipal", 1, year=2027)
    outcome = compute_awards(third(), [achievement(late, "第4名", members=[person(**CITY)])])
    assert [e.status for e in outcome.excluded] == ["out_of_force"]
