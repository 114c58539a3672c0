"""Property tests: whatever the results, the engine's invariants hold."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contest.domain.awards import (
    Achievement,
    BatchSettings,
    Coach,
    Competition,
    Member,
    Person,
    Result,
    compute_awards,
)
from contest.domain.money import Money

from .builders import longjiang, new_id, third, weihai

POLICIES = {"weihai": weihai(), "longjiang": longjiang(), "third": third()}
PEOPLE = [
    Person(
        id_number=new_id(f"19{80 + i}-0{1 + i % 9}-1{i % 10}"),
        name=f"人{i}",
        unit=f"单位{i % 3}",
        employment_region=("黑龙江省哈尔滨市", "某省某市", "辽宁省沈阳市")[i % 3],
        employee_status=("职工", "学生")[i % 2],
    )
    for i in range(12)
]
COMPETITIONS = [
    Competition("世界技能大赛", "world", 2024, None, frozenset({"worldskills"})),
    Competition("世赛选拔赛", "national", 2024, 1, frozenset({"worldskills_china_selection"})),
    Competition("全国职业技能大赛", "national", 2024, 1, frozenset({"national_vocational_skills_competition"})),
    Competition("省赛", "provincial", 2024, 1),
    Competition("省行业赛", "provincial", 2024, 2),
    Competition("市赛", "municipal", 2024, 1, organizer="市总工会", date=date(2024, 6, 1)),
]
RESULTS = [Result(place=p) for p in range(1, 8)] + [
    Result(place=1, medal="gold"),
    Result(excellence=True),
    Result(squad="national"),
    Result(squad="provincial"),
]


@st.composite
def achievement_lists(draw):
    count = draw(st.integers(min_value=0, max_value=14))
    out = []
    for index in range(count):
        size = draw(st.sampled_from([1, 1, 1, 2, 3]))
        members = draw(st.permutations(PEOPLE))[:size]
        shares = draw(st.one_of(st.none(), st.lists(st.integers(0, 5), min_size=size, max_size=size).filter(lambda s: sum(s) > 0)))
        n_coaches = draw(st.integers(0, 3))
        coach_people = [p for p in draw(st.permutations(PEOPLE)) if p not in members][:n_coaches]
        coach_shares = draw(st.one_of(st.none(), st.lists(st.integers(1, 9), min_size=n_coaches, max_size=n_coaches)))
        lead = draw(st.integers(0, max(0, n_coaches - 1)))
        out.append(
            Achievement(
                id=f"R{index:03d}",
                competition=draw(st.sampled_from(COMPETITIONS)),
                item="赛项",
                skill_code=draw(st.sampled_from(["S1", "S2", "S3"])),
                result=draw(st.sampled_from(RESULTS)),
                members=tuple(Member(p, Decimal(shares[i]) if shares else None) for i, p in enumerate(members)),
                coaches=tuple(
                    Coach(p, Decimal(coach_shares[i]) if coach_shares else None, lead=(i == lead)) for i, p in enumerate(coach_people)
                ),
            )
        )
    return out


@st.composite
def batch_settings(draw, policy):
    """Amounts drawn within each adjustable tier's bounds."""
    amounts = {}
    for tier in policy.tiers:
        rule = tier.competitor
        if rule.is_fixed or not draw(st.booleans()):
            continue
        low = rule.floor.fen if rule.floor is not None else 0
        high = rule.cap.fen if rule.cap is not None else low * 3
        amounts[tier.id] = Money.from_fen(draw(st.integers(low, high)))
    return BatchSettings(batch_id="P", amounts=amounts, unit_subsidy_mode=draw(st.sampled_from(["per_winner", "once_per_unit"])))


# One achievement each policy certainly pays (an eligible person's 1st place, under a skill code
# nothing else uses), so every case has lines and the properties below are never vacuous.
PAYING = {
    "weihai": (COMPETITIONS[0], PEOPLE[0]),
    "longjiang": (COMPETITIONS[0], PEOPLE[0]),
    "third": (COMPETITIONS[3], PEOPLE[4]),  # 省赛 一类; employed in 某省某市, 职工, 40 years old
}


@st.composite
def with_a_paid_achievement(draw, name):
    achievements = draw(achievement_lists())
    competition, person = PAYING[name]
    paid = Achievement(id="PAID", competition=competition, item="赛项", skill_code="S0", result=RESULTS[0], members=(Member(person),))
    achievements.insert(draw(st.integers(0, len(achievements))), paid)
    return achievements


