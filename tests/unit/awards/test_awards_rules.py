"""The engine's rules: no double award, splits, eligibility, caps and floors, ties, units."""

from __future__ import annotations

from datetime import date

import pytest

from contest.domain.awards import AwardError, BatchSettings, compute_awards
from contest.domain.money import Money

from .builders import (
    MUNICIPAL_1,
    NATIONAL_CLASS1,
    NATIONAL_COMPETITION,
    PROVINCIAL_1,
    SELECTION,
    WORLDSKILLS,
    achievement,
    competition,
    longjiang,
    person,
    weihai,
)


def paid(outcome, role=None):
    return {(line.recipient_id, line.role): line.amount for line in outcome.lines if role is None or line.role == role}


# --- no double award ----------------------------------------------------------------------
def test_same_skill_at_two_levels_pays_only_the_highest() -> None:
    winner = person()
    national = achievement(NATIONAL_COMPETITION, "第1名", members=[winner], skill="S-WELD")
    provincial = achievement(PROVINCIAL_1, "第1名", members=[winner], skill="S-WELD")
    outcome = compute_awards(longjiang(), [provincial, national])
    assert paid(outcome) == {(winner.id_number, "competitor"): Money("100000")}
    [superseded] = outcome.excluded
    assert superseded.status == "superseded" and superseded.achievement_id == provincial.id
    assert national.id in superseded.reason and "不重复奖励" in superseded.reason


def test_different_skills_are_both_paid() -> None:
    winner = person()
    outcome = compute_awards(
        longjiang(),
        [
            achievement(PROVINCIAL_1, "第1名", members=[winner], skill="S-A"),
            achievement(PROVINCIAL_1, "第2名", members=[winner], skill="S-B"),
        ],
    )
    assert sorted(line.amount for line in outcome.lines) == [Money("10000"), Money("20000")]


def test_highest_is_by_award_not_input_order_weihai_squad_vs_provincial() -> None:
    winner = person()
    squad = achievement(SELECTION, "国家集训队", members=[winner], skill="WS-10")
    provincial = achievement(PROVINCIAL_1, "第1名", members=[winner], skill="WS-10")
    for order in ([squad, provincial], [provincial, squad]):
        outcome = compute_awards(weihai(), order)
        assert [(line.tier_id, line.amount) for line in outcome.lines] == [("worldskills-national-squad", Money("10000"))]


def test_equal_awards_prefer_the_higher_tier() -> None:
    # 龙技赛场: WorldSkills 3rd and 全国职业技能大赛 1st are both 100,000; the world result counts
    winner = person()
    world = achievement(WORLDSKILLS, "铜牌", members=[winner], skill="WS-10", id="Z-world")
    national = achievement(NATIONAL_COMPETITION, "第1名", members=[winner], skill="WS-10", id="A-nat")
    outcome = compute_awards(longjiang(), [national, world])
    assert [line.achievement_id for line in outcome.lines] == ["Z-world"]


def test_superseded_result_takes_its_coaches_and_unit_with_it() -> None:
    winner, coach_a, coach_b = person(), person("甲教练"), person("乙教练")
    high = achievement(NATIONAL_COMPETITION, "第2名", members=[winner], coaches=[coach_b])
    low = achievement(PROVINCIAL_1, "第1名", members=[winner], coaches=[coach_a])
    outcome = compute_awards(longjiang(), [low, high])
    assert paid(outcome, "coach") == {(coach_b.id_number, "coach"): Money("50000")}
    follows = [e for e in outcome.excluded if e.role == "coach"]
    assert [(e.recipient_id, e.status) for e in follows] == [(coach_a.id_number, "follows_competitor")]


# --- coaching team ------------------------------------------------------------------------
def test_coaching_team_split_by_shares_remainder_to_lead() -> None:
    coaches = [person("甲"), person("乙"), person("丙")]
    ach = achievement(PROVINCIAL_1, "第3名", coaches=coaches, coach_shares=["1", "1", "1"], lead=2)
    outcome = compute_awards(longjiang(), [ach])
    amounts = paid(outcome, "coach")
    # 5,000.00 in thirds: 1,666.66 each and the 2 fen left over to the lead coach (丙)
    assert amounts[(coaches[2].id_number, "coach")] == Money("1666.68")
    assert amounts[(coaches[0].id_number, "coach")] == Money("1666.66")
    assert amounts[(coaches[1].id_number, "coach")] == Money("1666.66")
    assert sum(amounts.values()) == Money("5000")


def test_coaching_team_declared_shares() -> None:
    coaches = [person("甲"), person("乙")]
    ach = achievement(NATIONAL_COMPETITION, "第1名", coaches=coaches, coach_shares=["70", "30"])
    amounts = paid(compute_awards(longjiang(), [ach]), "coach")
    assert amounts == {(coaches[0].id_number, "coach"): Money("70000"), (coaches[1].id_number, "coach"): Money("30000")}


