"""The lean forms that keep a 100,000-achievement batch small: shared inputs, compact excluded lines."""

from __future__ import annotations

from decimal import Decimal

from contest.domain.awards import Coach, ExcludedLine, InputPool, Member
from contest.domain.awards.inputs import achievements_from_json
from contest.domain.money import Money

from .builders import PROVINCIAL_1, achievement, person


def test_pool_shares_equal_people_members_and_coaches() -> None:
    pool = InputPool()
    one = person("李四")
    again = person("李四", id_number=one.id_number)
    assert again is not one and again == one
    first = pool.member(Member(one))
    assert pool.member(Member(again)) is first
    assert pool.person(again) is one
    assert pool.members((first,)) is pool.members((first,))
    lead = pool.coach(Coach(one, Decimal(1), lead=True))
    assert pool.coach(Coach(again, Decimal(1), lead=True)) is lead
    assert pool.coach(Coach(one, Decimal(1), lead=False)) is not lead
    # 1 and 1.0 are equal Decimals but are written differently (notes quote them)
    assert str(pool.coach(Coach(one, Decimal("1.0"), lead=True)).share) == "1.0"


def test_json_loader_shares_people_across_achievements() -> None:
    raw = {"id_number": person().id_number, "name": "王五", "unit": "单位甲"}
    entry = {
        "competition": {"name": "省赛", "level": "省级", "year": 2023, "class": 1},
        "item": "焊工",
        "skill_code": "6-18-02-04",
        "result": "第1名",
        "members": [raw],
        "coaches": [raw],
    }
    first, second = achievements_from_json([{**entry, "id": "A1"}, {**entry, "id": "A2"}])
    assert first.members[0] is second.members[0]
    assert first.members is second.members
    assert first.coaches[0] is second.coaches[0]
    assert first.members[0].person is first.coaches[0].person


def test_person_text_is_shared() -> None:
    city, school = "哈尔滨", "技师学院"
    a, b = person(unit=f"{city}{school}"), person(unit=f"{city}{school}")
    assert a.unit is b.unit


def test_excluded_line_keeps_its_dataclass_behaviour() -> None:
    who = person()
    done = achievement(PROVINCIAL_1, members=[who])
    line = ExcludedLine("ineligible", "原因", "competitor", who, done, "t1", Money("100"))
    assert (line.status, line.reason, line.role, line.tier_id, line.amount) == ("ineligible", "原因", "competitor", "t1", Money("100"))
    assert line.recipient_id == who.id_number and line.achievement_id == done.id
    assert line == ExcludedLine.shared(("ineligible", "原因", "competitor", "t1"), who, done, Money("100"))
    assert line != ExcludedLine("superseded", "原因", "competitor", who, done, "t1", Money("100"))
    assert repr(line).startswith("ExcludedLine(status='ineligible', reason='原因', role='competitor', person=")
    line.status = "superseded"
    line.tier_id = "t2"
    assert line.to_json()["status"] == "superseded" and line.to_json()["tier_id"] == "t2"
    assert ExcludedLine("not_covered", "r", "coach", who, done).to_json()["amount"] is None
