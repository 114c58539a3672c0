"""Small builders for award-engine tests: valid fictional IDs, people, competitions."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from pathlib import Path

from contest.awards.policies import load_policy_file
from contest.domain.awards import (
    Achievement,
    Coach,
    Competition,
    Member,
    Person,
    Policy,
)
from contest.domain.awards.inputs import parse_result
from contest.domain.idcard import check_digit

REPO = Path(__file__).resolve().parents[3]
WEIHAI = REPO / "seeds" / "policies" / "jinengxingwei-weihai-2021.toml"
LONGJIANG = REPO / "seeds" / "policies" / "longjisaichang-heilongjiang-2022.toml"
THIRD = REPO / "seeds" / "policies" / "examples" / "third-city-4to6.toml"

_serials = itertools.count(1)


def new_id(birth: str = "1995-06-15", region: str = "230103") -> str:
    first17 = f"{region}{birth.replace('-', '')}{next(_serials) % 1000:03d}"
    return first17 + check_digit(first17)


def person(
    name: str = "张三",
    *,
    region: str = "黑龙江省哈尔滨市",
    unit: str = "哈尔滨技师学院",
    status: str = "职工",
    birth: str = "1995-06-15",
    birth_date: date | None = None,
    id_number: str | None = None,
) -> Person:
    return Person(
        id_number=id_number or new_id(birth), name=name, unit=unit, employment_region=region, employee_status=status, birth_date=birth_date
    )


def competition(
    level: str,
    klass: int | None = 1,
    kinds: tuple[str, ...] = (),
    *,
    year: int = 2023,
    name: str | None = None,
    organizer: str = "",
    when: date | None = None,
) -> Competition:
    return Competition(
        name=name or f"{year}年{level}竞赛",
        level=level,
        year=year,
        competition_class=klass,
        kinds=frozenset(kinds),
        organizer=organizer,
        date=when,
    )


WORLDSKILLS = competition("world", None, ("worldskills",), name="第47届世界技能大赛", year=2024)
SELECTION = competition("national", 1, ("worldskills_china_selection",), name="世赛全国选拔赛")
NATIONAL_CLASS1 = competition("national", 1, ("national_class1",), name="全国行业职业技能竞赛")
NATIONAL_COMPETITION = competition("national", 1, ("national_vocational_skills_competition",), name="全国职业技能大赛")
PROVINCIAL_1 = competition("provincial", 1, name="省职业技能大赛")
PROVINCIAL_2 = competition("provincial", 2, name="省行业竞赛")
MUNICIPAL_1 = competition("municipal", 1, name="市职业技能竞赛", organizer="威海市总工会")

_achievement_ids = itertools.count(1)


def achievement(
    comp: Competition,
    result: str = "第1名",
    *,
    skill: str = "6-18-02-04",
    members: list[Person] | None = None,
    coaches: list[Person] | None = None,
    member_shares: list[str] | None = None,
    coach_shares: list[str] | None = None,
    lead: int | None = None,
    item: str = "焊工",
    id: str | None = None,
) -> Achievement:
    members = members if members is not None else [person()]
    coaches = coaches or []
    return Achievement(
        id=id or f"A{next(_achievement_ids):05d}",
        competition=comp,
        item=item,
        skill_code=skill,
        result=parse_result(result),
        members=tuple(Member(p, Decimal(member_shares[i]) if member_shares else None) for i, p in enumerate(members)),
        coaches=tuple(Coach(p, Decimal(coach_shares[i]) if coach_shares else None, lead=(i == lead)) for i, p in enumerate(coaches)),
    )


def weihai() -> Policy:
    return load_policy_file(WEIHAI)


def longjiang() -> Policy:
    return load_policy_file(LONGJIANG)


def third() -> Policy:
    return load_policy_file(THIRD)