def test_coaching_team_equal_by_default() -> None:
    coaches = [person("甲"), person("乙"), person("丙"), person("丁")]
    amounts = paid(compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第1名", coaches=coaches)]), "coach")
    assert set(amounts.values()) == {Money("5000")}


# --- team items ---------------------------------------------------------------------------
def test_team_per_entry_split_longjiang() -> None:
    team = [person("队长"), person("队员一"), person("队员二")]
    outcome = compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第2名", members=team)])
    amounts = paid(outcome, "competitor")
    assert amounts[(team[0].id_number, "competitor")] == Money("3333.34")  # captain takes the fen
    assert amounts[(team[1].id_number, "competitor")] == Money("3333.33")
    assert sum(amounts.values()) == Money("10000")


def test_team_per_entry_split_by_member_shares() -> None:
    team = [person("队长"), person("队员")]
    ach = achievement(PROVINCIAL_1, "第1名", members=team, member_shares=["3", "1"])
    amounts = paid(compute_awards(longjiang(), [ach]), "competitor")
    assert amounts == {(team[0].id_number, "competitor"): Money("15000"), (team[1].id_number, "competitor"): Money("5000")}


def test_team_per_person_weihai() -> None:
    team = [person("甲", unit="单位一"), person("乙", unit="单位一"), person("丙", unit="单位二")]
    outcome = compute_awards(weihai(), [achievement(PROVINCIAL_1, "第1名", members=team)])
    assert list(paid(outcome, "competitor").values()) == [Money("5000")] * 3


def test_team_unit_subsidy_once_per_unit_in_the_entry() -> None:
    team = [person("甲", unit="单位一"), person("乙", unit="单位一"), person("丙", unit="单位二")]
    outcome = compute_awards(weihai(), [achievement(SELECTION, "第1名", members=team)])
    assert sorted((line.recipient_name, line.amount) for line in outcome.lines if line.role == "unit") == [
        ("单位一", Money("100000")),
        ("单位二", Money("100000")),
    ]


# --- unit subsidy modes ---------------------------------------------------------------------
def test_unit_subsidy_per_winner_and_once_per_unit() -> None:
    a, b = person("甲", unit="威海职业学院"), person("乙", unit="威海职业学院")
    results = [achievement(SELECTION, "第1名", members=[a], skill="X"), achievement(WORLDSKILLS, "优胜奖", members=[b], skill="Y")]
    per_winner = compute_awards(weihai(), results)
    assert [line.amount for line in per_winner.lines if line.role == "unit"] == [Money("100000")] * 2
    once = compute_awards(weihai(), results, BatchSettings(batch_id="B1", unit_subsidy_mode="once_per_unit"))
    assert [line.amount for line in once.lines if line.role == "unit"] == [Money("100000")]
    [skipped] = [e for e in once.excluded if e.role == "unit"]
    assert skipped.status == "superseded" and "每单位每批次一次" in skipped.reason


# --- eligibility ----------------------------------------------------------------------------
def test_out_of_province_winner_gets_nothing_with_the_reason() -> None:
    outsider, coach = person("外省选手", region="辽宁省沈阳市"), person("教练")
    outcome = compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第1名", members=[outsider], coaches=[coach])])
    assert outcome.lines == [] and outcome.honours == []
    by_role = {e.role: e for e in outcome.excluded}
    assert by_role["competitor"].status == "ineligible"
    assert "辽宁省沈阳市" in by_role["competitor"].reason and "在省内就业" in by_role["competitor"].reason
    assert by_role["competitor"].amount == Money("20000")  # what it would have been
    assert by_role["coach"].status == "follows_competitor"


def test_missing_region_is_ineligible_not_assumed() -> None:
    outcome = compute_awards(longjiang(), [achievement(PROVINCIAL_1, members=[person(region="")])])
    assert [e.status for e in outcome.excluded] == ["ineligible"]
    assert "未填写" in outcome.excluded[0].reason


def test_team_with_one_member_out_of_province_pays_the_others_their_share() -> None:
    team = [person("甲"), person("乙", region="吉林省长春市")]
    outcome = compute_awards(longjiang(), [achievement(PROVINCIAL_1, "第1名", members=team, coaches=[person("教练")])])
    assert paid(outcome, "competitor") == {(team[0].id_number, "competitor"): Money("10000")}
    assert [e.recipient_id for e in outcome.excluded] == [team[1].id_number]
    assert list(paid(outcome, "coach").values()) == [Money("20000")]


# --- caps and floors ------------------------------------------------------------------------
def test_cap_defaults_to_the_cap_and_accepts_a_lower_amount() -> None:
    ach = achievement(NATIONAL_CLASS1, "第2名")
    assert paid(compute_awards(weihai(), [ach]), "competitor") == {(ach.members[0].person.id_number, "competitor"): Money("100000")}
    chosen = BatchSettings(amounts={"national-class1-top3": Money("60000")})
    assert list(paid(compute_awards(weihai(), [ach], chosen), "competitor").values()) == [Money("60000")]
    one = BatchSettings(achievement_amounts={ach.id: Money("0.01")})
    assert list(paid(compute_awards(weihai(), [ach], one), "competitor").values()) == [Money("0.01")]


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        (BatchSettings(amounts={"national-class1-top3": Money("100000.01")}), "“国家级一类职业技能竞赛项目前3名·选手”"),
        (BatchSettings(amounts={"municipal-class1-2nd": Money("1499.99")}), "“市级一类职业技能竞赛项目第2名·选手”"),
        (BatchSettings(amounts={"provincial-class1-1st": Money("6000")}), "固定金额"),  # fixed amount
        (BatchSettings(amounts={"no-such-tier": Money("1")}), "没有档次 'no-such-tier'"),  # the key the user wrote
        (BatchSettings(amounts={"national-class1-top3.unit": Money("50000")}), "·选送单位”"),  # unit subsidy is fixed
    ],
)
def test_amount_outside_its_bound_is_an_error_not_a_clamp(settings, named) -> None:
    with pytest.raises(AwardError) as caught:
        compute_awards(weihai(), [achievement(NATIONAL_CLASS1, "第1名")], settings)
    message = str(caught.value)
    assert "金额设置" in message and named in message  # the tier by its title, not its id


