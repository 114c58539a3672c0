"""Every tier of both source policies, with amounts taken from the policy texts."""

from __future__ import annotations

import pytest

from contest.domain.awards import compute_awards
from contest.domain.money import Money

from .builders import (
    MUNICIPAL_1,
    NATIONAL_CLASS1,
    NATIONAL_COMPETITION,
    PROVINCIAL_1,
    PROVINCIAL_2,
    SELECTION,
    WORLDSKILLS,
    achievement,
    competition,
    longjiang,
    person,
    weihai,
)

CITY = "威海市人力资源和社会保障局、威海市财政局"

# 威人社字〔2021〕16号 第18条: (competition, result, tier, competitor default, unit subsidy, payer)
WEIHAI_CASES = [
    (WORLDSKILLS, "金牌", "worldskills-excellence-or-better", "100000", "100000", CITY),
    (WORLDSKILLS, "银牌", "worldskills-excellence-or-better", "100000", "100000", CITY),
    (WORLDSKILLS, "铜牌", "worldskills-excellence-or-better", "100000", "100000", CITY),
    (WORLDSKILLS, "优胜奖", "worldskills-excellence-or-better", "100000", "100000", CITY),
    (SELECTION, "第1名", "worldskills-china-selection-top3", "100000", "100000", CITY),
    (SELECTION, "第3名", "worldskills-china-selection-top3", "100000", "100000", CITY),
    (NATIONAL_CLASS1, "第1名", "national-class1-top3", "100000", "100000", CITY),
    (NATIONAL_COMPETITION, "第2名", "national-class1-top3", "100000", "100000", CITY),
    (NATIONAL_CLASS1, "第3名", "national-class1-top3", "100000", "100000", CITY),
    (SELECTION, "国家集训队", "worldskills-national-squad", "10000", None, CITY),
    (PROVINCIAL_1, "省集训队", "shandong-squad", "5000", None, CITY),
    (PROVINCIAL_1, "第1名", "provincial-class1-1st", "5000", None, CITY),
    (PROVINCIAL_1, "第2名", "provincial-class1-2nd", "3000", None, CITY),
    (PROVINCIAL_1, "第3名", "provincial-class1-3rd", "2000", None, CITY),
    (MUNICIPAL_1, "第1名", "municipal-class1-1st", "2000", None, "威海市总工会"),
    (MUNICIPAL_1, "第2名", "municipal-class1-2nd", "1500", None, "威海市总工会"),
    (MUNICIPAL_1, "第3名", "municipal-class1-3rd", "1000", None, "威海市总工会"),
]


@pytest.mark.parametrize(("comp", "result", "tier", "amount", "unit", "payer"), WEIHAI_CASES)
def test_weihai_tier(comp, result, tier, amount, unit, payer) -> None:
    winner = person("选手", unit="威海职业学院")
    outcome = compute_awards(weihai(), [achievement(comp, result, members=[winner])])
    competitor = [line for line in outcome.lines if line.role == "competitor"]
    assert len(competitor) == 1
    line = competitor[0]
    assert (line.tier_id, line.amount, line.payer) == (tier, Money(amount), payer)
    assert line.recipient_id == winner.id_number
    assert "威人社字〔2021〕16号" in line.basis and weihai().tier(tier).source in line.basis
    units = [line for line in outcome.lines if line.role == "unit"]
    if unit is None:
        assert units == []
    else:
        assert [(u.recipient_name, u.amount, u.payer) for u in units] == [("威海职业学院", Money(unit), CITY)]
    assert outcome.excluded == []


@pytest.mark.parametrize(
    ("comp", "result"),
    [
        (WORLDSKILLS, "第4名"),
        (SELECTION, "第4名"),
        (SELECTION, "优胜奖"),
        (PROVINCIAL_2, "第1名"),
        (PROVINCIAL_1, "第4名"),
        (PROVINCIAL_1, "优胜奖"),
        (competition("municipal", 2), "第1名"),
        (competition("national", 2), "第1名"),
        (MUNICIPAL_1, "第4名"),
    ],
)
def test_weihai_results_outside_the_policy_are_listed_not_dropped(comp, result) -> None:
    winner = person()
    outcome = compute_awards(weihai(), [achievement(comp, result, members=[winner])])
    assert outcome.lines == []
    assert [(e.status, e.recipient_id) for e in outcome.excluded] == [("not_covered", winner.id_number)]
    assert "不在本政策奖励范围" in outcome.excluded[0].reason


# “技能龙江行动” 第31条: (competition, result, tier, amount for the competitor and the coaching team)
LONGJIANG_CASES = [
    (WORLDSKILLS, "金牌", "worldskills-1st", "500000"),
    (WORLDSKILLS, "第2名", "worldskills-2nd", "200000"),
    (WORLDSKILLS, "铜牌", "worldskills-3rd", "100000"),
    (NATIONAL_COMPETITION, "第1名", "national-competition-1st", "100000"),
    (NATIONAL_COMPETITION, "第2名", "national-competition-2nd", "50000"),
    (NATIONAL_COMPETITION, "第3名", "national-competition-3rd", "20000"),
    (PROVINCIAL_1, "第1名", "provincial-class1-1st", "20000"),
    (PROVINCIAL_1, "第2名", "provincial-class1-2nd", "10000"),
    (PROVINCIAL_1, "第3名", "provincial-class1-3rd", "5000"),
]


@pytest.mark.parametrize(("comp", "result", "tier", "amount"), LONGJIANG_CASES)
def test_longjiang_tier_pays_competitor_and_coaching_team_the_same(comp, result, tier, amount) -> None:
    winner, coach = person("选手"), person("教练")
    outcome = compute_awards(longjiang(), [achievement(comp, result, members=[winner], coaches=[coach])])
    paid = {(line.role, line.recipient_id): line for line in outcome.lines}
    assert set(paid) == {("competitor", winner.id_number), ("coach", coach.id_number)}
    for line in paid.values():
        assert line.tier_id == tier
        assert line.amount == Money(amount)
        assert line.payer == "黑龙江省人力资源和社会保障厅"
        assert longjiang().tier(tier).source in line.basis
    # non-cash outcomes are listed for the winner
    assert {h.honour_id for h in outcome.honours} == {
        "skill-level-promotion",
        "recommend-longjiang-technical-expert",
        "recommend-provincial-may-day-medal",
    }
    assert {h.recipient_id for h in outcome.honours} == {winner.id_number}


@pytest.mark.parametrize(
    ("comp", "result"),
    [
        (WORLDSKILLS, "优胜奖"),
        (WORLDSKILLS, "第4名"),
        (SELECTION, "第1名"),
        (NATIONAL_CLASS1, "第1名"),
        (NATIONAL_COMPETITION, "第4名"),
        (PROVINCIAL_2, "第1名"),
        (MUNICIPAL_1, "第1名"),
        (SELECTION, "国家集训队"),
    ],
)
def test_longjiang_results_outside_the_policy(comp, result) -> None:
    winner, coach = person(), person("教练")
    outcome = compute_awards(longjiang(), [achievement(comp, result, members=[winner], coaches=[coach])])
    assert outcome.lines == [] and outcome.honours == []
    assert sorted((e.role, e.status) for e in outcome.excluded) == [("coach", "not_covered"), ("competitor", "not_covered")]