CASES = st.sampled_from(sorted(POLICIES)).flatmap(
    lambda name: st.tuples(st.just(name), with_a_paid_achievement(name), batch_settings(POLICIES[name]))
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(CASES)
def test_nobody_is_paid_twice_for_one_skill_in_a_batch(case) -> None:
    name, achievements, batch = case
    outcome = compute_awards(POLICIES[name], achievements, batch)
    counts = Counter((line.recipient_id, line.skill_code) for line in outcome.lines if line.role == "competitor")
    assert all(n == 1 for n in counts.values()), counts


@FAST
@given(CASES)
def test_every_competitor_is_paid_or_listed_with_a_reason(case) -> None:
    name, achievements, batch = case
    outcome = compute_awards(POLICIES[name], achievements, batch)
    seen = Counter((line.achievement_id, line.recipient_id) for line in outcome.lines if line.role == "competitor")
    seen.update((e.achievement_id, e.recipient_id) for e in outcome.excluded if e.role == "competitor")
    expected = Counter((a.id, m.person.id_number) for a in achievements for m in a.members)
    assert seen == expected
    assert all(e.reason for e in outcome.excluded)


@FAST
@given(CASES)
def test_split_lines_add_up_to_the_award(case) -> None:
    name, achievements, batch = case
    policy = POLICIES[name]
    outcome = compute_awards(policy, achievements, batch)
    by_achievement = {a.id: a for a in achievements}
    assert outcome.lines, "the case's paid achievement produced no line"
    checked = 0
    for achievement_id in {line.achievement_id for line in outcome.lines}:
        achievement = by_achievement[achievement_id]
        lines = [line for line in outcome.lines if line.achievement_id == achievement_id]
        tier = policy.tier(lines[0].tier_id)
        assert tier.competitor is not None  # it paid: not an honour-only tier
        award = batch.amounts.get(tier.id, tier.competitor.default_amount())
        coaches = [line for line in lines if line.role == "coach"]
        if coaches and policy.rules.coach_split != "per_person":
            team_rule = tier.rule_for("coach_team")
            assert team_rule is not None
            team = award if tier.coach_same_as_competitor else team_rule.default_amount()
            assert Money.total(line.entitled for line in coaches) == team
            checked += 1
        competitors = [line for line in lines if line.role == "competitor"]
        if len(competitors) == len(achievement.members):  # nobody left out: the whole award is split
            if len(competitors) == 1 or policy.rules.team_split == "per_person":
                assert all(line.entitled == award for line in competitors)
            else:
                assert Money.total(line.entitled for line in competitors) == award
            checked += 1
    # Nothing to split only when the batch set the paid tier's amount to 0: its competitor is then
    # listed as excluded with that reason (a unit subsidy may still be paid).
    zeroed = [e for e in outcome.excluded if e.achievement_id == "PAID" and e.role == "competitor"]
    assert checked or (zeroed and all("0 元" in e.reason for e in zeroed)), "no line was checked"


@FAST
@given(CASES)
def test_amounts_stay_within_bounds(case) -> None:
    name, achievements, batch = case
    policy = POLICIES[name]
    outcome = compute_awards(policy, achievements, batch)
    by_achievement = {a.id: a for a in achievements}
    assert outcome.lines, "the case's paid achievement produced no line"
    bounded = 0
    for line in outcome.lines:
        assert Money("0") < line.amount <= line.entitled
        tier = policy.tier(line.tier_id)
        team = len(by_achievement[line.achievement_id].members) > 1
        if line.role == "competitor" and (not team or policy.rules.team_split == "per_person"):
            assert tier.competitor is not None and tier.competitor.check(line.entitled) is None
            bounded += 1
        if line.role == "unit":
            assert tier.unit is not None and tier.unit.check(line.entitled) is None
            bounded += 1
    assert bounded, "no amount was checked against its tier's bounds"


@FAST
@given(CASES, st.randoms(use_true_random=False))
def test_same_input_gives_byte_identical_json(case, rnd: random.Random) -> None:
    name, achievements, batch = case
    first = compute_awards(POLICIES[name], achievements, batch).to_json()
    assert compute_awards(POLICIES[name], list(achievements), batch).to_json() == first
    shuffled = list(achievements)
    rnd.shuffle(shuffled)  # and the order of the input does not matter either
    assert compute_awards(POLICIES[name], shuffled, batch).to_json() == first


@FAST
@given(CASES)
def test_a_batch_replayed_against_its_own_ledger_pays_nothing_more(case) -> None:
    name, achievements, batch = case
    policy = POLICIES[name]
    first = compute_awards(policy, achievements, batch)
    again = compute_awards(policy, achievements, batch, first.ledger_entries())
    assert again.lines == []
    assert len([e for e in again.excluded if e.status == "already_paid"]) == len(first.lines)