def test_per_achievement_amount_over_cap_is_an_error() -> None:
    ach = achievement(WORLDSKILLS, "优胜奖")
    with pytest.raises(AwardError, match="超过上限"):
        compute_awards(weihai(), [ach], BatchSettings(achievement_amounts={ach.id: Money("120000")}))
    with pytest.raises(AwardError, match="没有这个成绩编号"):
        compute_awards(weihai(), [ach], BatchSettings(achievement_amounts={"nope": Money("1")}))


def test_floor_defaults_to_the_floor_and_accepts_more() -> None:
    ach = achievement(MUNICIPAL_1, "第1名")
    assert [line.amount for line in compute_awards(weihai(), [ach]).lines] == [Money("2000")]
    more = BatchSettings(amounts={"municipal-class1-1st": Money("2500.50")})
    assert [line.amount for line in compute_awards(weihai(), [ach], more).lines] == [Money("2500.50")]


def test_zero_chosen_is_listed_not_paid() -> None:
    ach = achievement(NATIONAL_CLASS1, "第1名")
    outcome = compute_awards(weihai(), [ach], BatchSettings(achievement_amounts={ach.id: Money("0")}))
    assert [line.role for line in outcome.lines] == ["unit"]
    assert [e.status for e in outcome.excluded] == ["zero_amount"]


# --- ties -----------------------------------------------------------------------------------
def test_tied_second_places_both_get_the_second_amount_and_there_is_no_third() -> None:
    first, second_a, second_b = person("冠军"), person("并列亚军甲"), person("并列亚军乙")
    item = [
        achievement(PROVINCIAL_1, "第1名", members=[first], skill="T"),
        achievement(PROVINCIAL_1, "第2名", members=[second_a], skill="T"),
        achievement(PROVINCIAL_1, "第2名", members=[second_b], skill="T"),
    ]
    amounts = paid(compute_awards(longjiang(), item), "competitor")
    assert amounts == {
        (first.id_number, "competitor"): Money("20000"),
        (second_a.id_number, "competitor"): Money("10000"),
        (second_b.id_number, "competitor"): Money("10000"),
    }
    assert not any(line.tier_id.endswith("3rd") for line in compute_awards(longjiang(), item).lines)


def test_tied_gold_medals_at_worldskills() -> None:
    a, b = person("甲"), person("乙")
    outcome = compute_awards(
        longjiang(), [achievement(WORLDSKILLS, "金牌", members=[a], skill="W"), achievement(WORLDSKILLS, "金牌", members=[b], skill="W")]
    )
    assert list(paid(outcome).values()) == [Money("500000")] * 2


# --- dates in force, payer ---------------------------------------------------------------------
def test_competition_before_the_policy_is_listed_out_of_force() -> None:
    early = competition("provincial", 1, year=2022, when=date(2022, 7, 1))
    outcome = compute_awards(longjiang(), [achievement(early, "第1名")])
    assert [e.status for e in outcome.excluded] == ["out_of_force"]
    same_year_no_date = competition("provincial", 1, year=2022)
    assert len(compute_awards(longjiang(), [achievement(same_year_no_date)]).lines) == 1


def test_organizer_pays_municipal_and_missing_organizer_is_flagged() -> None:
    no_organizer = competition("municipal", 1, organizer="")
    [line] = compute_awards(weihai(), [achievement(no_organizer, "第2名")]).lines
    assert "主办单位未填写" in line.payer and any("主办单位未填写" in n for n in line.notes)


def test_duplicate_achievement_ids_are_refused() -> None:
    a = achievement(PROVINCIAL_1, id="SAME")
    b = achievement(PROVINCIAL_1, id="SAME", members=[person("乙")])
    with pytest.raises(AwardError, match="重复"):
        compute_awards(longjiang(), [a, b])
